# shellcheck shell=bash
# Section 11 of bench/run: a node holding two worker IDs against the cap of
# one (issue 14, goal 2). One worker ID issues at most the layout's cap
# ($CAP_IDS_PER_SECOND IDs/s); a node started with --workers 2 holds two,
# one generator each, and I/O thread i issues from worker i mod 2. Both
# nodes unpinned with two I/O threads (--threads 2): one with --workers 2,
# one with --workers 1 (the default shape) beside it, loaded in turn with
# binary batches of $BATCH by wrk ($UNPINNED_WRK_THREADS threads,
# $CONNECTIONS connections, dealt to the I/O threads in turn), as the
# unpinned batches of section 3 are. Runs alone as `bench/run --only
# workers`. Sourced, never run.

# The worker counts measured, each with --threads WORKERS_THREADS: the
# default shape, then the goal's (the keys are workers.1.*, workers.2.*).
WORKERS_COUNTS=(1 2)
WORKERS_THREADS=2

# workers_target: what the load asks for.
workers_target() { echo "/v1/ids?count=$BATCH&format=binary"; }

# workers_check_held PORT N: the node on PORT reports N worker IDs held
# (/v1/info), or the run stops: its figures would not be those of N workers.
workers_check_held() {
  local port=$1 n=$2 info
  info=$(curl -sf "http://127.0.0.1:$port/v1/info") ||
    die "GET /v1/info of the node with --workers $n failed"
  [[ $info == *"\"workers_held\":$n,"* || $info == *"\"workers_held\":$n}"* ]] ||
    die "the node started with --workers $n does not hold $n worker IDs: /v1/info says $(grep -o '"workers_\(held\|wanted\)":[0-9]*' <<<"$info" | tr '\n' ' ')"
}

# workers_count_samples KEY: how many samples KEY has.
workers_count_samples() {
  if [[ -s $WORK/samples/$1 ]]; then wc -l <"$WORK/samples/$1"; else echo 0; fi
}

measure_workers() {
  local n run pid port first second rps before
  for n in "${WORKERS_COUNTS[@]}"; do
    start_node "workers$n" "" --workers "$n" --threads "$WORKERS_THREADS"
    port=WORKERS${n}_PORT
    workers_check_held "${!port}" "$n"
  done
  log "node with 2 workers: --workers ${WORKERS_COUNTS[*]} in turn, --threads $WORKERS_THREADS, unpinned; binary batches of $BATCH, wrk with $UNPINNED_WRK_THREADS threads, $RUNS run(s) of $BATCH_SECONDS s each"
  if ((WARMUP_SECONDS)); then
    for n in "${WORKERS_COUNTS[@]}"; do
      port=WORKERS${n}_PORT
      LOAD_CPUS="" run_wrk warmup "${!port}" "$(workers_target)" "$WARMUP_SECONDS" "$UNPINNED_WRK_THREADS"
    done
  fi
  for ((run = 1; run <= RUNS; run++)); do
    # The order alternates so that neither node always runs first.
    first=1 second=2
    ((run % 2)) || first=2 second=1
    local -A this=()
    for n in $first $second; do
      pid=WORKERS${n}_PID port=WORKERS${n}_PORT
      before=$(workers_count_samples "workers.$n.binary.rps")
      SERVER_PID=${!pid} LOAD_CPUS="" run_wrk "workers.$n.binary" "${!port}" \
        "$(workers_target)" "$BATCH_SECONDS" "$UNPINNED_WRK_THREADS"
      # Only a run that gave a figure counts (no earlier run's stands in).
      (($(workers_count_samples "workers.$n.binary.rps") > before)) || continue
      rps=$(tail -1 "$WORK/samples/workers.$n.binary.rps")
      this[$n]=$rps
      sample "workers.$n.cap_ratio" "$(ratio "$(calc "$rps * $BATCH")" "$CAP_IDS_PER_SECOND")"
    done
    # This pair's ratio, 2 workers over 1, taken seconds apart.
    sample workers.pair_ratio "$(ratio "${this[2]:-}" "${this[1]:-}")"
  done
  for n in "${WORKERS_COUNTS[@]}"; do
    pid=WORKERS${n}_PID port=WORKERS${n}_PORT
    workers_check_held "${!port}" "$n"
    stop_registered "${!pid}"
  done
  log "  IDs/s over the cap: 1 worker $(med workers.1.cap_ratio), 2 workers $(med workers.2.cap_ratio); 2 workers / 1 worker $(med workers.pair_ratio)"
}

