#!/usr/bin/env python3
"""deploy/k8s checked without a cluster, against the real node.

- yamllint (deploy/.yamllint) accepts every manifest;
- every SNOWFLAKE_* variable the Deployment sets is a setting of snowflaked
  (its --help prints `env SNOWFLAKE_X` for each), every ConfigMap reference
  names a key that exists, and `snowflaked --check-config` accepts the
  environment as a pod would get it;
- the probes: startup and readiness GET /readyz, liveness GET /healthz, and a
  real snowflaked (static mode, loopback) answers each path 200;
- one port everywhere: the container port is the one of SNOWFLAKE_LISTEN
  (on all addresses), SNOWFLAKE_ADVERTISE, the probes, the Service's
  targetPort and the Prometheus annotation;
- the Service's, the PDB's and the spread constraint's selectors select the
  Deployment's pod labels, and the PDB lets one pod go at a time;
- worker IDs are leased: SNOWFLAKE_COORDINATOR=etcd, no SNOWFLAKE_WORKER_ID
  (nor --worker-id) anywhere, the node name from the pod's name;
- shutdown: a preStop hook, and a grace period that covers it and the drain;
- hardening: non-root, read-only root with the state directory on an
  emptyDir, no capabilities, no privilege escalation, seccomp RuntimeDefault.

Every failed check is reported, then the test exits 1. Run from the
repository root with SNOWFLAKED_BIN set (CTest does both).
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

REPO = os.getcwd()
K8S = os.path.join(REPO, "deploy/k8s")
YAMLLINT_CONFIG = os.path.join(REPO, "deploy/.yamllint")
# Room left in the grace period after the preStop sleep and the drain, for
# the final high-water mark and the lease release in etcd.
SHUTDOWN_MARGIN_S = 5

failures = []


def check(name):
    """Runs the decorated check at once. A failed assertion is a failure;
    so is any other error (a field missing or of the wrong type), named."""
    def run(fn):
        try:
            fn()
            print(f"ok: {name}")
        except Exception as e:  # pylint: disable=broad-except
            why = str(e) if isinstance(e, AssertionError) \
                else f"{type(e).__name__}: {e}"
            failures.append(f"{name}: {why}")
            print(f"FAIL: {name}: {why}")
        return fn
    return run


def load_manifests():
    """{kind: object} from deploy/k8s/*.yaml; one object per kind."""
    objects = {}
    files = sorted(glob.glob(os.path.join(K8S, "*.yaml")))
    assert files, f"no manifests in {K8S}"
    for path in files:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                kind = doc.get("kind")
                assert kind and doc.get("apiVersion") and \
                    doc.get("metadata", {}).get("name"), \
                    f"{path}: an object without apiVersion, kind or name"
                assert kind not in objects, f"two objects of kind {kind}"
                objects[kind] = doc
    return objects


def node_settings(binary):
    """The variable names and defaults snowflaked's --help lists."""
    text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                          check=True).stdout
    names = set(re.findall(r"env (SNOWFLAKE_[A-Z0-9_]+)", text))
    assert "SNOWFLAKE_LISTEN" in names, "--help lists no env SNOWFLAKE_LISTEN"
    drain = re.search(r"--drain-timeout-ms MS=(\d+)", text)
    return names, int(drain.group(1)) if drain else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, urllib.error.URLError):
        return 0


def port_number(port, container):
    """A probe's or Service's port (a number or a port name) as a number."""
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError(f"port name {port!r} is not a port of the container")


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v
                                  for k, v in selector.items())


def main():
    binary = os.environ.get("SNOWFLAKED_BIN")
    if not binary:
        sys.exit("SNOWFLAKED_BIN is not set (the built snowflaked)")
    binary = os.path.abspath(binary)
    settings, default_drain_ms = node_settings(binary)

    @check("yamllint")
    def _():
        files = sorted(glob.glob(os.path.join(K8S, "*.yaml")))
        run = subprocess.run(["yamllint", "--strict", "-c", YAMLLINT_CONFIG]
                             + files, capture_output=True, text=True)
        assert run.returncode == 0, "\n" + (run.stdout + run.stderr).strip()

    try:
        objects = load_manifests()
    except (AssertionError, yaml.YAMLError) as e:
        print(f"FAIL: parse: {e}")
        sys.exit(1)
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "ConfigMap"):
        if kind not in objects:
            print(f"FAIL: parse: no {kind} in {K8S}")
            sys.exit(1)
    print(f"ok: parsed {', '.join(sorted(objects))}")
    deployment = objects["Deployment"]
    service = objects["Service"]
    pdb = objects["PodDisruptionBudget"]
    configmap = objects["ConfigMap"]
    pod = deployment["spec"]["template"]
    pod_spec = pod["spec"]
    containers = pod_spec.get("containers", [])
    container = next((c for c in containers if c.get("name") == "snowflaked"),
                     containers[0] if containers else {})
    env_list = container.get("env", [])
    env = {e["name"]: e for e in env_list}
    pod_labels = pod.get("metadata", {}).get("labels", {})

    def value(name):
        """A plain env value, or None (unset or from a reference)."""
        entry = env.get(name)
        return None if entry is None else entry.get("value")

    @check("SNOWFLAKE_* names are settings of snowflaked (--help)")
    def _():
        names = [e["name"] for e in env_list]
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            if ref == configmap["metadata"]["name"]:
                names += list(configmap.get("data", {}))
        unknown = sorted(n for n in names
                         if n.startswith("SNOWFLAKE_") and n not in settings)
        assert not unknown, f"not settings of snowflaked: {unknown}"

    @check("ConfigMap references name existing keys")
    def _():
        name = configmap["metadata"]["name"]
        data = configmap.get("data", {})
        for e in env_list:
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            if ref is None:
                continue
            assert ref.get("name") == name, \
                f"{e['name']} reads ConfigMap {ref.get('name')!r}, " \
                f"not {name!r} (configmap.yaml)"
            assert ref.get("optional") or ref.get("key") in data, \
                f"{e['name']} reads key {ref.get('key')!r}, which " \
                f"ConfigMap {name!r} lacks (it has {sorted(data)})"

    @check("snowflaked --check-config accepts the pod's environment")
    def _():
        pod_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        samples = {"metadata.name": "snowflaked-7d9f8b6c5d-x2x4q",
                   "status.podIP": "10.244.1.17"}
        data = configmap.get("data", {})
        for e in env_list:
            ref = e.get("valueFrom", {})
            if "value" in e:
                # Kubernetes expands $(NAME) of variables defined above.
                v = re.sub(r"\$\((\w+)\)",
                           lambda m: pod_env.get(m.group(1), m.group(0)),
                           str(e["value"]))
            elif "fieldRef" in ref:
                v = samples.get(ref["fieldRef"].get("fieldPath"), "x")
            elif "configMapKeyRef" in ref:
                v = data.get(ref["configMapKeyRef"].get("key"))
                if v is None:
                    continue
            else:
                continue
            pod_env[e["name"]] = str(v)
        run = subprocess.run([binary, "--check-config"], env=pod_env,
                             capture_output=True, text=True, cwd=REPO)
        # Errors and warnings (an unknown SNOWFLAKE_* is only warned
        # about) are on stderr.
        assert run.returncode == 0 and not run.stderr.strip(), \
            f"exit {run.returncode}: {run.stderr.strip()}"

    probes = {kind: container.get(kind) for kind in
              ("startupProbe", "readinessProbe", "livenessProbe")}

    @check("probe paths: startup and readiness /readyz, liveness /healthz")
    def _():
        want = {"startupProbe": "/readyz", "readinessProbe": "/readyz",
                "livenessProbe": "/healthz"}
        for kind, path in want.items():
            probe = probes[kind]
            assert probe, f"no {kind}"
            got = probe.get("httpGet", {}).get("path")
            assert got == path, f"{kind} GETs {got!r}, not {path}"

    @check("a real snowflaked answers every probe path 200")
    def _():
        paths = sorted({p.get("httpGet", {}).get("path") for p in
                        probes.values() if p and p.get("httpGet")})
        assert paths, "no HTTP probe"
        tmp = tempfile.mkdtemp(prefix="snowflake-k8s-")
        port = free_port()
        env_clean = {k: v for k, v in os.environ.items()
                     if not k.startswith("SNOWFLAKE_")}
        proc = None
        try:
            with open(os.path.join(tmp, "log"), "wb") as log:
                proc = subprocess.Popen(
                    [binary, "--coordinator", "static", "--worker-id", "1",
                     "--state-dir", os.path.join(tmp, "state"),
                     "--listen", f"127.0.0.1:{port}", "--threads", "1"],
                    cwd=tmp, env=env_clean, stdout=log,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            statuses = {}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and proc.poll() is None:
                statuses = {p: http_status(port, p) for p in paths}
                if all(s == 200 for s in statuses.values()):
                    break
                time.sleep(0.1)
            assert proc.poll() is None, \
                f"snowflaked exited {proc.returncode}: " \
                + open(os.path.join(tmp, "log")).read()[-1000:]
            bad = {p: s for p, s in statuses.items() if s != 200}
            assert not bad, f"not 200 from the node: {bad}"
        finally:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            shutil.rmtree(tmp, ignore_errors=True)

    @check("one port: container, SNOWFLAKE_LISTEN, ADVERTISE, probes, "
           "Service, Prometheus")
    def _():
        ports = container.get("ports", [])
        assert len(ports) == 1, f"the container declares {len(ports)} ports"
        port = ports[0]["containerPort"]
        listen = value("SNOWFLAKE_LISTEN")
        assert listen, "SNOWFLAKE_LISTEN is not set to a plain value"
        host, _, listen_port = listen.rpartition(":")
        assert host in ("0.0.0.0", "[::]"), \
            f"SNOWFLAKE_LISTEN={listen}: not on all addresses, so the " \
            "kubelet and the Service cannot reach it"
        assert listen_port == str(port), \
            f"SNOWFLAKE_LISTEN={listen} but containerPort {port}"
        advertise = value("SNOWFLAKE_ADVERTISE") or ""
        assert advertise.rpartition(":")[2] == str(port), \
            f"SNOWFLAKE_ADVERTISE={advertise!r} does not name port {port}"
        for kind, probe in probes.items():
            got = port_number(probe.get("httpGet", {}).get("port"), container)
            assert got == port, f"{kind} probes port {got}, not {port}"
        service_ports = service["spec"].get("ports", [])
        assert service_ports, "the Service has no ports"
        for p in service_ports:
            target = port_number(p.get("targetPort", p.get("port")),
                                 container)
            assert target == port, \
                f"Service port {p.get('port')} targets {target}, not {port}"
        notes = pod.get("metadata", {}).get("annotations", {})
        assert notes.get("prometheus.io/scrape") == "true", \
            "no prometheus.io/scrape: \"true\" annotation"
        assert notes.get("prometheus.io/port") == str(port), \
            f"prometheus.io/port is {notes.get('prometheus.io/port')!r}, " \
            f"not \"{port}\""
        assert notes.get("prometheus.io/path", "/metrics") == "/metrics", \
            f"prometheus.io/path is {notes.get('prometheus.io/path')!r}"

    @check("selectors select the Deployment's pod labels")
    def _():
        selector = deployment["spec"].get("selector", {}).get("matchLabels")
        assert selects(selector, pod_labels), \
            f"Deployment selector {selector} vs pod labels {pod_labels}"
        assert selects(service["spec"].get("selector"), pod_labels), \
            f"Service selector {service['spec'].get('selector')} vs pod " \
            f"labels {pod_labels}"
        pdb_selector = pdb["spec"].get("selector", {}).get("matchLabels")
        assert selects(pdb_selector, pod_labels), \
            f"PodDisruptionBudget selector {pdb_selector} vs pod labels " \
            f"{pod_labels}"
        assert pdb["spec"].get("maxUnavailable") == 1, \
            f"PodDisruptionBudget maxUnavailable is " \
            f"{pdb['spec'].get('maxUnavailable')!r}, not 1"
        for c in pod_spec.get("topologySpreadConstraints", []):
            s = c.get("labelSelector", {}).get("matchLabels")
            assert selects(s, pod_labels), \
                f"topologySpreadConstraints selector {s} vs pod labels " \
                f"{pod_labels}"

    @check("worker IDs leased from etcd, never set")
    def _():
        assert value("SNOWFLAKE_COORDINATOR") == "etcd", \
            f"SNOWFLAKE_COORDINATOR is " \
            f"{value('SNOWFLAKE_COORDINATOR')!r}, not etcd"
        assert "SNOWFLAKE_WORKER_ID" not in env, \
            "the Deployment sets SNOWFLAKE_WORKER_ID"
        assert "SNOWFLAKE_WORKER_ID" not in configmap.get("data", {}), \
            "the ConfigMap has SNOWFLAKE_WORKER_ID"
        args = container.get("args", []) + container.get("command", [])
        assert not any(str(a).startswith("--worker-id") for a in args), \
            f"the container's arguments set --worker-id: {args}"
        node = env.get("SNOWFLAKE_NODE_NAME", {})
        field = node.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        assert field == "metadata.name", \
            f"SNOWFLAKE_NODE_NAME is not the pod's name (fieldRef " \
            f"{field!r})"

    @check("shutdown: preStop, then a grace period covering the drain")
    def _():
        pre_stop = (container.get("lifecycle") or {}).get("preStop")
        assert pre_stop, "no preStop hook: the pod gets SIGTERM while " \
            "endpoints still send it traffic"
        sleep_s = (pre_stop.get("sleep") or {}).get("seconds", 0)
        drain = value("SNOWFLAKE_DRAIN_TIMEOUT_MS")
        drain_s = (int(drain) if drain else default_drain_ms or 0) / 1000
        grace = pod_spec.get("terminationGracePeriodSeconds", 30)
        need = sleep_s + drain_s + SHUTDOWN_MARGIN_S
        assert grace >= need, \
            f"terminationGracePeriodSeconds {grace} < preStop {sleep_s} s " \
            f"+ drain {drain_s:g} s + {SHUTDOWN_MARGIN_S} s"

    @check("hardening: non-root, read-only root, state dir on an emptyDir, "
           "no capabilities, seccomp")
    def _():
        pod_sc = pod_spec.get("securityContext", {})
        sc = container.get("securityContext", {})

        def either(key):
            return sc.get(key, pod_sc.get(key))
        assert either("runAsNonRoot") is True, "runAsNonRoot is not true"
        assert either("runAsUser") not in (0, None), \
            "runAsUser is unset or 0"
        assert sc.get("readOnlyRootFilesystem") is True, \
            "readOnlyRootFilesystem is not true"
        assert sc.get("allowPrivilegeEscalation") is False, \
            "allowPrivilegeEscalation is not false"
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], \
            f"capabilities drop {sc.get('capabilities', {}).get('drop')}, " \
            "not [ALL]"
        assert (either("seccompProfile") or {}).get("type") == \
            "RuntimeDefault", "seccompProfile is not RuntimeDefault"
        state_dir = value("SNOWFLAKE_STATE_DIR")
        assert state_dir, "SNOWFLAKE_STATE_DIR is not set"
        mount = next((m for m in container.get("volumeMounts", [])
                      if m.get("mountPath") == state_dir), None)
        assert mount, f"nothing is mounted at SNOWFLAKE_STATE_DIR " \
            f"{state_dir}: the root file system is read-only"
        volume = next((v for v in pod_spec.get("volumes", [])
                       if v.get("name") == mount.get("name")), {})
        assert "emptyDir" in volume, \
            f"volume {mount.get('name')!r} at {state_dir} is not an emptyDir"

    if failures:
        print(f"k8s_test: {len(failures)} check(s) failed")
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
