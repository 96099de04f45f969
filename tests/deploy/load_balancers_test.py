#!/usr/bin/env python3
"""deploy/haproxy and deploy/nginx, checked by their tools and run for real.

Two static snowflaked nodes behind each balancer (the shipped configs with
their `server` lines and ports rewritten, as deploy/local-cluster does):
every request succeeds and both nodes serve; after one node is SIGKILLed,
nginx loses no request (proxy_next_upstream), HAProxy under 1 % (retry-on
and redispatch), HAProxy's check marks the node DOWN within ~2 s, and every
ID seen is distinct.

Run from the repository root with SNOWFLAKED_BIN set (CTest does both).
"""

import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.getcwd()
sys.path.insert(0, os.path.join(REPO, "deploy"))
from render import free_port, render_haproxy, render_nginx  # noqa: E402

HAPROXY_CFG = os.path.join(REPO, "deploy/haproxy/haproxy.cfg")
NGINX_CONF = os.path.join(REPO, "deploy/nginx/nginx.conf")
REQUESTS = 200
# The default layout's worker field: 10 bits above a 12-bit sequence.
WORKER_SHIFT, WORKER_MASK = 12, 0x3FF


# --- Processes and HTTP.



def http_get(url, timeout=5.0):
    """(status, body) of a GET; status 0 if no HTTP answer came."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


def wait_for(what, predicate, deadline_s, proc=None, log=None, poll_s=0.1):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            tail = open(log).read()[-2000:] if log else ""
            raise AssertionError(f"{what}: process exited {proc.returncode}"
                                 f"\n{tail}")
        if predicate():
            return
        time.sleep(poll_s)
    tail = open(log).read()[-2000:] if log else ""
    raise AssertionError(f"{what}: not within {deadline_s} s\n{tail}")


class Processes:
    """Started processes, each in its own session, stopped by PID."""

    def __init__(self):
        self.procs = []

    def start(self, args, cwd, log):
        out = open(log, "wb")
        proc = subprocess.Popen(args, cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            # nginx's workers (its session, led by the PID we started).
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()


def start_node(procs, tmp, name, worker_id, unready=False):
    """A static node on a free port, ready; or, if `unready`, one that
    serves but stays unready (503) for a minute: it waits for the clock to
    pass a high-water mark stored that far ahead."""
    port = free_port()
    home = os.path.join(tmp, name)
    state = os.path.join(home, "state")
    os.makedirs(state)
    if unready:
        with open(os.path.join(state, f"hwm-worker-{worker_id}"), "w") as f:
            f.write(f"hwm_unix_ms={int(time.time() * 1000) + 60_000}\n")
    log = os.path.join(home, "log")
    proc = procs.start(
        [os.environ["SNOWFLAKED_BIN"], "--worker-id", str(worker_id),
         "--state-dir", state, "--listen", f"127.0.0.1:{port}",
         "--threads", "1"], home, log)
    wait_for(f"{name} {'unready' if unready else 'ready'}",
             lambda: http_get(f"http://127.0.0.1:{port}/readyz")[0]
             == (503 if unready else 200), 30, proc, log)
    return proc, port


def wait_listening(port, proc, log):
    def accepts():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_for(f"port {port} listening", accepts, 10, proc, log, poll_s=0.01)


def take_ids(base, count):
    """Returns (ids, failures) of `count` GET /v1/id through `base`."""
    ids, failures = [], []
    for _ in range(count):
        status, body = http_get(f"{base}/v1/id")
        if status == 200:
            ids.append(int(json.loads(body)["id"]))
        else:
            failures.append((status, body[:200]))
    return ids, failures


def worker_of(id_):
    return (id_ >> WORKER_SHIFT) & WORKER_MASK


def haproxy_servers(stats_port):
    """{server name: (status, check_status)} from HAProxy's CSV stats."""
    return {row["svname"]: (row["status"], row["check_status"])
            for row in haproxy_rows(stats_port)
            if row["svname"] not in ("FRONTEND", "BACKEND")}


def haproxy_rows(stats_port):
    """The backend's rows of HAProxy's CSV stats (servers and BACKEND)."""
    status, body = http_get(f"http://127.0.0.1:{stats_port}/stats;csv")
    if status != 200:
        return []
    text = body.decode().lstrip("# ")
    return [row for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "snowflaked"]


def watch_haproxy_down(stats_port, server, since):
    """Returns a list that a thread fills with the seconds from `since` to
    the moment `server` is first seen DOWN (polled every 100 ms, for 10 s)."""
    result = []

    def poll():
        end = since + 10
        while time.monotonic() < end:
            if haproxy_servers(stats_port).get(server, ("",))[0] == "DOWN":
                result.append(time.monotonic() - since)
                return
            time.sleep(0.1)

    threading.Thread(target=poll, daemon=True).start()
    return result


# --- The test.


def check_configs(tmp):
    subprocess.run(["haproxy", "-c", "-f", HAPROXY_CFG], check=True)
    prefix = os.path.join(tmp, "nginx-check")
    os.makedirs(prefix)
    subprocess.run(["nginx", "-p", prefix, "-e", "stderr", "-c", NGINX_CONF,
                    "-t"], check=True)
    print("ok: haproxy -c and nginx -t accept the shipped files")


