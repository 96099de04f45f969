# shellcheck shell=bash
# Section 9 of bench/run: what a program gets from one node through the
# client library and through gRPC. Client::Next() from one thread against
# the layout's cap (bench/lib/client_bench.cc), with the time of one Next()
# served from the buffer; gRPC NextIds(1) against a gRPC server answering a
# constant reply of the same size (bench/lib/grpc_baseline.cc), both loaded
# by bench/lib/grpc_load.cc; StreamIds read by one consumer against the cap.
# One pinned node (servers on $SERVER_CPUS, the programs on $LOAD_CPUS).
# Sourced, never run.

# The client's counters the section shows (ClientStats's names, as
# client_result prints them).
CLIENT_COUNTERS=(buffer_hits buffer_misses refills dropped_stale requests)

# run_client_bench KEY URL: one run of client_bench; samples KEY.ids_per_s,
# KEY.cap_ratio, KEY.buffer_ns and the counters only when every call
# returned an ID, in order.
run_client_bench() {
  local key=$1 url=$2 out pin line status=0
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  local cmd="$pin $CLIENT_BENCH_BIN $url $CLIENT_SECONDS $CLIENT_WARMUP_SECONDS"
  others_begin
  # shellcheck disable=SC2086
  $cmd >"$out" 2>"$out.err" || status=$?
  others_end "$key"
  note_command "client_bench" "$cmd"
  line=$(grep '^client_result ' "$out" | tail -1)
  if ((status)) || [[ -z $line ]]; then
    log "client_bench $key: exit $status, ${line:-no result}: no figure; $(tail -3 "$out.err")"
    return 0
  fi
  local -A r=()
  local kv
  for kv in ${line#client_result }; do r[${kv%%=*}]=${kv#*=}; done
  sample "$key.ids_per_s" "${r[ids_per_s]}"
  sample "$key.cap_ratio" "$(calc "${r[ids_per_s]} / $CAP_IDS_PER_SECOND")"
  sample "$key.buffer_ns" "${r[buffer_ns]}"
  sample "$key.buffer_blocks" "${r[buffer_blocks]}"
  sample "$key.blocks" "${r[blocks]}"
  local c
  for c in "${CLIENT_COUNTERS[@]}"; do sample "$key.$c" "${r[$c]}"; done
  CLIENT_BLOCK=${r[block]}
  log "  $key: ${r[ids_per_s]} IDs/s, ${r[buffer_ns]} ns per Next() from the buffer (${r[buffer_blocks]} of ${r[blocks]} blocks), buffer_hits ${r[buffer_hits]}, buffer_misses ${r[buffer_misses]}, refills ${r[refills]}, dropped_stale ${r[dropped_stale]}"
}

# run_grpc_unary KEY TARGET: one run of NextIds(1) from $CONNECTIONS
# connections; samples KEY.rps, KEY.p50, KEY.p99 (microseconds), KEY.bad.
run_grpc_unary() {
  local key=$1 target=$2 out pin line status=0
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  local cmd="$pin $GRPC_LOAD_BIN unary $target $GRPC_SECONDS $GRPC_WARMUP_SECONDS $CONNECTIONS"
  others_begin
  # shellcheck disable=SC2086
  $cmd >"$out" 2>"$out.err" || status=$?
  others_end "$key"
  note_command "grpc_load unary" "$cmd"
  line=$(grep '^grpc_result ' "$out" | tail -1)
  if ((status)) || [[ -z $line ]]; then
    log "grpc_load $key: exit $status, ${line:-no result}: no figure; $(tail -3 "$out.err")"
    return 0
  fi
  local -A r=()
  local kv
  for kv in ${line#grpc_result }; do r[${kv%%=*}]=${kv#*=}; done
  sample "$key.rps" "${r[rps]}"
  sample "$key.p50" "${r[p50_us]}"
  sample "$key.p99" "${r[p99_us]}"
  sample "$key.bad" "${r[bad]}"
  log "  $key: ${r[rps]} calls/s, p50 ${r[p50_us]} us, p99 ${r[p99_us]} us"
}

# run_grpc_stream KEY TARGET: one StreamIds($BATCH) read for
# $GRPC_SECONDS; samples KEY.ids_per_s and KEY.cap_ratio when every
# message was full and every ID above the one before.
run_grpc_stream() {
  local key=$1 target=$2 out pin line status=0
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  local cmd="$pin $GRPC_LOAD_BIN stream $target $GRPC_SECONDS $GRPC_WARMUP_SECONDS $BATCH"
  others_begin
  # shellcheck disable=SC2086
  $cmd >"$out" 2>"$out.err" || status=$?
  others_end "$key"
  note_command "grpc_load stream" "$cmd"
  line=$(grep '^stream_result ' "$out" | tail -1)
  if ((status)) || [[ -z $line ]]; then
    log "grpc_load $key: exit $status, ${line:-no result}: no figure; $(tail -3 "$out.err")"
    return 0
  fi
  local -A r=()
  local kv
  for kv in ${line#stream_result }; do r[${kv%%=*}]=${kv#*=}; done
  sample "$key.ids_per_s" "${r[ids_per_s]}"
  sample "$key.cap_ratio" "$(calc "${r[ids_per_s]} / $CAP_IDS_PER_SECOND")"
  sample "$key.messages" "${r[messages]}"
  log "  $key: ${r[ids_per_s]} IDs/s in ${r[messages]} messages"
}

# grpc_reply KEY TARGET: one NextIds(1) (grpc_load once); samples the
# reply's size as KEY.bytes and prints "ID WORKER_ID FIRST_TICK LAST_TICK".
grpc_reply() {
  local key=$1 target=$2 out line
  out=$(raw_file "$key")
  "$GRPC_LOAD_BIN" once "$target" >"$out" 2>&1 ||
    die "NextIds(1) on $target failed: $(tail -3 "$out")"
  line=$(grep '^reply ' "$out" | tail -1)
  local -A r=()
  local kv
  for kv in ${line#reply }; do r[${kv%%=*}]=${kv#*=}; done
  sample "$key.bytes" "${r[bytes]}"
  echo "${r[id]} ${r[worker_id]} ${r[first_tick]} ${r[last_tick]}"
}

# measure_client: the node (pinned, with --grpc-listen), then each load.
measure_client() {
  local grpc_port run reply
  free_port grpc_port
  # shellcheck disable=SC2046
  start_node client_node "$SERVER_CPUS" $(pinned_threads) --grpc-listen "127.0.0.1:$grpc_port"
  local node="127.0.0.1:$grpc_port"
  log "client: Client::Next() from one thread, $RUNS run(s) of $CLIENT_SECONDS s"
  for ((run = 1; run <= RUNS; run++)); do
    SERVER_PID=$CLIENT_NODE_PID run_client_bench client.next "http://127.0.0.1:$CLIENT_NODE_PORT"
  done

  reply=$(grpc_reply size.grpc_node "$node")
  # shellcheck disable=SC2086
  start_grpc_baseline grpc_baseline "$SERVER_CPUS" $reply
  local baseline="127.0.0.1:$GRPC_BASELINE_PORT"
  grpc_reply size.grpc_baseline "$baseline" >/dev/null
  [[ $(med size.grpc_node.bytes) == "$(med size.grpc_baseline.bytes)" ]] ||
    log "warning: the node's reply is $(med size.grpc_node.bytes) bytes, the baseline's $(med size.grpc_baseline.bytes)"
  log "client: gRPC NextIds(1), node and baseline, $GRPC_PAIRS pair(s) of $GRPC_SECONDS s"
  for ((run = 1; run <= GRPC_PAIRS; run++)); do
    if ((run % 2)); then
      SERVER_PID=$CLIENT_NODE_PID run_grpc_unary grpc.node "$node"
      SERVER_PID=$GRPC_BASELINE_PID run_grpc_unary grpc.baseline "$baseline"
    else
      SERVER_PID=$GRPC_BASELINE_PID run_grpc_unary grpc.baseline "$baseline"
      SERVER_PID=$CLIENT_NODE_PID run_grpc_unary grpc.node "$node"
    fi
    sample grpc.pair_ratio "$(ratio "$(tail -1 "$WORK/samples/grpc.node.rps" 2>/dev/null)" \
      "$(tail -1 "$WORK/samples/grpc.baseline.rps" 2>/dev/null)")"
  done
  stop_registered "$GRPC_BASELINE_PID"

  log "client: gRPC StreamIds($BATCH), $RUNS run(s) of $GRPC_SECONDS s"
  for ((run = 1; run <= RUNS; run++)); do
    SERVER_PID=$CLIENT_NODE_PID run_grpc_stream grpc.stream "$node"
  done
  stop_registered "$CLIENT_NODE_PID"
  log "  client/cap $(med client.next.cap_ratio), $(med client.next.buffer_ns) ns per Next(), gRPC node/baseline $(med grpc.pair_ratio), stream/cap $(med grpc.stream.cap_ratio)"
}

# client_keys: the figures section 9 needs (check_figures).
client_keys() {
  local k
  echo client.next.ids_per_s client.next.cap_ratio client.next.buffer_ns \
    client.next.buffer_blocks client.next.blocks client.next.others
  for k in "${CLIENT_COUNTERS[@]}"; do echo "client.next.$k"; done
  for k in grpc.node grpc.baseline; do echo "$k.rps" "$k.p50" "$k.p99" "$k.others"; done
  echo grpc.pair_ratio grpc.stream.ids_per_s grpc.stream.cap_ratio \
    grpc.stream.messages grpc.stream.others size.grpc_node.bytes \
    size.grpc_baseline.bytes
}

# client_headline_rows: section 9's rows of the report's headline table.
client_headline_rows() {
  local cap
  cap=$(fmt ids "$CAP_IDS_PER_SECOND")
  cat <<EOF
| 9 | client \`Next()\`, one thread, one node (IDs/s) | $(cell ids client.next.ids_per_s) | cap $cap | $(cell x client.next.cap_ratio) | $(goal_cell client_cap) |
| 9 | client \`Next()\` served from the buffer (per call) | $(cell ns client.next.buffer_ns) | | | $(goal_cell client_next) |
| 9 | gRPC \`NextIds(1)\` (calls/s) | $(cell int grpc.node.rps) | constant-reply gRPC server $(cell int grpc.baseline.rps) | $(cell x grpc.pair_ratio) | $(goal_cell grpc) |
| 9 | gRPC \`StreamIds\`, one consumer (IDs/s) | $(cell ids grpc.stream.ids_per_s) | cap $cap | $(cell x grpc.stream.cap_ratio) | $(goal_cell stream) |
EOF
}

# write_client_section: the report's section 9.
write_client_section() {
  local pinned="any CPU"
  [[ -z $SERVER_CPUS ]] || pinned="CPU $SERVER_CPUS"
  local load="any CPU"
  [[ -z $LOAD_CPUS ]] || load="CPU $LOAD_CPUS"
  record "$RUNS" "$GRPC_PAIRS" "$CONNECTIONS" "$CLIENT_SECONDS" \
    "$CLIENT_WARMUP_SECONDS" "$GRPC_SECONDS" "$GRPC_WARMUP_SECONDS" \
    "$BATCH" "${CLIENT_BLOCK:-}" "$pinned" "$load" "$(pinned_threads)"
  local k counters="" rows=""
  for k in "${CLIENT_COUNTERS[@]}"; do
    counters+="| \`$k\` | $(cell int "client.next.$k") |"$'\n'
  done
  rows+="| client \`Next()\`, one thread (IDs/s) | $(cell ids client.next.ids_per_s) | cap $(fmt ids "$CAP_IDS_PER_SECOND") | **$(cell x client.next.cap_ratio)** | | | $(env_cell client.next) |"$'\n'
  rows+="| client \`Next()\` served from the buffer, per call | $(cell ns client.next.buffer_ns) | | | | | |"$'\n'
  rows+="| gRPC \`NextIds(1)\`, node (calls/s) | $(cell int grpc.node.rps) | constant-reply server $(cell int grpc.baseline.rps) | **$(cell x grpc.pair_ratio)** | $(cell us grpc.node.p50) | $(cell us grpc.node.p99) | $(env_cell grpc.node) |"$'\n'
  rows+="| gRPC \`NextIds(1)\`, constant-reply server (calls/s) | $(cell int grpc.baseline.rps) | | | $(cell us grpc.baseline.p50) | $(cell us grpc.baseline.p99) | $(env_cell grpc.baseline) |"$'\n'
  rows+="| gRPC \`StreamIds\`, one consumer (IDs/s) | $(cell ids grpc.stream.ids_per_s) | cap $(fmt ids "$CAP_IDS_PER_SECOND") | **$(cell x grpc.stream.cap_ratio)** | | | $(env_cell grpc.stream) |"
  cat <<EOF
## 9. The client library and gRPC

One node, on $pinned with \`$(pinned_threads)\` and \`--grpc-listen\`; the programs
that load it on $load, each measured after a warm-up that is not counted.

- **Client \`Next()\`**: one thread of \`bench/lib/client_bench.cc\`, a program
  linked with the client library (\`snowflake::client\`, its defaults:
  prefetch on), calls \`Client::Next()\` in a loop: $CLIENT_WARMUP_SECONDS s not counted (the refill
  size follows the rate of calls), then $CLIENT_SECONDS s; $RUNS run(s), a new client each.
  The node issues at most the layout's cap, so IDs/s over the cap is the
  share of the node's issue rate that one caller gets through the buffer.
- **\`Next()\` served from the buffer**: the same loop times blocks of
  ${CLIENT_BLOCK:-n/a} calls (two clock reads a block, and the client's counters read
  around it, outside the timing) and keeps only the blocks in which no call
  waited for a refill (\`buffer_misses\` did not move): the figure is the
  median, over those blocks, of their time per call. The node plays no part
  in those calls; the client's refill thread, on the same CPU, may preempt
  a block, which the median leaves out.
- **gRPC \`NextIds(1)\`**: \`bench/lib/grpc_load.cc\`, one thread of gRPC's
  async API, $CONNECTIONS connections with one call in flight on each (a closed loop, like
  wrk's), $GRPC_WARMUP_SECONDS s not counted then $GRPC_SECONDS s, against the node and against
  \`bench/lib/grpc_baseline.cc\`: a server of the same service
  (\`snowflake.v1.IdService\`) with the node's gRPC server settings (the
  synchronous API, its thread quota and request size limit), whose
  \`NextIds\` answers every call with one reply built at start from the
  node's own (one fixed64 ID, the worker ID and the ticks):
  $(cell int size.grpc_node.bytes) bytes serialized from the node, $(cell int size.grpc_baseline.bytes) from the baseline. $GRPC_PAIRS pair(s) of runs,
  seconds apart, the order alternating; the ratio is the median of the
  pairs' ratios. What the node adds to gRPC's own cost is its ID service:
  the generator, the checks, the metrics.
- **gRPC \`StreamIds\`**: one \`StreamIds\` call (batch $BATCH) read by one consumer
  (grpc_load, the synchronous API), $GRPC_WARMUP_SECONDS s not counted then $GRPC_SECONDS s.

| figure | measured | baseline (same run) | ratio | p50 | p99 | others' CPU / server waited |
|---|---|---|---|---|---|---|
$rows

The client's counters over the counted part of a run (medians), and how
many blocks were timed without a refill wait:

| \`ClientStats\` counter | per run |
|---|---|
${counters}| blocks without a wait, of all blocks | $(cell int client.next.buffer_blocks) of $(cell int client.next.blocks) |

$(goal_sentence client_cap "$(fmt x "$(goal_figure client_cap)")")
$(goal_sentence client_next "$(fmt ns "$(goal_figure client_next)")")
$(goal_sentence grpc "$(fmt x "$(goal_figure grpc)")")
$(goal_sentence stream "$(fmt x "$(goal_figure stream)")")

EOF
}

# client_headline_line: the last line of `bench/run --only client`.
client_headline_line() {
  printf 'client Next()/cap = %s (%s per Next() from the buffer, goal %s); gRPC NextIds(1) node/baseline = %s (goal %s); StreamIds/cap = %s (goal %s)\n' \
    "$(fmt x "$(goal_figure client_cap)")" "$(fmt ns "$(goal_figure client_next)")" \
    "$(goal_limit client_next)" "$(fmt x "$(goal_figure grpc)")" "$(goal_limit grpc)" \
    "$(fmt x "$(goal_figure stream)")" "$(goal_limit stream)"
}
