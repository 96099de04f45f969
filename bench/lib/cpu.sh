# shellcheck shell=bash
# Section 10 of bench/run: the CPU time a node spends per ID, at fixed
# offered request rates well below its peak, against nginx answering
# bodies of the same size at the same request rates. One ID per request
# (GET /v1/id, nginx: the node's body) and binary batches of 100, 1,000 and
# 4,096 IDs (nginx: a file holding one of the node's own answers of that
# size), with batch rates that make 1 M IDs/s. A node that spins while it
# waits for the next tick shows here: its CPU per ID grows with the batch
# size. One pinned node (--threads 1) and one nginx worker on $SERVER_CPUS,
# h2load on $LOAD_CPUS. Sourced, never run.

# COUNT RATE: IDs per request, requests/s offered.
CPU_CASES=("1 10000" "100 10000" "1000 1000" "4096 244")
CPU_CONNECTIONS=4 # of h2load, each at its share of the rate

# run_cpu KEY PORT TARGET RATE COUNT: h2load at RATE requests/s for
# $H2_DURATION; samples KEY.rps (achieved), KEY.share (the server's CPU, %
# of one core), KEY.us_per_request and KEY.s_per_m_ids (CPU seconds per
# million IDs, COUNT IDs or bytes of COUNT IDs per answer), KEY.bad (not
# 2xx). The server is SERVER_PID and its children; its CPU the scheduler's
# time of their threads (in ns: /proc/PID/stat counts ticks of 10 ms).
run_cpu() {
  local key=$1 port=$2 target=$3 rate=$4 count=$5 out pin per_client
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  per_client=$(awk -v r="$rate" -v c="$CPU_CONNECTIONS" 'BEGIN {printf "%.3f", r / c}')
  local cmd="$pin h2load --h1 -t 1 -c $CPU_CONNECTIONS --rps $per_client -D $H2_DURATION http://127.0.0.1:$port$target"
  local cpu0 cpu1 t0 us
  # shellcheck disable=SC2046
  cpu0=$(schedstat_ns 1 $(server_pids))
  t0=$EPOCHREALTIME
  others_begin
  # shellcheck disable=SC2086
  $cmd >"$out" 2>&1 || log "h2load failed ($key): $(tail -3 "$out")"
  others_end "$key"
  us=$(us_between "$t0" "$EPOCHREALTIME")
  # shellcheck disable=SC2046
  cpu1=$(schedstat_ns 1 $(server_pids))
  note_command "h2load CPU per ID" "$cmd   # --rps is per client: offered = rps x $CPU_CONNECTIONS"
  local rps ok all
  rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$out" | tail -1)
  ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$out" | tail -1)
  all=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' "$out" | tail -1)
  [[ -n $ok && $ok -gt 0 ]] || {
    log "h2load $key: no 2xx answer: $(tail -3 "$out")"
    return 0
  }
  local cpu=$((cpu1 - cpu0))
  sample "$key.rps" "$rps"
  sample "$key.share" "$(calc "$cpu / 1e3 / $us * 100")"
  sample "$key.us_per_request" "$(calc "$cpu / 1e3 / $ok")"
  sample "$key.s_per_m_ids" "$(calc "$cpu / 1e9 / ($ok * $count / 1e6)")"
  sample "$key.bad" "$((all - ok))"
  log "  $key: offered $rate, achieved ${rps:-?} req/s, CPU $(calc "$cpu / 1e3 / $us * 100") % of a core, $(calc "$cpu / 1e3 / $ok") us per request"
}

# cpu_target SERVER COUNT: what the load asks SERVER for.
cpu_target() {
  if [[ $2 == 1 ]]; then
    echo /v1/id
  elif [[ $1 == node ]]; then
    echo "/v1/ids?count=$2&format=binary"
  else
    echo "/bin/ids-$2"
  fi
}

measure_cpu() {
  local case count rate run server
  # shellcheck disable=SC2046
  start_node cpu_node "$SERVER_CPUS" $(pinned_threads)
  [[ -n ${NGINX_BODY:-} ]] || NGINX_BODY=$(curl -sf "http://127.0.0.1:$CPU_NODE_PORT/v1/id")
  # nginx's bodies: one of the node's own answers of each size.
  mkdir -p "$WORK/cpu_nginx/www/bin"
  for case in "${CPU_CASES[@]}"; do
    read -r count rate <<<"$case"
    ((count > 1)) || continue
    curl -sf "http://127.0.0.1:$CPU_NODE_PORT$(cpu_target node "$count")" \
      >"$WORK/cpu_nginx/www/bin/ids-$count" || die "the node did not answer count=$count"
    sample "size.cpu_$count.bytes" "$(wc -c <"$WORK/cpu_nginx/www/bin/ids-$count")"
  done
  start_nginx cpu_nginx "$SERVER_CPUS" 1
  log "CPU per ID: ${#CPU_CASES[@]} loads, $RUNS run(s) of $H2_DURATION each, node and nginx in turn"
  for ((run = 1; run <= RUNS; run++)); do
    for case in "${CPU_CASES[@]}"; do
      read -r count rate <<<"$case"
      for server in node nginx; do
        if [[ $server == node ]]; then
          SERVER_PID=$CPU_NODE_PID run_cpu "cpu.$count.node" "$CPU_NODE_PORT" \
            "$(cpu_target node "$count")" "$rate" "$count"
        else
          SERVER_PID=$CPU_NGINX_PID run_cpu "cpu.$count.nginx" "$CPU_NGINX_PORT" \
            "$(cpu_target nginx "$count")" "$rate" "$count"
        fi
      done
    done
  done
  stop_registered "$CPU_NGINX_PID"
  stop_registered "$CPU_NODE_PID"
  for case in "${CPU_CASES[@]}"; do
    read -r count rate <<<"$case"
    sample "cpu.$count.ratio" "$(ratio "$(med "cpu.$count.node.s_per_m_ids")" \
      "$(med "cpu.$count.nginx.s_per_m_ids")")"
  done
  sample cpu.growth "$(cpu_growth)"
}

