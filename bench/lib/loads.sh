# shellcheck shell=bash
# The load generators of bench/run, each run once per call, pinned to
# $LOAD_CPUS, with what it measured stored as samples (see common.sh) under
# the given key, and KEY.others: the CPU other processes took meanwhile
# (the server measured is SERVER_PID). Raw outputs stay in $WORK/raw.
# Sourced, never run.

raw_file() {
  mkdir -p "$WORK/raw"
  echo "$WORK/raw/$1.$((++RAW_SEQ))"
}
RAW_SEQ=0

# run_wrk KEY PORT TARGET SECONDS THREADS [ACCEPT]: closed-loop keep-alive
# load with $CONNECTIONS connections. Samples KEY.rps and KEY.p50/.p99/.p999
# (microseconds), KEY.bad (errors and non-2xx answers).
run_wrk() {
  local key=$1 port=$2 target=$3 secs=$4 threads=$5 accept=${6:-} out pin line
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  local cmd="$pin wrk -t$threads -c$CONNECTIONS -d${secs}s --latency -s $ROOT/bench/wrk_report.lua http://127.0.0.1:$port$target"
  others_begin
  # shellcheck disable=SC2086
  WRK_ACCEPT=$accept $cmd >"$out" 2>&1 || log "wrk failed ($key): $(tail -3 "$out")"
  others_end "$key"
  note_command "wrk $key" "${accept:+WRK_ACCEPT='$accept' }$cmd"
  line=$(grep '^wrk_result ' "$out" | tail -1)
  [[ -n $line ]] || {
    log "wrk printed no result ($key)"
    return 0
  }
  local rps p50 p99 p999 errors non2xx
  eval "$(tr ' ' '\n' <<<"${line#wrk_result }" |
    sed -n 's/^\(rps\|p50_us\|p99_us\|p999_us\|errors\|non2xx\)=\([0-9.]*\)$/\1=\2/p' |
    sed 's/_us=/=/')"
  sample "$key.rps" "$rps"
  sample "$key.p50" "$p50"
  sample "$key.p99" "$p99"
  sample "$key.p999" "$p999"
  sample "$key.bad" "$((errors + non2xx))"
  sample "$key.requests" "$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")"
  ((errors + non2xx == 0)) || log "wrk $key: $errors socket errors, $non2xx non-2xx answers"
  log "  $key: $rps req/s, p50 ${p50} us, p99 ${p99} us"
}

# run_redis KEY PORT PIPELINE REQUESTS: INCR of one key from $CONNECTIONS
# connections, PIPELINE commands in flight on each. Samples KEY.rps,
# KEY.p50 and KEY.p99 (microseconds).
run_redis() {
  local key=$1 port=$2 pipeline=$3 requests=$4 out pin line
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  local cmd="$pin redis-benchmark -h 127.0.0.1 -p $port -c $CONNECTIONS -n $requests -t incr -P $pipeline --csv"
  others_begin
  # shellcheck disable=SC2086
  $cmd >"$out" 2>&1 || log "redis-benchmark failed ($key): $(tail -3 "$out")"
  others_end "$key"
  note_command "redis-benchmark $key" "$cmd"
  line=$(grep '^"INCR"' "$out" | tail -1 | tr -d '"')
  local rps p50 p99
  IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"$line"
  sample "$key.rps" "${rps:-}"
  sample "$key.p50" "$(calc "${p50:-0} * 1000")"
  sample "$key.p99" "$(calc "${p99:-0} * 1000")"
  log "  $key: ${rps:-?} INCR/s"
}

