#!/usr/bin/env python3
"""The deployed system as a whole (issue 11): `deploy/local-cluster up` on
loopback, load through HAProxy the whole time, every ID collected, and the
design's failure scenarios one after another, each checked by what clients
saw and by what reached Alertmanager's webhook:

- one node killed: the balancer routes around it (< 1 % of requests fail),
  its worker ID is free after the TTL, SnowflakeNodeDown fires;
- one etcd member stopped: no request fails, and the only alert is
  SnowflakeCoordinatorMemberDown for that member;
- the whole etcd stopped for 45 s: nodes go on issuing on their outage
  budget, SnowflakeCoordinatorUnreachable fires, and resolves after;
- a node's clock stepped back 1 s (libfaketime): only that node answers
  503, its /readyz says why, the balancer retries elsewhere,
  SnowflakeClockMovedBack fires;
- two static nodes on one worker ID: SnowflakeWorkerIdConflict fires;
- every panel of deploy/grafana/snowflake.json parses and returns data.

At the end no ID was issued twice and `down` leaves nothing running.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LOCAL_CLUSTER = ROOT / "deploy/local-cluster"
TTL = 5
sys.path.insert(0, str(ROOT / "tests/deploy"))
import check_dashboard  # noqa: E402


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(*args, check=True):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def eventually(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s: {what}")


class Load(threading.Thread):
    """GET /v1/id through the balancer in a loop over one keep-alive
    connection; records every answer with its time."""

    def __init__(self, address):
        super().__init__(daemon=True)
        self.host, port = address.removeprefix("http://").split(":")
        self.port = int(port)
        self.ids = []
        self.answers = []  # (monotonic time, status)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        connection = None
        while not self.stop.is_set():
            status = None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
                connection.request("GET", "/v1/id")
                response = connection.getresponse()
                body = response.read()
                status = response.status
                if status == 200:
                    value = json.loads(body)
                    with self.lock:
                        self.ids.append(int(value["id"]) if isinstance(value, dict)
                                        else int(value))
            except (OSError, http.client.HTTPException, ValueError):
                status = "error"
                connection = None
            with self.lock:
                self.answers.append((time.monotonic(), status))
            time.sleep(0.002)

    def window(self, since):
        with self.lock:
            answers = [s for t, s in self.answers if t >= since]
        failed = sum(1 for s in answers if s != 200)
        return len(answers), failed


class Cluster:
    def __init__(self, directory):
        self.dir = Path(directory)

    def cli(self, *args, check=True):
        return run(sys.executable, LOCAL_CLUSTER, *args, "--dir", self.dir, check=check)

    @property
    def state(self):
        return json.loads((self.dir / "cluster.json").read_text())

    def process(self, name):
        return next(p for p in self.state["processes"] if p["name"] == name)

    def notifications(self):
        path = self.dir / "receiver/alerts.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def alert_seen(self, name, status="firing", since=0.0, **labels):
        """The first alert named `name` with `status` (and `labels`) that a
        notification received after `since` (Unix time) carried."""
        for note in self.notifications():
            if note["received"] < since:
                continue
            for alert in note["body"].get("alerts", []):
                if alert["labels"].get("alertname") != name or alert["status"] != status:
                    continue
                if all(alert["labels"].get(k) == v for k, v in labels.items()):
                    return alert
        return None

    def firing_names(self, since):
        return {a["labels"]["alertname"] for n in self.notifications()
                if n["received"] >= since for a in n["body"].get("alerts", [])
                if a["status"] == "firing"}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    with tempfile.TemporaryDirectory(prefix="local-cluster-test-") as tmp:
        cluster = Cluster(Path(tmp) / "cluster")
        started = False
        static_nodes = []
        try:
            log("up")
            out = cluster.cli("up", "--nodes", "3", "--faketime", "--lease-ttl", TTL).stdout
            started = True
            print(out)
            state = cluster.state
            balancer = state["regions"]["local"]["balancer"]
            prometheus = state["urls"]["prometheus"]
            etcd = state["regions"]["local"]["coordinator"]
            snowflake = os.environ.get("SNOWFLAKE_CLI_BIN",
                                       str(ROOT / "build/release/src/cli/snowflake"))
            load = Load(balancer)
            load.start()

            # Prometheus finds the nodes from their claims.
            def scraped_nodes():
                result = get_json(f"{prometheus}/api/v1/query?query="
                                  "up%7Bjob%3D%22snowflake%22%7D%3D%3D1")["data"]["result"]
                return len(result) == 3
            eventually("Prometheus scraping the 3 nodes found by discovery",
                       scraped_nodes, 40)

            # 1. One node killed.
            log("scenario: one node killed")
            victim = cluster.process("node-local-1")
            victim_id = get_json(f"{victim['url']}/v1/info")["worker_id"]
            since, wall = time.monotonic(), time.time()
            cluster.cli("stop", "node-local-1", "--signal", "KILL")
            time.sleep(3)
            total, failed = load.window(since)
            log(f"  {failed} of {total} requests failed after the kill")
            check(total > 100 and failed < total / 100,
                  f"{failed} of {total} requests failed with a node killed")

            def free_again():
                held = json.loads(run(snowflake, "cluster", "--etcd", etcd, "--cluster",
                                      "local", "--json").stdout)["holders"]
                return all(h["worker_id"] != victim_id for h in held)
            eventually(f"worker ID {victim_id} free after the TTL", free_again, TTL + 10)
            eventually("SnowflakeNodeDown at the webhook",
                       lambda: cluster.alert_seen("SnowflakeNodeDown", since=wall), 60)
            cluster.cli("start", "node-local-1")
            eventually("node-local-1 ready again", lambda: ready(victim["url"]), 30)

            # 2. One etcd member stopped.
            log("scenario: one etcd member stopped")
            since, wall = time.monotonic(), time.time()
            cluster.cli("stop", "etcd-local-2")
            time.sleep(10)
            total, failed = load.window(since)
            log(f"  {failed} of {total} requests failed with one member down")
            check(failed == 0, f"{failed} of {total} failed with one etcd member down")
            member = f"127.0.0.1:{cluster.process('etcd-local-2')['port']}"
            eventually("SnowflakeCoordinatorMemberDown at the webhook",
                       lambda: cluster.alert_seen("SnowflakeCoordinatorMemberDown",
                                                  since=wall, instance=member), 60)
            others = cluster.firing_names(wall) - {"SnowflakeCoordinatorMemberDown"}
            check(not others, f"with one etcd member down, other alerts fired: {others}")
            total, failed = load.window(since)
            check(failed == 0, f"{failed} of {total} failed with one etcd member down")
            cluster.cli("start", "etcd-local-2")

            # 3. The whole etcd stopped for 45 s.
            log("scenario: etcd stopped for 45 s")
            since, wall = time.monotonic(), time.time()
            for i in (1, 2, 3):
                cluster.cli("stop", f"etcd-local-{i}")
            eventually("SnowflakeCoordinatorUnreachable at the webhook",
                       lambda: cluster.alert_seen("SnowflakeCoordinatorUnreachable",
                                                  since=wall), 40)
            time.sleep(max(0.0, since + 45 - time.monotonic()))
            total, failed = load.window(since)
            log(f"  {failed} of {total} requests failed during the outage")
            check(failed == 0, f"{failed} of {total} failed within the outage budget")
            back = time.time()
            for i in (1, 2, 3):
                cluster.cli("start", f"etcd-local-{i}")
            eventually("SnowflakeCoordinatorUnreachable resolved",
                       lambda: cluster.alert_seen("SnowflakeCoordinatorUnreachable",
                                                  status="resolved", since=back), 90)

            # 4. A node's clock stepped back 1 s.
            log("scenario: a node's clock stepped back 1 s")
            node = cluster.process("node-local-2")
            since, wall = time.monotonic(), time.time()
            (cluster.dir / "node-local-2/faketime").write_text("-1s\n")
            # The balancer's check sees it at once: not ready, and why.
            try:
                urllib.request.urlopen(f"{node['url']}/readyz", timeout=2)
                check(False, "the stepped node's /readyz answered 200")
            except urllib.error.HTTPError as error:
                body = error.read().decode()
                check(error.code == 503 and "behind the last issued ID" in body,
                      f"the stepped node's /readyz: {error.code} {body}")
            answers = []
            for _ in range(20):
                try:
                    with urllib.request.urlopen(f"{node['url']}/v1/id", timeout=2) as r:
                        answers.append(r.status)
                except urllib.error.HTTPError as error:
                    answers.append(error.code)
            check(503 in answers, f"the stepped node answered {answers}")
            for other in ("node-local-1", "node-local-3"):
                with urllib.request.urlopen(f"{cluster.process(other)['url']}/v1/id") as r:
                    check(r.status == 200, f"{other} answered {r.status}")
            eventually("SnowflakeClockMovedBack at the webhook",
                       lambda: cluster.alert_seen("SnowflakeClockMovedBack", since=wall), 60)
            total, failed = load.window(since)
            log(f"  {failed} of {total} requests through the balancer failed")
            check(failed < max(1, total / 100),
                  f"{failed} of {total} failed through the balancer")
            (cluster.dir / "node-local-2/faketime").write_text("+0\n")

            # 5. Two static nodes on one worker ID.
            log("scenario: two static nodes on one worker ID")
            wall = time.time()
            snowflaked = os.environ.get("SNOWFLAKED_BIN",
                                        str(ROOT / "build/release/src/daemon/snowflaked"))
            addresses = []
            for i in (1, 2):
                port = free_port()
                folder = cluster.dir / f"static-{i}"
                folder.mkdir()
                static_nodes.append(subprocess.Popen(
                    [snowflaked, "--listen", f"127.0.0.1:{port}", "--worker-id", "900",
                     "--state-dir", folder / "state", "--node-name", f"static-{i}"],
                    stdout=open(folder / "log", "w"), stderr=subprocess.STDOUT))
                addresses.append(f"127.0.0.1:{port}")
            targets = cluster.dir / "prometheus/targets/snowflake-static.json"
            # Labelled as discovery labels its targets (dashboards and
            # cluster-level alerts group by them).
            targets.write_text(json.dumps([
                {"targets": [address], "labels": {"cluster": "static",
                                                  "node": f"static-{i}"}}
                for i, address in enumerate(addresses, 1)]))
            eventually("SnowflakeWorkerIdConflict at the webhook",
                       lambda: cluster.alert_seen("SnowflakeWorkerIdConflict", since=wall,
                                                  worker_id="900"), 60)

            # Every panel of the dashboard parses and has data on this cluster.
            failures = check_dashboard.check_queries(
                ROOT / "deploy/grafana/snowflake.json", prometheus)
            check(not failures, "dashboard panels without data:\n" + "\n".join(failures))
            log("every dashboard panel returned data")

            load.stop.set()
            load.join()
            check(len(load.ids) == len(set(load.ids)),
                  f"{len(load.ids) - len(set(load.ids))} IDs issued twice")
            log(f"{len(load.ids)} IDs collected, all distinct; alerts that fired: "
                f"{sorted(cluster.firing_names(0))}")
        finally:
            for p in static_nodes:
                p.kill()
                p.wait()
            if started:
                cluster.cli("down")
                left = [p["name"] for p in json.loads(
                    (cluster.dir / "cluster.stopped.json").read_text())["processes"]
                    if running(p["pid"])]
                check(not left, f"still running after down: {left}")
    regions()
    log("PASS")


def regions():
    """--regions 3: each region's own coordinator, range and balancer; IDs
    from all three are distinct and each decodes to a worker in its
    region's range (the default layout: 41/10/12)."""
    with tempfile.TemporaryDirectory(prefix="local-cluster-regions-") as tmp:
        cluster = Cluster(Path(tmp) / "cluster")
        log("up --regions 3")
        cluster.cli("up", "--regions", "3", "--nodes", "1", "--lease-ttl", TTL)
        try:
            seen = set()
            for region, info in cluster.state["regions"].items():
                first, last = info["range"]
                for _ in range(100):
                    value = get_json(f"{info['balancer']}/v1/ids?count=10")
                    for id_text in value["ids"]:
                        worker = (int(id_text) >> 12) & 1023
                        check(first <= worker <= last,
                              f"{region}: ID {id_text} has worker {worker}, "
                              f"outside {first}-{last}")
                        check(int(id_text) not in seen, f"ID {id_text} issued twice")
                        seen.add(int(id_text))
            check(len(seen) == 3000, f"{len(seen)} IDs from three regions")
            log(f"3 regions: {len(seen)} distinct IDs, each in its region's range")
        finally:
            cluster.cli("down")


def ready(url):
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:  # Refused while starting, or 503 (HTTPError).
        return False


def running(pid):
    """True unless the process is gone or a zombie (exited, not reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
