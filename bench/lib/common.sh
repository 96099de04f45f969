# shellcheck shell=bash
# Helpers shared by bench/run: logging, the processes it starts (and stops by
# PID on exit), free loopback ports, raw HTTP probes from bash, and the store
# of measured samples with their medians. Sourced, never run.

log() { printf '[bench %3ds] %s\n' "$SECONDS" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --- processes ---------------------------------------------------------------

# "pid signal name" of every long-running process bench/run started.
STARTED=()

# Registers a started process; cleanup stops it with `signal`.
register_pid() { STARTED+=("$1 $2 $3"); }

# Sends `signal` to pid and waits up to 10 s for it to go, then SIGKILL.
stop_pid() {
  local pid=$1 signal=$2 name=$3 i
  if alive "$pid"; then
    kill -s "$signal" "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then
      log "$name (pid $pid) ignored SIG$signal for 10 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.05
      done
    fi
  fi
  # Reap it if it is a child of this shell (a zombie by now).
  if [[ $(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ') == "$$" ]]; then
    wait "$pid" 2>/dev/null || true
  fi
}

# Stops one registered process now and forgets it.
stop_registered() {
  local pid=$1 entry kept=()
  for entry in "${STARTED[@]}"; do
    if [[ ${entry%% *} == "$pid" ]]; then
      # shellcheck disable=SC2086
      stop_pid $entry
    else
      kept+=("$entry")
    fi
  done
  STARTED=("${kept[@]}")
}

# trap EXIT: everything still registered, newest first.
cleanup() {
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    # shellcheck disable=SC2086
    stop_pid ${STARTED[i]}
  done
  STARTED=()
  if [[ -n ${WORK:-} && -d $WORK && ${KEEP_WORK:-0} != 1 ]]; then
    rm -rf "$WORK"
  fi
}

# Whether a process is alive (and not a zombie of ours).
alive() { kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]; }

# --- ports and HTTP from bash (no fork per probe) ------------------------------

USED_PORTS=" "

# free_port VAR: a port on 127.0.0.1 nothing listens on, below the kernel's
# ephemeral range (so no client socket of a load generator can hold it).
# shellcheck disable=SC2034 # out is a nameref: the caller's variable
free_port() {
  local -n out=$1
  local _fp_port _fp_fd _fp_i
  for ((_fp_i = 0; _fp_i < 200; _fp_i++)); do
    _fp_port=$((20000 + RANDOM % 12000))
    [[ $USED_PORTS == *" $_fp_port "* ]] && continue
    if { exec {_fp_fd}<>"/dev/tcp/127.0.0.1/$_fp_port"; } 2>/dev/null; then
      exec {_fp_fd}>&-
      continue
    fi
    USED_PORTS+="$_fp_port "
    out=$_fp_port
    return 0
  done
  die "no free port found"
}

# http_code PORT PATH: prints the status code of GET PATH, or fails if the
# port does not accept a connection.
http_code() {
  local fd code
  { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' \
    "$2" 2>/dev/null 1>&"$fd" || {
    exec {fd}>&-
    return 1
  }
  read -r -t 5 _ code _ <&"$fd" || true
  exec {fd}>&-
  [[ -n ${code:-} ]] || return 1
  printf '%s\n' "$code"
}

# A file descriptor whose read never returns data: `nap` sleeps without a fork.
NAP_FD=""
nap() {
  if [[ -z $NAP_FD ]]; then
    mkfifo "$WORK/nap.fifo"
    exec {NAP_FD}<>"$WORK/nap.fifo"
  fi
  read -r -t "$1" -u "$NAP_FD" _ || true
}

# How often wait_http polls (start-up times are measured by ready_probe).
WAIT_POLL_SECONDS=0.0005

# wait_http PORT PATH PID [SECONDS]: polls every WAIT_POLL_SECONDS until
# GET PATH answers 200; fails if PID dies or SECONDS (default 30) pass first.
wait_http() {
  local port=$1 path=$2 pid=$3 limit=${4:-30} start=$EPOCHREALTIME
  while :; do
    [[ $(http_code "$port" "$path" 2>/dev/null) == 200 ]] && return 0
    alive "$pid" || return 1
    if (($(ms_since "$start") > limit * 1000)); then return 1; fi
    nap "$WAIT_POLL_SECONDS"
  done
}

# ms_since EPOCHREALTIME: whole milliseconds since then.
ms_since() {
  local now=$EPOCHREALTIME
  echo $(((${now/./} - ${1/./}) / 1000))
}

# us_between A B: microseconds between two EPOCHREALTIME readings.
us_between() { echo $((${2/./} - ${1/./})); }

# --- samples -----------------------------------------------------------------

# sample KEY VALUE: one measurement (a run) of figure KEY.
sample() {
  [[ $2 =~ ^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$ ]] || {
    log "figure $1: not a number: '$2'"
    return 0
  }
  printf '%s\n' "$2" >>"$WORK/samples/$1"
}

# stats KEY: "median min max n" of KEY's samples, or nothing.
stats() {
  local f="$WORK/samples/$1"
  [[ -s $f ]] || return 0
  sort -g "$f" | awk '{v[NR] = $1}
    END {
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%.10g %.10g %.10g %d\n", m, v[1], v[NR], NR
    }'
}

# med KEY: the median of KEY, or "nan".
med() {
  local s
  s=$(stats "$1")
  s=${s%% *}
  echo "${s:-nan}"
}

# ratio A B: A / B to 3 decimals, or "nan" if either is missing.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a !~ /^-?[0-9.eE+-]+$/ || b !~ /^-?[0-9.eE+-]+$/ || b + 0 == 0) print "nan"
    else printf "%.3f\n", a / b
  }'
}

# calc EXPR: floating-point arithmetic on plain numbers.
calc() { awk "BEGIN { printf \"%.10g\\n\", ($*) }"; }

# note_command LABEL COMMAND: the exact command, listed in the report once
# per label (the first one run).
note_command() {
  grep -q -F -x -- "$1" "$WORK/command_labels" 2>/dev/null && return 0
  printf '%s\n' "$1" >>"$WORK/command_labels"
  printf '%s\t%s\n' "$1" "$(tr -s ' ' <<<"$2" | sed 's/^ //')" >>"$WORK/commands.tsv"
}

# --- how much CPU other processes took during a measurement ---------------------

# The machine is shared: during each load, the CPU time of the whole machine
# (user, system and steal: the hypervisor's other guests; not interrupt
# time, mostly the kernel's work on our own loopback traffic) minus that of
# the server (SERVER_PID and its children) and of the load generator (this
# shell's reaped children) is what others took.
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $9; exit}' /proc/stat; }
proc_jiffies() {
  local pid total=0 j
  for pid in "$@"; do
    j=$(awk '{sub(/^.*\) /, ""); print $12 + $13 + $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + ${j:-0}))
  done
  echo "$total"
}
server_pids() {
  [[ -n ${SERVER_PID:-} ]] || return 0
  echo "$SERVER_PID"
  ps -o pid= --ppid "$SERVER_PID" 2>/dev/null || true
}

# schedstat_ns FIELD PIDS...: a field of /proc/PID/task/*/schedstat summed
# over the threads of these processes, in ns: 1, the time on a CPU; 2, the
# time runnable but waiting for a CPU (the run-queue wait). "%.0f", not
# "%d": mawk's %d stops at 2^31, 2.1 s.
schedstat_ns() {
  local field=$1 pid total=0 w
  shift
  for pid in "$@"; do
    w=$(awk -v f="$field" '{s += $f} END {printf "%.0f", s}' "/proc/$pid"/task/*/schedstat 2>/dev/null) || continue
    total=$((total + ${w:-0}))
  done
  echo "$total"
}

# others_begin; <run the load>; others_end KEY: samples KEY.others, the
# CPU others took, in % of one CPU, and KEY.rqwait, the time the server's
# threads waited for a CPU, in % of the run.
others_begin() {
  # shellcheck disable=SC2046
  OTHERS_RQ0=$(schedstat_ns 2 $(server_pids))
  OTHERS_T0=$EPOCHREALTIME
  OTHERS_BUSY0=$(busy_jiffies)
  # shellcheck disable=SC2046
  OTHERS_SERVER0=$(proc_jiffies $(server_pids))
  OTHERS_SELF0=$(proc_jiffies $$)
}
others_end() {
  local busy server self us rq
  busy=$(busy_jiffies)
  # shellcheck disable=SC2046
  rq=$(schedstat_ns 2 $(server_pids))
  # shellcheck disable=SC2046
  server=$(proc_jiffies $(server_pids))
  self=$(proc_jiffies $$)
  us=$(us_between "$OTHERS_T0" "$EPOCHREALTIME")
  local hz
  hz=$(getconf CLK_TCK)
  sample "$1.others" "$(awk -v b=$((busy - OTHERS_BUSY0)) \
    -v s=$((server - OTHERS_SERVER0)) -v m=$((self - OTHERS_SELF0)) \
    -v us="$us" -v hz="$hz" 'BEGIN {
      o = (b - s - m) / hz / (us / 1e6) * 100; printf "%.0f\n", (o < 0 ? 0 : o) }')"
  [[ -z ${SERVER_PID:-} ]] ||
    sample "$1.rqwait" "$(awk -v w=$((rq - OTHERS_RQ0)) -v us="$us" 'BEGIN {printf "%.1f\n", w / 1e3 / us * 100}')"
}