def main():
    if "SNOWFLAKED_BIN" not in os.environ:
        sys.exit("SNOWFLAKED_BIN is not set (the built snowflaked)")
    for tool in ("haproxy", "nginx"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (scripts/deps.sh installs it)")
    tmp = tempfile.mkdtemp(prefix="snowflake-lb-")
    os.chmod(tmp, 0o755)  # nginx's workers may run as nobody
    procs = Processes()
    ok = False
    try:
        check_configs(tmp)
        (node_a, port_a) = start_node(procs, tmp, "node-a", 1)
        (_, port_b) = start_node(procs, tmp, "node-b", 2)
        (_, port_c) = start_node(procs, tmp, "node-c", 3, unready=True)
        nodes = [port_a, port_b, port_c]

        # The decode below assumes the default layout; the node agrees.
        status, body = http_get(f"http://127.0.0.1:{port_a}/v1/id")
        one = json.loads(body)["id"]
        status, body = http_get(f"http://127.0.0.1:{port_a}/v1/decode/{one}")
        assert status == 200 and b'"worker' in body, body
        assert worker_of(int(one)) == 1, (one, body)

        ha_port, ha_stats, ng_port = free_port(), free_port(), free_port()
        ha_dir = os.path.join(tmp, "haproxy")
        os.makedirs(ha_dir)
        ha_cfg = os.path.join(ha_dir, "haproxy.cfg")
        with open(HAPROXY_CFG) as f, open(ha_cfg, "w") as out:
            out.write(render_haproxy(
                f.read(), ha_port, ha_stats,
                [(f"node{n}", f"127.0.0.1:{port}")
                 for n, port in enumerate(nodes, 1)]))
        ha_log = os.path.join(ha_dir, "log")
        ha = procs.start(["haproxy", "-db", "-f", ha_cfg], ha_dir, ha_log)

        ng_dir = os.path.join(tmp, "nginx")
        os.makedirs(ng_dir)
        os.chmod(ng_dir, 0o755)
        ng_conf = os.path.join(ng_dir, "nginx.conf")
        with open(NGINX_CONF) as f, open(ng_conf, "w") as out:
            out.write(render_nginx(f.read(), ng_port,
                                 [f"127.0.0.1:{port}" for port in nodes]))
        ng_log = os.path.join(ng_dir, "log")
        ng = procs.start(["nginx", "-p", ng_dir, "-e", "stderr", "-c",
                          ng_conf], ng_dir, ng_log)

        # At once, before HAProxy's checks have found node-c unready: its
        # 503s must be retried on the ready nodes by both balancers.
        wait_listening(ha_port, ha, ha_log)
        wait_listening(ng_port, ng, ng_log)
        balancers = {"haproxy": f"http://127.0.0.1:{ha_port}",
                     "nginx": f"http://127.0.0.1:{ng_port}"}
        seen = []
        for name, base in balancers.items():
            ids, failures = take_ids(base, REQUESTS)
            assert not failures, f"{name}: {len(failures)} of {REQUESTS} " \
                                 "failed with two nodes ready and one " \
                                 f"unready: {failures[:3]}"
            workers = {worker_of(i) for i in ids}
            assert workers == {1, 2}, f"{name}: IDs from workers {workers}, " \
                                      "expected both 1 and 2"
            seen += ids
            print(f"ok: {name}: {REQUESTS} of {REQUESTS} answered, "
                  f"from workers {sorted(workers)}")
        # (HAProxy counts a retried 503 as a redispatch, not a response.)
        node_c_503s = {r["svname"]: int(r["wredis"] or 0)
                       for r in haproxy_rows(ha_stats)}.get("node3", 0)
        assert node_c_503s > 0, \
            "haproxy sent no request to the unready node-c before its " \
            "check took it out: the retry on 503 was not exercised"
        print(f"ok: haproxy retried the {node_c_503s} 503s of unready "
              "node-c on other nodes")

        # HAProxy's checks of /readyz: the ready nodes in, node-c out.
        wait_for("haproxy: node1 and node2 UP, unready node3 DOWN, by their "
                 "/readyz checks",
                 lambda: haproxy_servers(ha_stats) == {
                     "node1": ("UP", "L7OK"), "node2": ("UP", "L7OK"),
                     "node3": ("DOWN", "L7STS")}, 5, ha, ha_log)
        print("ok: haproxy's checks: node1 and node2 UP, node3 DOWN")

        node_a.send_signal(signal.SIGKILL)
        node_a.wait()
        killed_at = time.monotonic()
        down_after = watch_haproxy_down(ha_stats, "node1", killed_at)
        for name, base in balancers.items():
            ids, failures = take_ids(base, REQUESTS)
            limit = 0 if name == "nginx" else REQUESTS // 100 - 1
            assert len(failures) <= limit, \
                f"{name}: {len(failures)} of {REQUESTS} failed after one " \
                f"node was killed (at most {limit} allowed): {failures[:3]}"
            assert {worker_of(i) for i in ids} == {2}, \
                (name, {worker_of(i) for i in ids})
            seen += ids
            print(f"ok: {name}: {len(ids)} of {REQUESTS} answered after "
                  f"node-a was killed")
        retried = {r["svname"]: (r["wretr"], r["wredis"])
                   for r in haproxy_rows(ha_stats)}
        print(f"note: haproxy (retries, redispatches) by server: {retried}")
        wait_for("haproxy: the killed node DOWN", lambda: down_after,
                 max(0.1, killed_at + 5 - time.monotonic()), ha, ha_log)
        assert down_after[0] <= 2.5, \
            f"haproxy took {down_after[0]:.1f} s to mark node1 DOWN"
        print(f"ok: haproxy marked node1 DOWN {down_after[0]:.1f} s after "
              "the kill")
        assert ng.poll() is None and ha.poll() is None

        assert len(set(seen)) == len(seen), \
            f"{len(seen) - len(set(seen))} duplicate IDs"
        print(f"ok: all {len(seen)} IDs distinct")
        ok = True
    finally:
        procs.stop_all()
        if ok or not os.environ.get("SNOWFLAKE_KEEP_TEST_DIRS"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
    print("PASS")


if __name__ == "__main__":
    main()
