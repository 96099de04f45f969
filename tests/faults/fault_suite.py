#!/usr/bin/env python3
"""The fault-injection suite: a cluster of real processes under load while a
schedule, drawn at random from a seed the run prints, injects faults; every
ID a client receives is recorded, and `snowflake audit` reads the whole
history at the end. Run by scripts/faults.sh (see there for the modes).

The cluster is deploy/local-cluster's (a 3-member etcd, N nodes under
libfaketime so that each node's clock can be stepped). Clients take batches
straight from the nodes, one client per node, each writing the IDs it
receives to its own file in the order received: one source each, so the
audit also checks that every worker's IDs increase within a source.

Faults (each on a random node or member, then healed):
  kill        SIGKILL a node, start it again
  pause       SIGSTOP a node past its lease TTL, then SIGCONT
  step        step a node's wall clock back or forward (1 ms, 5 ms, 1 s,
              1 h), then back to true time
  slew        run a node's clock 1 % fast for a while
  member      kill one etcd member, start it again
  quorum      kill two etcd members (no quorum), start them again
  partition   cut a node off from etcd but not from its clients (nft drops
              in its network namespace), shorter or longer than the TTL
  lossy       make a node's link lossy and slow (tc netem; where the
              kernel has no netem, nft drops a share of its etcd packets)

The last two need root (and the right to make network namespaces, veth
pairs and nft tables): each node then runs in a network namespace of its
own (deploy/local-cluster up --netns). Where that cannot be done they are
left out, and the log and the report say why.

The report (REPORT.md and report.json in the run's folder) gives the seed,
the schedule, IDs collected, failed requests per fault, time to recover
(every node ready again) after each, and the audit's verdict. Exit 1 if the
audit finds anything or a node does not recover.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LOCAL_CLUSTER = ROOT / "deploy/local-cluster"
TTL = 5
# Each client asks for BATCH IDs every PACE seconds at most: about 160 k
# IDs/s with 4 nodes, 19 M in a short run, without filling the disk.
BATCH = 200
PACE = 0.005
# Back and forward steps of the wall clock, as libfaketime offsets.
BACK_STEPS = ["-0.001", "-0.005", "-1", "-3600"]
FORWARD_STEPS = ["+0.001", "+0.005", "+1", "+3600"]
FAULTS = ["kill", "pause", "step", "slew", "member", "quorum"]
NETWORK_FAULTS = ["partition", "lossy"]
# The nft table a network fault adds in a node's namespace.
FAULT_TABLE = "snowflake-fault"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Cluster:
    def __init__(self, directory):
        self.dir = Path(directory)

    def cli(self, *args):
        subprocess.run([sys.executable, str(LOCAL_CLUSTER), *map(str, args),
                        "--dir", str(self.dir)], check=True,
                       stdout=subprocess.DEVNULL)

    @property
    def state(self):
        return json.loads((self.dir / "cluster.json").read_text())

    def names(self, role):
        return [p["name"] for p in self.state["processes"] if p.get("role") == role]

    def url(self, name):
        return next(p["url"] for p in self.state["processes"] if p["name"] == name)

    def set_clock(self, node, offset):
        # libfaketime reads the file at every call (FAKETIME_NO_CACHE).
        (self.dir / node / "faketime").write_text(offset + "\n")

    def netns(self, node):
        return self.state["netns"][node]

    def etcd_ports(self):
        return [p["port"] for p in self.state["processes"] if p.get("role") == "etcd"]

    def in_netns(self, node, *cmd, stdin=None, check=True):
        return subprocess.run(["ip", "netns", "exec", self.netns(node)["netns"], *cmd],
                              input=stdin, capture_output=True, text=True, check=check)

    def drop_etcd(self, node, match=""):
        """Drops the node's packets to and from etcd (`match`: an nft
        expression narrowing it, e.g. a random share)."""
        ports = ", ".join(map(str, self.etcd_ports()))
        self.in_netns(node, "nft", "-f", "-", stdin=f"""
