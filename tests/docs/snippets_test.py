#!/usr/bin/env python3
"""The HTTP examples of docs/api.md, run for real against snowflaked.

Every block marked `<!-- snippet: NAME -->` is extracted, the address it
uses (PLACEHOLDER) rewritten to a static node on a free loopback port
(worker ID WORKER) behind a recording proxy of this test, and run: the
shell ones with bash (curl, and the built `snowflake` tool on PATH), the
Python one with python3, the JavaScript one with node. Checks:

- the IDs a run prints are exactly the IDs the node sent it (in JSON, text
  or binary, as the proxy saw them), in order: nothing rounded on the way,
  which a JavaScript number would do to most IDs (it keeps 53 bits);
- every ID any snippet prints is distinct, carries worker WORKER and a time
  within SLACK_MS of its run (decoded by `snowflake decode --json`), and,
  nothing else taking IDs from the node meanwhile, follows the one before
  it by exactly 1 unless its tick is later;
- curl-id: one ID as JSON, one as text; curl-batch: each batch holds the
  count asked; curl-decode: the node's decoding and the tool's agree with
  the tool's decoding of the ID;
- python-batch: COUNT IDs from the node; given a dead address and a node
  that answers 503 with Retry-After (a real node waiting for a high-water
  mark stored a minute ahead) before the live node, it notes both and takes
  its IDs from the live one; given only those two (and a longer back-off
  for nodes without Retry-After), it gives up at its deadline, having asked
  the 503 node once per Retry-After (not once, not in a loop, not at the
  back-off's pace) and the dead one once per back-off;
- js-bigint: the worker, sequence and time it computes with BigInt shifts
  equal the tool's, and its batch (big-endian u64s) holds the count asked.
  Then LOADED_RUNS times more while another client takes IDs from the
  node: its one ID then mostly comes mid-tick, with low bits that a number
  would round away (the first ID of a tick, low bits zero, survives one).

A marked snippet the test does not know, or one that does not use
PLACEHOLDER, fails it. Exit 77 when bash, curl or node (18 or later: the
global fetch) is missing. Run from the repository root with SNOWFLAKED_BIN
and SNOWFLAKE_CLI_BIN set (CTest does both).
"""

import http.server
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
DOC = os.path.join(REPO, "docs/api.md")
PLACEHOLDER = "http://127.0.0.1:8080"
WORKER = 7
UNREADY_WORKER = 8
SLACK_MS = 3000
# The other client's batches: odd, so that an ID taken between two of them
# has low bits a number cannot hold unless it is the first of its tick.
LOAD_BATCH = 67
LOADED_RUNS = 5
# Run 3 of the Python snippet: a node without Retry-After (the dead one) is
# skipped this long, far from the 503 node's Retry-After, so that which of
# the two paced the retries shows in the count.
LONG_BACKOFF_S = 3.0
KNOWN = ("curl-id", "curl-batch", "curl-decode", "python-batch", "js-bigint")

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print(f"FAIL: {message}")
    return ok


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


# --- The snippets.


def extract(path):
    """{name: (language, code)} of every marked block of `path`."""
    with open(path) as f:
        lines = f.read().splitlines()
    found = {}
    i = 0
    while i < len(lines):
        mark = re.fullmatch(r"<!-- snippet: (\S+) -->", lines[i].strip())
        i += 1
        if not mark:
            continue
        name = mark.group(1)
        while i < len(lines) and not lines[i].strip():
            i += 1
        fence = re.fullmatch(r"```(\w+)", lines[i]) if i < len(lines) else None
        if not fence:
            raise ValueError(f"{path}: snippet {name} is not followed by a "
                             "fenced code block")
        i += 1
        body = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}: snippet {name}: no closing fence")
        if name in found:
            raise ValueError(f"{path}: two snippets named {name}")
        found[name] = (fence.group(1), "\n".join(body) + "\n")
    return found


def rewrite(code, name, url):
    if PLACEHOLDER not in code:
        raise ValueError(f"snippet {name} does not use {PLACEHOLDER}")
    return code.replace(PLACEHOLDER, url)


