#!/usr/bin/env python3
"""deploy/alertmanager/alertmanager.yml, checked by amtool and run for real.

A real Alertmanager on loopback with the shipped config pointed at a webhook
receiver in this process: a critical alert reaches /pager, a warning
/tickets, and SnowflakeNodeNotReady of an instance whose SnowflakeNodeDown
fires is inhibited (another instance's NotReady still arrives).

Run from the repository root (CTest does).
"""

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.getcwd()
CONFIG = os.path.join(REPO, "deploy/alertmanager/alertmanager.yml")
sys.path.insert(0, os.path.join(REPO, "deploy"))
from render import free_port, render_alertmanager  # noqa: E402
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
DEADLINE_S = 30


class Receiver(http.server.ThreadingHTTPServer):
    """Collects (path, alert) for every alert in every webhook POST."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(h):
                body = h.rfile.read(int(h.headers["Content-Length"]))
                with self.lock:
                    for alert in json.loads(body)["alerts"]:
                        self.received.append((h.path, alert))
                h.send_response(200)
                h.end_headers()

            def log_message(h, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def find(self, path, alertname, instance=None):
        with self.lock:
            return [a for p, a in self.received
                    if p == path and a["labels"]["alertname"] == alertname
                    and (instance is None
                         or a["labels"].get("instance") == instance)]

    def all(self):
        with self.lock:
            return list(self.received)


def post_alerts(base, alerts):
    request = urllib.request.Request(
        f"{base}/api/v2/alerts", data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 200, r.status


def alert(name, severity, instance):
    return {"labels": {"alertname": name, "severity": severity,
                       "cluster": "deploy-test", "instance": instance},
            "annotations": {"summary": f"{name} on {instance} (test)"}}


def wait_for(what, predicate, proc, log):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"{what}: alertmanager exited "
                                 f"{proc.returncode}\n{open(log).read()[-2000:]}")
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {DEADLINE_S} s")


def main():
    if not os.access(ALERTMANAGER, os.X_OK) or shutil.which("amtool") is None:
        sys.exit("prometheus-alertmanager is not installed "
                 "(scripts/deps.sh installs it)")
    subprocess.run(["amtool", "check-config", CONFIG], check=True)
    print("ok: amtool check-config accepts the shipped file")

    tmp = tempfile.mkdtemp(prefix="snowflake-am-")
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    receiver_base = f"http://127.0.0.1:{receiver.server_address[1]}"
    proc = None
    ok = False
    try:
        config = os.path.join(tmp, "alertmanager.yml")
        with open(CONFIG) as f, open(config, "w") as out:
            out.write(render_alertmanager(f.read(), receiver_base))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = os.path.join(tmp, "log")
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [ALERTMANAGER, f"--config.file={config}",
                 f"--storage.path={os.path.join(tmp, 'data')}",
                 f"--web.listen-address=127.0.0.1:{port}",
                 "--cluster.listen-address="],
                cwd=tmp, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)

        def ready():
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as r:
                    return r.status == 200
            except (OSError, urllib.error.URLError):
                return False

        wait_for("alertmanager ready", ready, proc, log)

        # One POST: the inhibiting NodeDown is present whenever the
        # NotReady alerts are evaluated.
        post_alerts(base, [
            alert("SnowflakeTestCritical", "critical", "node-1"),
            alert("SnowflakeTestWarning", "warning", "node-1"),
            alert("SnowflakeNodeDown", "critical", "node-2"),
            alert("SnowflakeNodeNotReady", "warning", "node-2"),  # inhibited
            alert("SnowflakeNodeNotReady", "warning", "node-3"),
        ])
        wait_for("critical alert at /pager",
                 lambda: receiver.find("/pager", "SnowflakeTestCritical"),
                 proc, log)
        wait_for("warning alert at /tickets",
                 lambda: receiver.find("/tickets", "SnowflakeTestWarning"),
                 proc, log)
        wait_for("NodeDown at /pager",
                 lambda: receiver.find("/pager", "SnowflakeNodeDown"),
                 proc, log)
        # NotReady of node-2 and node-3 are one group (alertname, cluster):
        # the notification that brings node-3's was sent without node-2's.
        wait_for("NotReady of node-3 at /tickets",
                 lambda: receiver.find("/tickets", "SnowflakeNodeNotReady",
                                       "node-3"), proc, log)
        print("ok: critical reached /pager, warnings /tickets")

        received = receiver.all()
        misrouted = [(p, a["labels"]["alertname"]) for p, a in received
                     if p != {"critical": "/pager", "warning": "/tickets"}[
                         a["labels"]["severity"]]]
        assert not misrouted, f"alerts at the wrong receiver: {misrouted}"
        inhibited = [p for p, a in received
                     if a["labels"]["alertname"] == "SnowflakeNodeNotReady"
                     and a["labels"]["instance"] == "node-2"]
        assert not inhibited, \
            "SnowflakeNodeNotReady of node-2 was sent although " \
            f"SnowflakeNodeDown of node-2 fires (to {inhibited})"
        print("ok: NodeDown inhibited NotReady of the same instance only")
        ok = True
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        receiver.shutdown()
        if not ok and os.path.exists(os.path.join(tmp, "log")):
            print(open(os.path.join(tmp, "log")).read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