table inet {FAULT_TABLE} {{
  chain out {{ type filter hook output priority 0; tcp dport {{ {ports} }} {match} drop; }}
  chain in {{ type filter hook input priority 0; tcp sport {{ {ports} }} {match} drop; }}
}}
""")

    def heal_network(self, node):
        self.in_netns(node, "nft", "delete", "table", "inet", FAULT_TABLE, check=False)
        self.in_netns(node, "tc", "qdisc", "del", "dev", self.netns(node)["node_if"],
                      "root", check=False)

    def ready(self, node):
        try:
            with urllib.request.urlopen(self.url(node) + "/readyz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False


class Client(threading.Thread):
    """Takes batches from one node and appends every ID received to its own
    file (big-endian u64s), in the order received."""

    def __init__(self, url, path):
        super().__init__(daemon=True)
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.file = open(path, "wb")
        self.ids = 0
        self.failures = []  # Monotonic times of failed requests.
        self.stop = threading.Event()

    def run(self):
        connection = None
        while not self.stop.is_set():
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(self.host, self.port,
                                                            timeout=3)
                connection.request("GET", f"/v1/ids?count={BATCH}&format=binary")
                response = connection.getresponse()
                body = response.read()
                if response.status == 200 and len(body) % 8 == 0:
                    self.file.write(body)
                    self.ids += len(body) // 8
                    time.sleep(PACE)
                    continue
                self.failures.append(time.monotonic())
            except (OSError, http.client.HTTPException):
                self.failures.append(time.monotonic())
                connection = None
            time.sleep(0.01)  # A failed node: do not spin.
        self.file.close()

    def failed_between(self, start, end):
        return sum(1 for t in self.failures if start <= t < end)


def network_faults_unavailable():
    """None when this machine lets the suite make namespaces, veth pairs and
    nft tables in them (root with CAP_NET_ADMIN and CAP_SYS_ADMIN, the
    tools installed); else why not."""
    if os.geteuid() != 0:
        return "not root"
    missing = [t for t in ("ip", "nft", "tc") if shutil.which(t) is None]
    if missing:
        return f"{', '.join(missing)} not installed"
    ns, link = f"snowflake-probe-{os.getpid()}", f"sfprobe{os.getpid() % 100000}"
    steps = [["ip", "netns", "add", ns],
             ["ip", "link", "add", link, "type", "veth", "peer", "name", link + "n",
              "netns", ns],
             ["ip", "netns", "exec", ns, "nft", "add", "table", "inet", "probe"]]
    try:
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                return f"`{' '.join(step)}` failed: {result.stderr.strip()}"
        return None
    finally:
        subprocess.run(["ip", "link", "del", link], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def heal_time(cluster, nodes, since, timeout, stable=2.0):
    """Seconds from `since` until every node is ready and stays ready for
    `stable` seconds (a node cut off past its TTL still answers ready until
    it hears, after the heal, that its lease expired), or None."""
    deadline = since + timeout
    ready_since = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        if all(cluster.ready(n) for n in nodes):
            if ready_since is None:
                ready_since = now
            elif now - ready_since >= stable:
                return ready_since - since
        else:
            ready_since = None
        time.sleep(0.1)
    return None


def inject(kind, cluster, rng, nodes, members):
    """Injects one fault and heals it; returns its description."""
    if kind == "kill":
        node = rng.choice(nodes)
        cluster.cli("stop", node, "--signal", "KILL")
        time.sleep(rng.uniform(0.5, 3))
        cluster.cli("start", node)
        return f"SIGKILL {node}, restarted"
    if kind == "pause":
        node = rng.choice(nodes)
        cluster.cli("stop", node, "--signal", "STOP")
        time.sleep(TTL + 2)
        cluster.cli("stop", node, "--signal", "CONT")
        return f"SIGSTOP {node} for {TTL + 2} s (TTL {TTL} s), SIGCONT"
    if kind == "step":
        node = rng.choice(nodes)
        offset = rng.choice(BACK_STEPS + FORWARD_STEPS)
        cluster.set_clock(node, offset)
        time.sleep(rng.uniform(1, 4))
        cluster.set_clock(node, "+0")
        return f"{node} clock stepped {offset} s, then back"
    if kind == "slew":
        node = rng.choice(nodes)
        cluster.set_clock(node, "+0 x1.01")
        time.sleep(rng.uniform(3, 6))
        cluster.set_clock(node, "+0")
        return f"{node} clock 1 % fast for a few seconds, then true"
    if kind == "member":
        member = rng.choice(members)
        cluster.cli("stop", member, "--signal", "KILL")
        time.sleep(rng.uniform(2, 5))
        cluster.cli("start", member)
        return f"SIGKILL etcd member {member}, restarted"
    if kind == "quorum":
        lost = rng.sample(members, 2)
        for member in lost:
            cluster.cli("stop", member, "--signal", "KILL")
        time.sleep(rng.uniform(5, 15))
        for member in lost:
            cluster.cli("start", member)
        return f"quorum lost ({', '.join(lost)} killed), regained"
    if kind == "partition":
        node = rng.choice(nodes)
        seconds = rng.choice([2, TTL + 3])
        cluster.drop_etcd(node)
        time.sleep(seconds)
        cluster.heal_network(node)
        return f"{node} cut off from etcd for {seconds} s (TTL {TTL} s), clients not"
    if kind == "lossy":
        node = rng.choice(nodes)
        seconds = rng.uniform(4, 8)
        netem = cluster.in_netns(node, "tc", "qdisc", "add", "dev",
                                 cluster.netns(node)["node_if"], "root", "netem",
                                 "delay", "50ms", "20ms", "loss", "10%", check=False)
        if netem.returncode == 0:
            how = "tc netem: 50 ms ± 20 ms delay, 10 % loss on its link"
        else:
            cluster.drop_etcd(node, "numgen random mod 100 < 30")
            how = "nft: 30 % of its etcd packets dropped (no netem in this kernel)"
        time.sleep(seconds)
        cluster.heal_network(node)
        return f"{node} lossy for {seconds:.0f} s ({how})"
    raise ValueError(kind)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120,
                        help="how long faults are injected")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--out", help="the run's folder (default: a new one in /tmp)")
    parser.add_argument("--faults", help="only these kinds, comma-separated "
                        f"(default: all of {', '.join(FAULTS + NETWORK_FAULTS)})")
    parser.add_argument("--min-ids", type=int, default=0,
                        help="fail if fewer IDs were collected")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    out = Path(args.out or tempfile.mkdtemp(prefix="snowflake-faults-"))
    out.mkdir(parents=True, exist_ok=True)
    log(f"seed {seed} (replay: scripts/faults.sh --seed {seed}); run folder {out}")

    # SIGTERM (a CI timeout, kill) still stops the cluster: see finally.
    signal.signal(signal.SIGTERM, lambda *unused: sys.exit(143))
    cluster = Cluster(out / "cluster")
    faults = list(FAULTS)
    why_not = network_faults_unavailable()
    network = why_not is None
    if network:
        faults += NETWORK_FAULTS
    else:
        log(f"no network faults in this run: {why_not}")
    if args.faults:
        chosen = args.faults.split(",")
        unknown = set(chosen) - set(FAULTS + NETWORK_FAULTS)
        if unknown:
            parser.error(f"--faults: unknown kind {', '.join(sorted(unknown))}")
        if set(chosen) - set(faults):
            parser.error(f"--faults: partition and lossy cannot run here: {why_not}")
        faults = chosen
    cluster.cli("up", "--nodes", args.nodes, "--faketime", "--lease-ttl", TTL,
                *(["--netns"] if network else []))
    schedule = []
    clients = []
    verdict = None
    try:
        nodes = cluster.names("node")
        members = cluster.names("etcd")
        for i, node in enumerate(nodes):
            client = Client(cluster.url(node), out / f"client-{i}.bin")
            client.start()
            clients.append(client)
        time.sleep(2)
        end = time.monotonic() + args.seconds
        # Every kind once first (in a random order), then at random.
        kinds = rng.sample(faults, len(faults))
        while time.monotonic() < end:
            kind = kinds.pop(0) if kinds else rng.choice(faults)
            start = time.monotonic()
            what = inject(kind, cluster, rng, nodes, members)
            healed = heal_time(cluster, nodes, time.monotonic(), 60)
            failed = sum(c.failed_between(start, time.monotonic()) for c in clients)
            entry = {"fault": kind, "what": what, "at_s": round(start - (end - args.seconds), 1),
                     "failed_requests": failed,
                     "recovered_s": None if healed is None else round(healed, 2)}
            schedule.append(entry)
            log(f"{what}: {failed} failed requests, "
                + ("recovered in %.1f s" % healed if healed is not None else "NOT RECOVERED"))
            if healed is None:
                break
            time.sleep(rng.uniform(0.5, 2))
    finally:
        for client in clients:
            client.stop.set()
        for client in clients:
            client.join()
        cluster.cli("down")

    ids = sum(c.ids for c in clients)
    snowflake = os.environ.get("SNOWFLAKE_CLI_BIN",
                               str(ROOT / "build/release/src/cli/snowflake"))
    log(f"{ids} IDs collected; auditing")
    # IDs made while a clock was an hour ahead are an hour ahead still: the
    # audit allows them only when such a step happened.
    ahead = any("stepped +3600" in e["what"] for e in schedule)
    max_future_ms = 3_660_000 if ahead else 1000
    audit = subprocess.run(
        [snowflake, "audit", "--format", "binary", "--ordered", "--json",
         "--max-future-ms", str(max_future_ms),
         "--temp-dir", str(out), *[str(out / f"client-{i}.bin") for i in range(len(clients))]],
        capture_output=True, text=True)
    verdict = json.loads(audit.stdout) if audit.stdout.strip() else {"error": audit.stderr}
    recovered = all(e["recovered_s"] is not None for e in schedule)
    ok = audit.returncode == 0 and recovered and ids >= args.min_ids
    report = {"seed": seed, "seconds": args.seconds, "nodes": args.nodes, "ids": ids,
              "network_faults": network, "max_future_ms": max_future_ms,
              "schedule": schedule, "all_recovered": recovered, "ok": ok,
              "audit": {k: verdict.get(k) for k in
                        ("ok", "ids", "distinct", "duplicates", "invalid",
                         "outside_range", "future", "out_of_order")}}
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Fault run, seed {seed}", "",
             f"{args.seconds:.0f} s of faults on {args.nodes} nodes and a 3-member etcd; "
             f"{ids:,} IDs collected by {len(clients)} clients.",
             "Network faults (partition, lossy): " + (
                 "on (each node in its own network namespace)." if network
                 else f"off ({why_not})."),
             f"IDs may be timed up to {max_future_ms} ms ahead"
             + (" (a clock was stepped an hour ahead)." if ahead else "."), "",
             "| at (s) | fault | failed requests | every node ready after |",
             "|---|---|---|---|"]
    for e in schedule:
        lines.append(f"| {e['at_s']} | {e['what']} | {e['failed_requests']} | "
                     f"{'%.1f s' % e['recovered_s'] if e['recovered_s'] is not None else 'never'} |")
    dup = (verdict.get("duplicates") or {}).get("count")
    lines += ["", f"Audit: {'OK' if audit.returncode == 0 else 'FAIL'} "
              f"({verdict.get('ids')} IDs, {dup} duplicated, "
              f"{(verdict.get('out_of_order') or {}).get('count')} out of order, "
              f"{(verdict.get('future') or {}).get('count')} in the future)."]
    (out / "REPORT.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if ids < args.min_ids:
        log(f"FAIL: {ids} IDs collected, fewer than {args.min_ids}")
    if not ok:
        log(f"FAIL (seed {seed}); audit output: {out}/report.json")
        sys.exit(1)
    log("PASS")


if __name__ == "__main__":
    main()