# --- Processes.


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Straight to loopback, whatever proxy the environment names.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url):
    """(status, headers) of a GET; status 0 when no HTTP answer came."""
    try:
        with OPENER.open(url, timeout=2) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers
    except OSError:
        return 0, {}


class Node:
    """A static snowflaked on a free port, stopped by its PID."""

    def __init__(self, tmp, name, worker, hwm_ahead_ms=0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home = os.path.join(tmp, name)
        state = os.path.join(home, "state")
        os.makedirs(state)
        if hwm_ahead_ms:
            # The node waits for the clock to pass this mark: it listens
            # and answers 503 with Retry-After meanwhile.
            with open(os.path.join(state, f"hwm-worker-{worker}"), "w") as f:
                mark = int(time.time() * 1000) + hwm_ahead_ms
                f.write(f"hwm_unix_ms={mark}\n")
        self.log = os.path.join(home, "log")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [os.path.abspath(os.environ["SNOWFLAKED_BIN"]),
                 "--worker-id", str(worker), "--state-dir", state,
                 "--listen", f"127.0.0.1:{self.port}", "--threads", "1"],
                cwd=home, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)

    def wait_readyz(self, want, seconds=30):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            if http_status(f"{self.url}/readyz")[0] == want:
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.url}: /readyz never {want}\n"
                             f"{self.tail()}")

    def tail(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait()


def ids_of(content_type, body):
    """The IDs of a 200 answer to /v1/id or /v1/ids, in any format."""
    if content_type.startswith("application/octet-stream"):
        return [int.from_bytes(body[i:i + 8], "big")
                for i in range(0, len(body), 8)]
    if content_type.startswith("application/json"):
        reply = json.loads(body)
        return [int(i) for i in reply.get("ids", [reply.get("id")])]
    return [int(line) for line in body.decode().split()]


class Recorder:
    """An HTTP proxy on loopback in front of `target` that keeps every ID
    the node sent in a 200 answer to /v1/id or /v1/ids, in order."""

    def __init__(self, target):
        recorder = self
        self.lock = threading.Lock()
        self.ids = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                accept = self.headers.get("Accept")
                request = urllib.request.Request(
                    target + self.path,
                    headers={"Accept": accept} if accept else {})
                try:
                    with OPENER.open(request, timeout=10) as r:
                        status, headers, body = r.status, r.headers, r.read()
                except urllib.error.HTTPError as e:
                    status, headers, body = e.code, e.headers, e.read()
                if status == 200 and re.match(r"/v1/ids?(\?|$)", self.path):
                    ids = ids_of(headers.get("Content-Type", ""), body)
                    with recorder.lock:
                        recorder.ids.extend(ids)
                self.send_response(status)
                for key in ("Content-Type", "Retry-After"):
                    if headers.get(key):
                        self.send_header(key, headers[key])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()

    def take(self):
        """The IDs sent since the last call."""
        with self.lock:
            ids, self.ids = self.ids, []
        return ids

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class Load:
    """Another client taking batches from a node until the block ends."""

    def __init__(self, url):
        self.url = url
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.take)

    def take(self):
        while not self.stop.is_set():
            http_status(f"{self.url}/v1/ids?count={LOAD_BATCH}&format=binary")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


class Run:
    """What one run of a snippet did."""

    def __init__(self, code, out, err, start_ms, end_ms, seconds):
        self.code, self.out, self.err = code, out, err
        self.start_ms, self.end_ms, self.seconds = start_ms, end_ms, seconds

    def lines(self):
        return [line for line in self.out.splitlines() if line.strip()]

    def __str__(self):
        return (f"exit {self.code}\n--- stdout\n{self.out[-2000:]}"
                f"--- stderr\n{self.err[-2000:]}")


def run(argv, env, timeout=60):
    """Runs `argv` in its own process group, killed by its PID on timeout."""
    start_ms, t0 = time.time() * 1000, time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n(killed after {timeout} s)"
    return Run(proc.returncode, out, err, start_ms, time.time() * 1000,
               time.monotonic() - t0)