# workers_keys: the figures section 11 needs (check_figures).
workers_keys() {
  local n
  for n in "${WORKERS_COUNTS[@]}"; do
    echo "workers.$n.binary.rps" "workers.$n.binary.p50" "workers.$n.binary.p99" \
      "workers.$n.binary.others" "workers.$n.binary.rqwait" "workers.$n.cap_ratio"
  done
  echo workers.pair_ratio
}

# workers_headline_rows: section 11's rows of the report's headline table.
workers_headline_rows() {
  local cap
  cap=$(fmt ids "$CAP_IDS_PER_SECOND")
  record "${WORKERS_COUNTS[@]}" "$(nproc)"
  cat <<EOF
| 11 | batches of $(fmt int "$BATCH"), binary, node with ${WORKERS_COUNTS[1]} workers, unpinned on $(nproc) CPUs (IDs/s) | $(cell ids workers.2.binary.rps "$BATCH") | cap of one worker ID $cap | $(cell x workers.2.cap_ratio) | $(goal_cell workers) |
| 11 | the same, node with ${WORKERS_COUNTS[0]} worker (IDs/s) | $(cell ids workers.1.binary.rps "$BATCH") | cap of one worker ID $cap | $(cell x workers.1.cap_ratio) | |
EOF
}

# write_workers_section: the report's section 11.
write_workers_section() {
  record "$RUNS" "$BATCH_SECONDS" "$CONNECTIONS" "$UNPINNED_WRK_THREADS" \
    "$WORKERS_THREADS" "$(nproc)" "$BATCH" "${WORKERS_COUNTS[@]}"
  local n rows=""
  for n in "${WORKERS_COUNTS[@]}"; do
    rows+="| \`--workers $n --threads $WORKERS_THREADS\` | $(cell int "workers.$n.binary.rps") | $(cell ids "workers.$n.binary.rps" "$BATCH") | **$(cell x "workers.$n.cap_ratio")** | $(cell us "workers.$n.binary.p50") | $(cell us "workers.$n.binary.p99") | $(env_cell "workers.$n.binary") |"$'\n'
  done
  cat <<EOF
## 11. A node with ${WORKERS_COUNTS[1]} workers

Two nodes, unpinned on this machine's $(nproc) CPUs, each with
\`--threads $WORKERS_THREADS\`: one started with \`--workers ${WORKERS_COUNTS[1]}\` (that many worker IDs,
one generator each; I/O thread i issues from worker i mod ${WORKERS_COUNTS[1]}), and one
with \`--workers ${WORKERS_COUNTS[0]}\`, the default, beside it. Each node's \`/v1/info\`
gave \`workers_held\` equal to its \`--workers\` before and after the load. wrk
with $UNPINNED_WRK_THREADS threads and $CONNECTIONS connections (dealt to the I/O threads in turn)
asks for binary batches of $(fmt int "$BATCH") for $BATCH_SECONDS s, the two nodes in turn,
$RUNS run(s) each, as for the unpinned node of section 3. IDs/s = requests/s x
$(fmt int "$BATCH"). The cap, $(fmt ids "$CAP_IDS_PER_SECOND") IDs/s, is the ceiling of one worker
ID: past it, a node issues from more than one.

| node | requests/s | IDs/s | ratio to the cap | p50 | p99 | others' CPU / server waited |
|---|---|---|---|---|---|---|
${rows%$'\n'}

Ratio of the node with ${WORKERS_COUNTS[1]} workers to the one with ${WORKERS_COUNTS[0]}, run by run (median, min–max):
$(cell x workers.pair_ratio). $(goal_sentence workers "$(fmt x "$(goal_figure workers)")")

EOF
}

# workers_headline_line: the last line of `bench/run --only workers`.
workers_headline_line() {
  printf 'node with %s workers: IDs/s / cap = %s (goal %s); with %s worker: %s; ratio %s/%s = %s (binary batches of %s, medians of %s runs)\n' \
    "${WORKERS_COUNTS[1]}" "$(fmt x "$(goal_figure workers)")" "$(goal_limit workers)" \
    "${WORKERS_COUNTS[0]}" "$(fmt x "$(med workers.1.cap_ratio)")" \
    "${WORKERS_COUNTS[1]}" "${WORKERS_COUNTS[0]}" "$(fmt x "$(med workers.pair_ratio)")" \
    "$BATCH" "$RUNS"
}
