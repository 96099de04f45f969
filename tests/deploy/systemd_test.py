#!/usr/bin/env python3
"""deploy/systemd/snowflaked.service, checked by systemd-analyze, and the
daemon's side of Type=notify run for real.

The unit: `systemd-analyze verify` on a copy whose ExecStart names the built
binary (verify refuses an ExecStart that does not exist). It exits 0 even
for a misspelt key or a bad value (it logs "Unknown key", "Failed to parse"
and goes on), so the test fails on any line about the unit itself: lines
that begin with the copy's path (`FILE:LINE: ...`, a parse problem) or with
`snowflaked.service:` (a problem with the unit as loaded). Lines about other
units or the host (what a container's systemd cannot check, e.g. missing
dependencies of other units) are printed and ignored.

The protocol: snowflaked with NOTIFY_SOCKET set to a datagram socket of this
test, started behind a stored high-water mark a few seconds ahead so that
it waits (listening, /readyz 503) before it is ready: READY=1 arrives only
after that wait, /readyz answers 200 when it does, and SIGTERM brings
STOPPING=1 and exit status 0.

Run from the repository root with SNOWFLAKED_BIN set (CTest does both).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.getcwd()
UNIT = os.path.join(REPO, "deploy/systemd/snowflaked.service")
SHIPPED_BIN = "/usr/bin/snowflaked"
WORKER_ID = 7
HWM_AHEAD_MS = 2500


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readyz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz",
                                    timeout=1) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, urllib.error.URLError):
        return 0


def verify_unit(tmp, binary):
    with open(UNIT) as f:
        text = f.read()
    if text.count(f"ExecStart={SHIPPED_BIN} ") != 1:
        raise AssertionError(f"the unit has no ExecStart={SHIPPED_BIN}")
    unit = os.path.join(tmp, "snowflaked.service")
    with open(unit, "w") as f:
        f.write(text.replace(f"ExecStart={SHIPPED_BIN} ",
                             f"ExecStart={binary} "))
    run = subprocess.run(["systemd-analyze", "verify", unit],
                         capture_output=True, text=True)
    lines = (run.stdout + run.stderr).splitlines()
    errors = [l for l in lines
              if l.startswith(unit + ":") or l.startswith("snowflaked.service:")]
    for line in lines:
        if line not in errors:
            print(f"note: systemd-analyze (ignored): {line}")
    for line in errors:
        print(f"error: systemd-analyze: {line}")
    assert run.returncode == 0 and not errors, \
        f"systemd-analyze verify: exit {run.returncode}, " \
        f"{len(errors)} problem(s) with the unit"
    print("ok: systemd-analyze verify accepts the unit")


class Notifications:
    """The datagrams snowflaked sends to NOTIFY_SOCKET, as key=value dicts."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def receive(self, timeout):
        """The next message, or None after `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        message = dict(line.split("=", 1)
                       for line in data.decode().splitlines() if "=" in line)
        self.messages.append(message)
        print(f"notify: {message}")
        return message

    def wait_for(self, key, deadline_s, proc, each=None):
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if each is not None:
                each()
            message = self.receive(0.05)
            if message is not None and message.get(key) == "1":
                return message
            if proc.poll() is not None and message is None:
                raise AssertionError(f"snowflaked exited {proc.returncode} "
                                     f"before {key}=1")
        raise AssertionError(f"no {key}=1 within {deadline_s} s "
                             f"(got {self.messages})")


def main():
    binary = os.environ.get("SNOWFLAKED_BIN")
    if not binary:
        sys.exit("SNOWFLAKED_BIN is not set (the built snowflaked)")
    binary = os.path.abspath(binary)
    tmp = tempfile.mkdtemp(prefix="snowflake-sd-")
    proc = None
    ok = False
    log = os.path.join(tmp, "log")
    try:
        verify_unit(tmp, binary)

        notify_path = os.path.join(tmp, "notify.sock")
        notifications = Notifications(notify_path)
        state = os.path.join(tmp, "state")
        os.makedirs(state)
        ahead = int(time.time() * 1000) + HWM_AHEAD_MS
        with open(os.path.join(state, f"hwm-worker-{WORKER_ID}"), "w") as f:
            f.write(f"hwm_unix_ms={ahead}\n")
        port = free_port()
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [binary, "--worker-id", str(WORKER_ID), "--state-dir", state,
                 "--listen", f"127.0.0.1:{port}", "--threads", "1"],
                cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)

        before = []  # /readyz answers seen before READY=1
        ready = notifications.wait_for(
            "READY", HWM_AHEAD_MS / 1000 + 20, proc,
            each=lambda: before.append(readyz(port)))
        status = readyz(port)
        assert status == 200, f"READY=1 sent but /readyz answers {status}"
        assert 503 in before, \
            "READY=1 came before the node was seen unready while it " \
            f"waited for its stored high-water mark (/readyz: {set(before)})"
        assert str(WORKER_ID) in ready.get("STATUS", ""), ready
        print(f"ok: READY=1 after /readyz was 503 {before.count(503)} "
              "times; /readyz 200 when it arrived")

        proc.send_signal(signal.SIGTERM)
        notifications.wait_for("STOPPING", 10, proc)
        code = proc.wait(timeout=30)
        assert code == 0, f"snowflaked exited {code} after SIGTERM"
        print("ok: STOPPING=1 on SIGTERM, exit status 0")
        ok = True
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if not ok and os.path.exists(log):
            print(open(log).read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
