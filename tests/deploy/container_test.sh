#!/usr/bin/env bash
# deploy/container: the Dockerfile checked statically (hadolint is not
# packaged: a few checks that matter), then the image that
# deploy/container/build-image.sh assembles run for real with podman:
# /readyz 200, /v1/id, gRPC listening (the image holds the module gRPC is
# loaded from), the process not root, the root file system read-only with
# no capabilities, and `podman stop` (SIGTERM) a graceful exit 0 that
# stored the high-water mark in the volume. The image's configuration must
# equal the Dockerfile's.
#
# Where podman cannot run a container, the same root file system
# (build-image.sh --rootfs) runs under chroot as the image's user when this
# test runs as root; CONTAINER_TEST_RUNNER=chroot asks for that path. With
# neither, the test says why and exits 77 (CTest's SKIP_RETURN_CODE).
#
# Podman in a VM or container may need options a normal host does not; they
# are tried in order, each by running `snowflaked --version` in the image,
# and the first that works is used (and printed):
#   - none;
#   - lower rlimits (podman raises RLIMIT_NOFILE and RLIMIT_NPROC, which
#     fails without CAP_SYS_RESOURCE: "setrlimit ... Operation not
#     permitted");
#   - the same with runc (crun refuses hybrid cgroup v1/v2 hosts: "cgroups
#     in hybrid mode not supported").
#
# Run from the repository root (CTest does), with SNOWFLAKED_BIN and
# SNOWFLAKE_CLI_BIN naming the built binaries.
set -euo pipefail

cd "$(dirname "$0")/../.."

readonly SKIP=77
readonly DOCKERFILE=deploy/container/Dockerfile
readonly BUILD_IMAGE=deploy/container/build-image.sh
readonly IMAGE="localhost/snowflaked:test-$$"
readonly CONTAINER="snowflaked-test-$$"

step() { echo "== $*"; }
ok() { echo "ok: $*"; }
fail() {
  echo "container_test: FAIL: $*" >&2
  exit 1
}
skip() {
  echo "container_test: SKIP (exit $SKIP): $*" >&2
  exit "$SKIP"
}

daemon=${SNOWFLAKED_BIN:-build/release/src/daemon/snowflaked}
[[ -x "$daemon" ]] || fail "SNOWFLAKED_BIN ($daemon) is not an executable"
export SNOWFLAKED_BIN=$daemon
export SNOWFLAKE_CLI_BIN=${SNOWFLAKE_CLI_BIN:-build/release/src/cli/snowflake}