# cpu_growth: how much the node's CPU per million IDs grows from one batch
# size to the next larger (100 to 1,000 to 4,096): the largest of the two
# ratios; 1 or less when it does not grow.
cpu_growth() {
  local a b c
  a=$(med cpu.100.node.s_per_m_ids)
  b=$(med cpu.1000.node.s_per_m_ids)
  c=$(med cpu.4096.node.s_per_m_ids)
  awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
    if (a == "nan" || b == "nan" || c == "nan" || a == 0 || b == 0) { print "nan"; exit }
    r1 = b / a; r2 = c / b; printf "%.3f\n", (r1 > r2 ? r1 : r2) }'
}

# cpu_keys: the figures section 10 needs (check_figures).
cpu_keys() {
  local case count server
  for case in "${CPU_CASES[@]}"; do
    read -r count _ <<<"$case"
    for server in node nginx; do
      echo "cpu.$count.$server.rps" "cpu.$count.$server.share" \
        "cpu.$count.$server.us_per_request" "cpu.$count.$server.s_per_m_ids" \
        "cpu.$count.$server.others"
    done
    echo "cpu.$count.ratio"
    ((count == 1)) || echo "size.cpu_$count.bytes"
  done
  echo cpu.growth
}

# cpu_headline_rows: section 10's rows of the report's headline table.
cpu_headline_rows() {
  cat <<EOF
| 10 | CPU at 1 M IDs/s in batches of 1,000 (% of a core) | $(cell pct1 cpu.1000.node.share) | nginx at the same request rate $(cell pct1 cpu.1000.nginx.share) | $(cell x cpu.1000.ratio) | $(goal_cell cpu_share) |
| 10 | CPU per million IDs, growth from one batch size to the next (100, 1,000, 4,096) | | | $(cell x cpu.growth) | $(goal_cell cpu_growth) |
EOF
}

# write_cpu_section: the report's section 10.
write_cpu_section() {
  local pinned="any CPU" load="any CPU"
  [[ -z $SERVER_CPUS ]] || pinned="CPU $SERVER_CPUS"
  [[ -z $LOAD_CPUS ]] || load="CPU $LOAD_CPUS"
  record "$RUNS" "$H2_DURATION" "$CPU_CONNECTIONS" "$pinned" "$load" "$(pinned_threads)"
  local case count rate rows="" what
  local per_m # CPU per million IDs: ms, or s for one ID a request
  for case in "${CPU_CASES[@]}"; do
    read -r count rate <<<"$case"
    record "$count" "$rate"
    if ((count == 1)); then
      what="one ID per request"
      per_m=(s 1)
    else
      what="batches of $(fmt int "$count"), binary ($(cell kib "size.cpu_$count.bytes"))"
      per_m=(ms 1000)
    fi
    rows+="| $what | $(fmt int "$rate") | $(fmt ids "$(calc "$rate * $count")") | $(cell int "cpu.$count.node.rps") | $(cell pct1 "cpu.$count.node.share") | $(cell us "cpu.$count.node.us_per_request") | $(cell "${per_m[0]}" "cpu.$count.node.s_per_m_ids" "${per_m[1]}") | $(cell pct1 "cpu.$count.nginx.share") | $(cell us "cpu.$count.nginx.us_per_request") | $(cell "${per_m[0]}" "cpu.$count.nginx.s_per_m_ids" "${per_m[1]}") | **$(cell x "cpu.$count.ratio")** | $(fmt pct "$(med "cpu.$count.node.others")") |"$'\n'
  done
  cat <<EOF
## 10. CPU per ID

The node on $pinned ($(pinned_threads)), nginx with one worker on the
same CPU, h2load on $load with $CPU_CONNECTIONS connections at a fixed
offered rate for $H2_DURATION, node and nginx in turn, $RUNS run(s) each.
The CPU is the servers' own (the scheduler's time of every thread of the
node, of nginx's master and worker), over the whole load; per request and
per million IDs it is divided by the answers that were 2xx. nginx answers
one ID per request with the node's body, and a batch with a file that
contains one of the node's own answers of that size, so both send the same
bytes at the same request rate: the ratio is what the node's work of
making IDs costs over an HTTP server's floor. The batch rates make 1 M
IDs/s; at such rates a node that spun while it waited for the next tick
of its clock would show CPU per ID growing with the batch size.

| load | offered (requests/s) | IDs/s | node achieved (requests/s) | node CPU (% of a core) | node CPU per request | node CPU per million IDs | nginx CPU (% of a core) | nginx CPU per request | nginx CPU per million IDs (same bytes) | node/nginx | others' CPU (node runs) |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows%$'\n'}

$(goal_sentence cpu_share "$(fmt pct1 "$(goal_figure cpu_share)")") $(goal_sentence cpu_growth "$(fmt x "$(goal_figure cpu_growth)")")

EOF
}

cpu_headline_line() {
  printf 'CPU at 1 M IDs/s in batches of 1,000 = %s of a core (goal %s), node/nginx = %s; CPU per million IDs growth = %s (goal %s)\n' \
    "$(fmt pct1 "$(goal_figure cpu_share)")" "$(goal_limit cpu_share)" \
    "$(fmt x "$(med cpu.1000.ratio)")" "$(fmt x "$(goal_figure cpu_growth)")" \
    "$(goal_limit cpu_growth)"
}