# run_pgbench KEY PORT SECONDS: `SELECT nextval('s')` from $CONNECTIONS
# clients, prepared statements. Samples KEY.rps and KEY.avg (microseconds).
run_pgbench() {
  local key=$1 port=$2 secs=$3 out pin script="$WORK/nextval.sql"
  echo "SELECT nextval('s');" >"$script"
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  local cmd="$pin pgbench -h 127.0.0.1 -p $port -U postgres -n -f $script -M prepared -c $CONNECTIONS -j 1 -T $secs postgres"
  others_begin
  # shellcheck disable=SC2086
  $cmd >"$out" 2>&1 || log "pgbench failed ($key): $(tail -3 "$out")"
  others_end "$key"
  note_command "pgbench $key" "$cmd   # $script: SELECT nextval('s');"
  local tps avg
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | tail -1)
  avg=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out" | tail -1)
  sample "$key.rps" "$tps"
  sample "$key.avg" "$(calc "${avg:-0} * 1000")"
  log "  $key: ${tps:-?} nextval/s"
}

# run_h2load KEY PORT RATE DURATION: HTTP/1.1 GET /v1/id at a fixed
# offered RATE (requests/s, over $CONNECTIONS clients) for DURATION (h2load
# syntax: 4s, 500ms). Samples KEY.rps (achieved), KEY.p50/.p99/.p999
# (microseconds, from h2load's per-request log), KEY.bad (not 200).
run_h2load() {
  local key=$1 port=$2 rate=$3 duration=$4 out pin per_client
  out=$(raw_file "$key")
  pin=$(pin_prefix "$LOAD_CPUS")
  per_client=$(awk -v r="$rate" -v c="$CONNECTIONS" 'BEGIN {printf "%.3f", r / c}')
  local cmd="$pin h2load --h1 -t 1 -c $CONNECTIONS --rps $per_client -D $duration --log-file=$out.log http://127.0.0.1:$port/v1/id"
  others_begin
  # shellcheck disable=SC2086
  $cmd >"$out" 2>&1 || log "h2load failed ($key): $(tail -3 "$out")"
  others_end "$key"
  note_command "h2load fixed rate" "$cmd   # --rps is per client: offered = rps x $CONNECTIONS"
  local rps
  rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$out" | tail -1)
  sample "$key.rps" "$rps"
  [[ -s $out.log ]] || {
    log "h2load wrote no request log ($key)"
    return 0
  }
  local p50 p99 p999 bad
  bad=$(awk -F'\t' '$2 != 200' "$out.log" | wc -l)
  read -r p50 p99 p999 < <(cut -f3 "$out.log" | sort -n | awk '{ v[NR] = $1 }
      function pct(p,   i) { i = int(NR * p / 100 + 0.999999); return v[i < 1 ? 1 : i] }
      END { if (NR) printf "%d %d %d\n", pct(50), pct(99), pct(99.9) }') || true
  sample "$key.p50" "$p50"
  sample "$key.p99" "$p99"
  sample "$key.p999" "$p999"
  sample "$key.bad" "$bad"
  rm -f "$out.log"
  log "  $key: offered $rate, achieved ${rps:-?} req/s, p50 $p50 us, p99 $p99 us, p99.9 $p999 us"
}

# run_core_bench ARGS...: bench/core_bench (unpinned: it uses two threads)
# in JSON; every repetition becomes a sample of core.<benchmark>.<figure>.
run_core_bench() {
  local out err
  out=$(raw_file core_bench)
  err=$out.err
  local cmd="$CORE_BENCH --benchmark_format=json $*"
  # shellcheck disable=SC2086
  $cmd >"$out" 2>"$err" || log "core_bench failed: $(tail -3 "$err")"
  note_command "core_bench" "$cmd"
  CORE_BENCH_LAST_LINE=$(tail -1 "$err")
  local name real cpu cap
  while IFS=$'\t' read -r name real cpu cap; do
    sample "core.$name.ns" "$real"
    sample "core.$name.cpu_ns" "$cpu"
    [[ $cap == none ]] || sample "core.$name.cap_ratio" "$cap"
  done < <(jq -r '.benchmarks[] | select(.run_type == "iteration")
      | select(.time_unit == "ns")
      | [(.run_name | gsub("[^A-Za-z0-9]+"; "_")), .real_time, .cpu_time,
         (.cap_ratio // "none")] | @tsv' "$out")
  log "  core_bench: $CORE_BENCH_LAST_LINE"
}
