# shellcheck shell=bash
# Section 6b of bench/run: start to /readyz 200 in static mode, a first
# start (empty state folder) and a restart after a graceful stop (the
# high-water mark to honour); nginx's start to its first 200 as the
# baseline. Runs alone as `bench/run --only start`. Sourced, never run.

# start_keys: the figures of start-up (check_figures).
start_keys() { echo start.node_first.ms start.node_restart.ms start.nginx.ms; }

# How often ready_probe tries a new connection while a server starts.
START_POLL_US=250

# probe_start KEY NAME SIGNAL PORT PATH LOG -- COMMAND...: starts COMMAND
# through ready_probe (bench/lib/ready_probe.cc), which times it from its
# spawn to the first 200 answer to GET PATH on PORT; samples KEY (ms),
# registers the server as NAME (stopped with SIGNAL) and sets PROBED_PID
# to its PID. COMMAND's output goes to LOG. The probe runs on $LOAD_CPUS
# when the servers are pinned (COMMAND then pins the server itself; the
# server would otherwise inherit the probe's CPUs).
probe_start() {
  local key=$1 name=$2 signal=$3 port=$4 path=$5 log=$6 out pin
  [[ $7 == -- ]] || die "probe_start: no -- before the command"
  shift 7
  pin=""
  [[ -z $SERVER_CPUS ]] || pin=$(pin_prefix "$LOAD_CPUS")
  # shellcheck disable=SC2086,SC2094 # $pin: words; the probe and the server append to LOG
  out=$($pin "$READY_PROBE_BIN" "$port" "$path" "$log" "$START_POLL_US" -- "$@" 2>>"$log") ||
    die "$name did not answer 200 to GET $path: $(tail -3 "$log")"
  [[ $out =~ ^pid=([0-9]+)\ ready_us=([0-9]+)\  ]] || die "ready_probe printed '$out'"
  PROBED_PID=${BASH_REMATCH[1]}
  register_pid "$PROBED_PID" "$signal" "$name"
  sample "$key" "$(calc "${BASH_REMATCH[2]} / 1000")"
  note_command "start to ready (${name%%-*})" "$pin $READY_PROBE_BIN $port $path $log $START_POLL_US -- $*"
}

measure_start() {
  log "start to ready (static mode), $RUNS runs, polled by ready_probe every $START_POLL_US µs"
  local run port dir kind
  for ((run = 1; run <= RUNS; run++)); do
    dir="$WORK/start$run"
    mkdir -p "$dir"
    for kind in first restart; do
      free_port port
      # shellcheck disable=SC2046
      probe_start "start.node_$kind.ms" "node-start$run" TERM "$port" /readyz "$dir/log" -- \
        $(pin_prefix "$SERVER_CPUS") "$SNOWFLAKED" --listen "127.0.0.1:$port" \
        --state-dir "$dir/state" $(pinned_threads)
      # The node's answer, for nginx to answer with one of the same size.
      [[ -n ${NGINX_BODY:-} ]] || NGINX_BODY=$(curl -sf "http://127.0.0.1:$port/v1/id")
      # Issue some IDs so that the restart has a high-water mark to honour.
      http_code "$port" "/v1/ids?count=$BATCH" >/dev/null || true
      stop_registered "$PROBED_PID"
    done
    free_port port
    write_nginx_conf "$dir/nginx" "$port" 1 on
    # shellcheck disable=SC2046
    probe_start start.nginx.ms "nginx-start$run" QUIT "$port" / "$dir/nginx/log" -- \
      $(pin_prefix "$SERVER_CPUS") nginx -p "$dir/nginx" -e "$dir/nginx/error.log" \
      -c "$dir/nginx/nginx.conf"
    stop_registered "$PROBED_PID"
  done
  log "  node first start $(med start.node_first.ms) ms, restart $(med start.node_restart.ms) ms, nginx $(med start.nginx.ms) ms"
}

# start_method: how start-up is timed (section 6 and --only start).
start_method() {
  local load="any CPU"
  [[ -z $SERVER_CPUS || -z $LOAD_CPUS ]] || load="CPU $LOAD_CPUS"
  record "$load"
  echo "Start-up is timed by \`ready_probe\` (bench/lib/ready_probe.cc, on $load): it
starts the server itself (through \`taskset\` when pinned) and reads one monotonic clock
just before the spawn and when the first 200 answer arrives, trying a new connection
every $(fmt us "$START_POLL_US"), all in one process (no process started per try)."
}

# write_start_section: the report of `bench/run --only start` (the full
# report has these rows in its section 6).
write_start_section() {
  record "$RUNS"
  cat <<EOF
## Start-up

Start to ready in static mode, $RUNS run(s) of each: the node's first
start (an empty state folder) and its restart after a graceful stop (the
high-water mark file present); nginx with one worker, start to its
first 200, as the baseline.

| figure | node | nginx | ratio |
|---|---|---|---|
| start to ready (\`/readyz\` 200; nginx: first 200), first start | $(cell ms start.node_first.ms) | $(cell ms start.nginx.ms) | $(fmt x "$(ratio "$(med start.node_first.ms)" "$(med start.nginx.ms)")") |
| the same, restart after a graceful stop (HWM file present) | $(cell ms start.node_restart.ms) | | $(fmt x "$(ratio "$(med start.node_restart.ms)" "$(med start.nginx.ms)")") |

$(start_method)
$(goal_sentence start "$(fmt ms "$(med start.node_first.ms)")")

EOF
}

start_headline_line() {
  printf 'start to ready: node first start = %s, restart = %s, nginx = %s (medians of %s runs)\n' \
    "$(fmt ms "$(med start.node_first.ms)")" "$(fmt ms "$(med start.node_restart.ms)")" \
    "$(fmt ms "$(med start.nginx.ms)")" "$RUNS"
}