tmp=$(mktemp -d)
chroot_pid=""
podman_global=()
cleanup() {
  if [[ -n "$chroot_pid" ]] && kill -0 "$chroot_pid" 2>/dev/null; then
    kill -KILL "$chroot_pid" 2>/dev/null || true
  fi
  if command -v podman >/dev/null; then
    podman "${podman_global[@]}" rm -f -v "$CONTAINER" >/dev/null 2>&1 || true
    podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
step "static checks of $DOCKERFILE"
[[ -r "$DOCKERFILE" ]] || fail "$DOCKERFILE is missing"
# The final stage (what runs), with continuation lines joined and comments
# dropped.
final=$(sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$DOCKERFILE" \
  | grep -v '^[[:space:]]*#' \
  | awk '/^FROM[[:space:]]/ { stage = "" } { stage = stage $0 "\n" } END { printf "%s", stage }')
instruction() { grep -E "^$1[[:space:]]" <<<"$final" | tail -1 | sed -E "s/^$1[[:space:]]+//" || true; }

user=$(instruction USER)
[[ -n "$user" ]] || fail "the final stage sets no USER: the node would run as root"
[[ "${user%%:*}" =~ ^[0-9]+$ ]] \
  || fail "USER $user is not numeric: Kubernetes' runAsNonRoot cannot verify a name"
((${user%%:*} != 0)) || fail "USER $user is root"
ok "USER $user (numeric, not root)"

entrypoint=$(instruction ENTRYPOINT)
[[ "$entrypoint" == '["/usr/bin/snowflaked"]' ]] \
  || fail "ENTRYPOINT is '$entrypoint', not [\"/usr/bin/snowflaked\"] (exec form: snowflaked must be PID 1 to get SIGTERM)"
ok "ENTRYPOINT $entrypoint"

stopsignal=$(instruction STOPSIGNAL)
[[ "$stopsignal" == SIGTERM ]] || fail "STOPSIGNAL is '$stopsignal', not SIGTERM (what begins the drain)"
ok "STOPSIGNAL SIGTERM"

env_line=$(grep -E '^ENV[[:space:]]' <<<"$final" | tr '\n' ' ')
listen=$(grep -oE 'SNOWFLAKE_LISTEN=[^[:space:]]+' <<<"$env_line" | tail -1 | cut -d= -f2-)
state_dir=$(grep -oE 'SNOWFLAKE_STATE_DIR=[^[:space:]]+' <<<"$env_line" | tail -1 | cut -d= -f2-)
[[ "$listen" == 0.0.0.0:* ]] \
  || fail "ENV SNOWFLAKE_LISTEN is '$listen': it must listen on 0.0.0.0 to be reachable from outside the container"
expose=$(instruction EXPOSE)
[[ "$expose" == "${listen##*:}" || "$expose" == "${listen##*:}/tcp" ]] \
  || fail "EXPOSE $expose does not match the port of SNOWFLAKE_LISTEN=$listen"
ok "EXPOSE $expose matches SNOWFLAKE_LISTEN=$listen"

volume=$(instruction VOLUME)
[[ -n "$state_dir" && "$volume" == *"\"$state_dir\""* ]] \
  || fail "VOLUME $volume does not hold SNOWFLAKE_STATE_DIR=$state_dir (the high-water mark must outlive the container)"
ok "VOLUME $volume holds SNOWFLAKE_STATE_DIR"

settings=$("$daemon" --help | grep -oE 'env SNOWFLAKE_[A-Z0-9_]+' | cut -d' ' -f2 | sort -u)
for name in $(grep -oE 'SNOWFLAKE_[A-Z0-9_]+=' <<<"$env_line" | tr -d = | sort -u); do
  grep -qx "$name" <<<"$settings" || fail "ENV $name is not a setting of snowflaked (--help)"
done
ok "every SNOWFLAKE_* in ENV is a setting"

# ---------------------------------------------------------------------------
# The same value from the image's configuration and the Dockerfile.
check_image_config() {
  local got
  got=$(podman image inspect "$IMAGE" --format \
    '{{.Config.User}}|{{json .Config.Entrypoint}}|{{.Config.StopSignal}}|{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}|{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}')
  got=${got//\/tcp/}  # buildah writes "8080", docker "8080/tcp"
  local want="$user|$entrypoint|$stopsignal|${expose%/tcp} |$state_dir "
  [[ "$got" == "$want" ]] \
    || fail "image and Dockerfile differ: user|entrypoint|stop signal|ports|volumes: image '$got', Dockerfile '$want'"
  local env
  env=$(podman image inspect "$IMAGE" --format '{{range .Config.Env}}{{.}} {{end}}')
  for kv in "SNOWFLAKE_LISTEN=$listen" "SNOWFLAKE_STATE_DIR=$state_dir"; do
    [[ " $env" == *" $kv "* ]] || fail "the image's environment lacks $kv (has: $env)"
  done
  ok "the image's user, entrypoint, stop signal, port, volume and environment equal the Dockerfile's"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1$2" || true; }

# Waits for /readyz 200 on port $1 while `alive` (a command) succeeds.
wait_ready() {
  local port=$1 alive=$2 i
  for ((i = 0; i < 150; i++)); do
    [[ "$(http_status "$port" /readyz)" == 200 ]] && return 0
    $alive || return 1
    sleep 0.2
  done
  return 1
}

# The checks on a running node: ready, issues, not root.
check_serving() {
  local port=$1 pid=$2 id uid
  ok "/readyz 200"
  id=$(curl -s --max-time 2 "http://127.0.0.1:$port/v1/id")
  [[ "$id" =~ ^\{\"id\":\"[0-9]+\"\}$ ]] || fail "/v1/id answered '$id'"
  ok "/v1/id: $id"
  [[ "$(http_status "$port" /healthz)" == 200 ]] || fail "/healthz is not 200"
  uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
  [[ "$uid" == "${user%%:*}" ]] || fail "snowflaked runs as uid $uid, not ${user%%:*}"
  ok "snowflaked (pid $pid on the host) runs as uid $uid"
}

check_stop_log() {
  # gRPC on (SNOWFLAKE_GRPC_LISTEN): the image holds the module it loads.
  grep -q 'event=grpc_listening' <<<"$1" || fail "no event=grpc_listening in the log: the gRPC module did not load"
  grep -q 'event=shutdown_begin signal=15' <<<"$1" || fail "no event=shutdown_begin signal=15 in the log"
  grep -q 'event=stopped' <<<"$1" || fail "no event=stopped in the log"
  ok "the log shows the drain: shutdown_begin signal=15, stopped"
}

run_podman() {
  local -a run_opts=("$@")
  local port pid log code mount_dir
  port=$(free_port)
  step "podman run (host network, port $port, read-only, no capabilities)"
  podman "${podman_global[@]}" run -d --name "$CONTAINER" --network host \
    --read-only --cap-drop ALL --security-opt no-new-privileges \
    "${run_opts[@]}" -e "SNOWFLAKE_LISTEN=127.0.0.1:$port" -e SNOWFLAKE_THREADS=1 \
    -e "SNOWFLAKE_GRPC_LISTEN=127.0.0.1:$(free_port)" \
    "$IMAGE" >/dev/null
  running() { [[ "$(podman "${podman_global[@]}" inspect -f '{{.State.Running}}' "$CONTAINER")" == true ]]; }
  if ! wait_ready "$port" running; then
    podman "${podman_global[@]}" logs "$CONTAINER" >&2 || true
    fail "the container did not become ready on 127.0.0.1:$port"
  fi
  pid=$(podman "${podman_global[@]}" inspect -f '{{.State.Pid}}' "$CONTAINER")
  check_serving "$port" "$pid"

  step "podman stop (SIGTERM)"
  podman "${podman_global[@]}" stop -t 30 "$CONTAINER" >/dev/null
  code=$(podman "${podman_global[@]}" inspect -f '{{.State.ExitCode}}' "$CONTAINER")
  log=$(podman "${podman_global[@]}" logs "$CONTAINER" 2>&1)
  [[ "$code" == 0 ]] || { echo "$log" >&2; fail "the container exited $code after SIGTERM"; }
  ok "exit code 0"
  check_stop_log "$log"
  mount_dir=$(podman "${podman_global[@]}" inspect -f \
    "{{range .Mounts}}{{if eq .Destination \"$state_dir\"}}{{.Source}}{{end}}{{end}}" "$CONTAINER")
  [[ -n "$mount_dir" && -s "$mount_dir/hwm-worker-0" ]] \
    || fail "no high-water mark in the state volume ($mount_dir)"
  ok "the high-water mark is in the volume ($state_dir)"
}

run_chroot() {
  local root=$tmp/rootfs port log=$tmp/chroot.log code chroot_bin
  chroot_bin=$(command -v chroot)
  step "build-image.sh --rootfs"
  "$BUILD_IMAGE" --rootfs "$root"
  port=$(free_port)
  step "chroot as $user (port $port)"
  env -i "PATH=/usr/bin" "SNOWFLAKE_LISTEN=127.0.0.1:$port" \
    "SNOWFLAKE_STATE_DIR=$state_dir" SNOWFLAKE_THREADS=1 \
    "SNOWFLAKE_GRPC_LISTEN=127.0.0.1:$(free_port)" \
    "$chroot_bin" --userspec="$user" "$root" /usr/bin/snowflaked >"$log" 2>&1 &
  chroot_pid=$!
  alive() { kill -0 "$chroot_pid" 2>/dev/null; }
  if ! wait_ready "$port" alive; then
    cat "$log" >&2
    fail "the rootfs' snowflaked did not become ready on 127.0.0.1:$port"
  fi
  check_serving "$port" "$chroot_pid"
  step "SIGTERM"
  kill -TERM "$chroot_pid"
  code=0
  wait "$chroot_pid" || code=$?
  chroot_pid=""
  [[ "$code" == 0 ]] || { cat "$log" >&2; fail "snowflaked exited $code after SIGTERM"; }
  ok "exit code 0"
  check_stop_log "$(cat "$log")"
  [[ -s "$root$state_dir/hwm-worker-0" ]] || fail "no high-water mark in $state_dir"
  ok "the high-water mark is in $state_dir"
}

# Why podman cannot be used here, or nothing (and podman_global, run_opts
# set) when it can.
podman_problem=""
run_opts=()
choose_podman() {
  local tool out nofile
  for tool in podman buildah curl; do
    command -v "$tool" >/dev/null || { podman_problem="$tool not found (apt-get install $tool)"; return; }
  done
  step "build-image.sh --tag $IMAGE"
  if ! out=$("$BUILD_IMAGE" --tag "$IMAGE" 2>&1); then
    echo "$out" | tail -5 | cut -c1-300
    local last
    last=$(tail -1 <<<"$out")
    ((${#last} <= 240)) || last="...${last: -240}"  # the cause is at the end
    podman_problem="buildah cannot build here: $last"
    return
  fi
  echo "$out"
  check_image_config
  nofile=$(ulimit -Hn)
  [[ "$nofile" =~ ^[0-9]+$ ]] || nofile=65536
  local -a limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)
  local -a tries=("" "${limits[*]}" "--runtime runc ${limits[*]}")
  local try global opts
  for try in "${tries[@]}"; do
    global=()
    opts=()
    if [[ "$try" == "--runtime runc "* ]]; then
      command -v runc >/dev/null || continue
      global=(--runtime runc)
      try=${try#--runtime runc }
    fi
    read -ra opts <<<"$try"
    local shown="podman ${global[*]:+${global[*]} }run${opts[*]:+ ${opts[*]}}"
    # --network none: a bridge would have netavark add NAT rules (and
    # connection tracking) to the host, which then slows every loopback
    # connection of the tests that run after this one.
    if out=$(podman "${global[@]}" run --rm --network none "${opts[@]}" "$IMAGE" --version 2>&1); then
      podman_global=("${global[@]}")
      run_opts=("${opts[@]}")
      podman_problem=""
      echo "podman runs the image: $shown"
      return
    fi
    # The runtime refused (try the next way), or the container ran and
    # snowflaked failed: the image is broken, whatever runs it.
    grep -qE 'OCI |crun: |runc: |conmon' <<<"$out" \
      || fail "the image does not run (\`$shown $IMAGE --version\`): $out"
    podman_problem="podman cannot run a container here: $(tail -1 <<<"$out")"
    echo "note: $shown: $(tail -1 <<<"$out")"
  done
}

if [[ "${CONTAINER_TEST_RUNNER:-}" == chroot ]]; then
  podman_problem="CONTAINER_TEST_RUNNER=chroot"
else
  choose_podman
fi

if [[ -z "$podman_problem" ]]; then
  run_podman "${run_opts[@]}"
  step "remove the container and the image"
  podman "${podman_global[@]}" rm -v "$CONTAINER" >/dev/null
  podman rmi "$IMAGE" >/dev/null
  ok "removed $CONTAINER and $IMAGE"
  echo "container_test: PASS (podman)"
elif [[ $(id -u) -eq 0 ]] && command -v chroot >/dev/null && command -v curl >/dev/null; then
  echo "note: $podman_problem; running the image's root file system under chroot instead"
  run_chroot
  echo "container_test: PASS (chroot: the image's files and settings, not the image itself)"
else
  skip "$podman_problem; and not root, so no chroot of the root file system either"
fi