# --- Checks on IDs.


def decode(ids):
    """The tool's decoding of each ID (dicts, in order)."""
    text = "".join(f"{i}\n" for i in ids)
    out = subprocess.run([os.environ["SNOWFLAKE_CLI_BIN"], "decode", "--json"],
                         input=text, capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def check_ids(name, ids, r, seen, sent, consecutive=True):
    """The IDs one run printed, in order: those the node `sent`, distinct
    from every ID seen so far, worker WORKER, timed during the run, and
    when `consecutive` (no other client), consecutive within a tick."""
    if not check(ids, f"{name}: printed no ID\n{r}"):
        return []
    check(ids == sent, f"{name}: printed IDs other than the node sent:\n"
          + "".join(f"  printed {a}, sent {b}\n" for a, b in zip(ids, sent)
                    if a != b)
          + f"  ({len(ids)} printed, {len(sent)} sent)")
    parts = decode(ids)
    for i, (value, p) in enumerate(zip(ids, parts)):
        check(value not in seen, f"{name}: ID {value} repeats")
        seen.add(value)
        check(p["worker"] == WORKER,
              f"{name}: ID {value} carries worker {p['worker']}, not {WORKER}")
        check(r.start_ms - SLACK_MS <= p["time_ms"] <= r.end_ms + SLACK_MS,
              f"{name}: ID {value} is timed {p['time']}, not during the run "
              f"({r.start_ms:.0f} to {r.end_ms:.0f} Unix ms)")
        if consecutive and i > 0:
            prev, q = ids[i - 1], parts[i - 1]
            check(value == prev + 1 or p["tick"] > q["tick"],
                  f"{name}: ID {value} follows {prev} in the same tick "
                  f"{p['tick']} but is not the next (step {value - prev}): "
                  "rounded on the way?")
    return parts


def decimal(name, line):
    if not re.fullmatch(r"[0-9]{1,20}", line):
        raise ValueError(f"{name}: {line!r} is not a decimal ID")
    return int(line)


# --- The snippets, one by one.


def curl_id(name, r, seen, sent):
    lines = r.lines()
    if not check(r.code == 0 and len(lines) == 2,
          f"{name}: wanted a JSON line and a text line\n{r}"):
        return
    ids = [int(json.loads(lines[0])["id"]), decimal(name, lines[1])]
    check_ids(name, ids, r, seen, sent)


def curl_batch(name, r, seen, sent):
    lines = r.lines()
    if not check(r.code == 0 and len(lines) == 6,
          f"{name}: wanted a JSON batch and 5 lines\n{r}"):
        return
    batch = json.loads(lines[0])["ids"]
    check(len(batch) == 5 and all(isinstance(i, str) for i in batch),
          f"{name}: JSON batch {batch} is not 5 strings")
    text = [decimal(name, line) for line in lines[1:]]
    check(len(text) == 5, f"{name}: text batch of {len(text)}, not 5")
    check_ids(name, [int(i) for i in batch] + text, r, seen, sent)


def curl_decode(name, r, seen, sent):
    lines = r.lines()
    if not check(r.code == 0 and len(lines) == 2,
          f"{name}: wanted the node's decoding and the tool's\n{r}"):
        return
    node = json.loads(lines[0])
    tool = dict(kv.split("=", 1) for kv in lines[1].split())
    value = int(node["id"])
    [p] = check_ids(name, [value], r, seen, sent)
    for key in ("time_ms", "worker", "sequence", "tick"):
        check(str(node[key]) == str(p[key]) == tool.get(key),
              f"{name}: {key}: node {node[key]}, tool {tool.get(key)}, "
              f"expected {p[key]}")
    check(node["time"] == p["time"] == tool.get("time"),
          f"{name}: time: node {node['time']}, tool {tool.get('time')}")
    check(tool.get("id") == node["id"] == str(value),
          f"{name}: the node decoded {node['id']}, the tool {tool.get('id')}")


def js_bigint(name, r, seen, sent, consecutive=True):
    lines = r.lines()
    if not check(r.code == 0 and len(lines) == 6,
          f"{name}: wanted an ID line and a batch of 5\n{r}"):
        return
    head = re.fullmatch(r"id (\d+) worker (\d+) sequence (\d+) time (\S+)",
                        lines[0])
    if not check(head, f"{name}: first line {lines[0]!r}"):
        return
    value = int(head.group(1))
    batch = [decimal(name, line) for line in lines[1:]]
    parts = check_ids(name, [value] + batch, r, seen, sent, consecutive)
    if parts:
        p = parts[0]
        check((int(head.group(2)), int(head.group(3)), head.group(4)) ==
              (p["worker"], p["sequence"], p["time"]),
              f"{name}: BigInt decoding {lines[0]!r}, the tool's worker "
              f"{p['worker']} sequence {p['sequence']} time {p['time']}")


def python_runs(name, path, env, live, unready, seen):
    """`live` is the recorder in front of the live node."""
    count = 100
    with open(path) as f:
        code = f.read()
    deadline = float(re.search(r"^DEADLINE_S = ([0-9.]+)", code,
                               re.MULTILINE).group(1))
    check(re.search(rf"^COUNT = {count}$", code, re.MULTILINE),
          f"{name}: COUNT is not {count}")

    # 1. The node of the placeholder.
    r = run([sys.executable, path], env)
    ids = [decimal(name, line) for line in r.lines()]
    check(r.code == 0 and len(ids) == count and not r.err,
          f"{name}: wanted {count} IDs and no complaint\n{r}")
    check_ids(name, ids, r, seen, live.take())

    # 2. A dead address and a 503 first: both skipped, IDs from the live one.
    dead = f"http://127.0.0.1:{free_port()}"
    _, headers = http_status(f"{unready.url}/v1/ids?count={count}")
    retry_after = headers.get("Retry-After")
    if not check(retry_after and retry_after.isdigit(),
                 f"the unready node gave no Retry-After:\n{unready.tail()}"):
        return
    r = run([sys.executable, path, dead, unready.url, live.url], env)
    ids = [decimal(name, line) for line in r.lines()]
    check(r.code == 0 and len(ids) == count,
          f"{name} via dead and 503 nodes: wanted {count} IDs\n{r}")
    check_ids(f"{name} (failover)", ids, r, seen, live.take())
    check(any(n.startswith(f"{dead}: ") and "refused" in n
              for n in r.err.splitlines()),
          f"{name}: no note of the refused connection to {dead}\n{r}")
    check(f"{unready.url}: 503 " in r.err and
          f"again in {retry_after} s" in r.err,
          f"{name}: no note of the 503 with Retry-After {retry_after}\n{r}")

    # 3. Only those two, a longer back-off for the dead one: it gives up at
    # its deadline, having paced each node by its own wait.
    slow = code.replace("NODE_BACKOFF_S = 1.0", f"NODE_BACKOFF_S = "
                        f"{LONG_BACKOFF_S}")
    check(slow != code, f"{name}: no line NODE_BACKOFF_S = 1.0 to rewrite")
    slow_path = path + ".slow.py"
    with open(slow_path, "w") as f:
        f.write(slow)
    r = run([sys.executable, slow_path, dead, unready.url], env)
    check(r.code != 0 and not r.out and
          f"no node gave IDs within {deadline:g} s" in r.err,
          f"{name} without a live node: wanted a failure at the deadline\n{r}")
    check(deadline - 1 <= r.seconds <= deadline + 3,
          f"{name} without a live node took {r.seconds:.1f} s, deadline "
          f"{deadline:g} s")
    notes = r.err.splitlines()
    asked_503 = sum(n.startswith(f"{unready.url}: 503") for n in notes)
    asked_dead = sum(n.startswith(f"{dead}: ") for n in notes)
    per = int(retry_after)
    check(deadline / per - 1 <= asked_503 <= deadline / per + 1,
          f"{name}: asked the 503 node {asked_503} times in {deadline:g} s "
          f"with Retry-After {per}\n{r}")
    check(1 <= asked_dead <= deadline / LONG_BACKOFF_S + 1,
          f"{name}: asked the dead node {asked_dead} times in {deadline:g} s "
          f"with a back-off of {LONG_BACKOFF_S:g} s\n{r}")
    print(f"{name}: without a live node, asked the 503 node {asked_503} "
          f"times, the dead one {asked_dead}, gave up after {r.seconds:.1f} s")


def main():
    for var in ("SNOWFLAKED_BIN", "SNOWFLAKE_CLI_BIN"):
        if not os.environ.get(var):
            sys.exit(f"{var} is not set (the built binaries)")
    for tool in ("bash", "curl", "node"):
        if shutil.which(tool) is None:
            skip(f"{tool} is not installed (scripts/deps.sh installs it)")
    probe = subprocess.run(
        ["node", "-e", "process.exit(typeof fetch === 'function' ? 0 : 3)"],
        capture_output=True, timeout=30)
    if probe.returncode == 3:
        skip("node has no global fetch (Node.js 18 or later needed)")

    snippets = extract(DOC)
    for name in snippets:
        check(name in KNOWN, f"{DOC}: snippet {name} is run by no check here")
    for name in KNOWN:
        check(name in snippets, f"{DOC}: no snippet {name}")
    if failures:
        sys.exit(1)

    tmp = tempfile.mkdtemp(prefix="snowflake-snippets-")
    nodes = []
    recorder = None
    try:
        bin_dir = os.path.join(tmp, "bin")  # `snowflake` for curl-decode
        os.makedirs(bin_dir)
        os.symlink(os.path.abspath(os.environ["SNOWFLAKE_CLI_BIN"]),
                   os.path.join(bin_dir, "snowflake"))
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"],
                   NO_PROXY="127.0.0.1,localhost",
                   no_proxy="127.0.0.1,localhost")

        live = Node(tmp, "live", WORKER)
        nodes.append(live)
        unready = Node(tmp, "unready", UNREADY_WORKER, hwm_ahead_ms=60_000)
        nodes.append(unready)
        live.wait_readyz(200)
        unready.wait_readyz(503)
        recorder = Recorder(live.url)

        seen = set()
        runners = {"sh": ["bash", "-e", "-o", "pipefail"], "js": ["node"]}
        checks = {"curl-id": curl_id, "curl-batch": curl_batch,
                  "curl-decode": curl_decode, "js-bigint": js_bigint}
        for name in KNOWN:
            language, code = snippets[name]
            path = os.path.join(tmp, f"{name}.{language}")
            try:
                with open(path, "w") as f:
                    f.write(rewrite(code, name, recorder.url))
                recorder.take()
                if name == "python-batch":
                    check(language == "python", f"{name}: not python")
                    python_runs(name, path, env, recorder, unready, seen)
                else:
                    check(language in runners,
                          f"{name}: no runner for {language}")
                    r = run(runners[language] + [path], env)
                    checks[name](name, r, seen, recorder.take())
            except (ValueError, KeyError, IndexError, TypeError,
                    AttributeError, subprocess.CalledProcessError) as e:
                check(False, f"{name}: {type(e).__name__}: {e}")
            if not any(f.startswith(f"{name}") for f in failures):
                print(f"ok: {name}")

        name = "js-bigint (under load)"
        path = os.path.join(tmp, "js-bigint-load.js")
        with open(path, "w") as f:
            f.write(rewrite(snippets["js-bigint"][1], name, recorder.url))
        recorder.take()
        for _ in range(LOADED_RUNS):
            with Load(live.url):
                r = run(["node", path], env)
            js_bigint(name, r, seen, recorder.take(), consecutive=False)
            if any(f.startswith(name) for f in failures):
                break
            print(f"ok: {name}: {r.lines()[0] if r.lines() else ''}")
        print(f"{len(seen)} IDs, all distinct, worker {WORKER}, timed now")
    finally:
        if recorder is not None:
            recorder.close()
        for node in nodes:
            node.stop()
        if failures:
            for node in nodes:
                print(f"--- {node.url} log\n{node.tail()}")
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
