# shellcheck shell=bash
# The report of bench/run: docs/benchmarks.md (tables of medians with
# min-max, ratios to same-run baselines, the machine, versions, commands),
# the plots beside it, the check that every figure was produced, and the
# headline line. Sourced, never run.
#
# The report states only what its run measured: every figure and verdict in
# it is computed here from the run's samples, parameters and records, and
# each goes through `fmt`, `machine`, `record` or goals.sh, which note it in
# $WORK/report.values. check_report.sh then refuses a report holding a
# figure or a verdict that is not noted there, such as one typed into the
# prose below. Notes with figures of their own (bench/notes/, each dated)
# are linked, never pasted in.

# record VALUE...: values the report states, one a line, for check_report.sh.
record() { printf '%s\n' "$@" >>"$WORK/report.values"; }

# --- formatting --------------------------------------------------------------

# fmt KIND VALUE: int (thousands separators), ids (M above a million), us
# (µs or ms), ms, s, mib (from kB), kib (from bytes), ns, x (ratio), pct,
# raw; gx, gns, gus, gms, gpct, gmib, ggib (from kB): a goal's limit, as short as it can be written.
# Records what it prints.
fmt() {
  awk -v kind="$1" -v v="$2" -v values="$WORK/report.values" '
    function commas(n,   s, neg) {
      neg = n < 0; n = sprintf("%d", (neg ? -n : n) + 0.5); s = ""
      while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) }
      return (neg ? "-" : "") n s
    }
    BEGIN {
      if (v == "" || v == "nan") out = "n/a"
      else if (kind == "int") out = commas(v)
      else if (kind == "ids") out = (v >= 1e6 ? sprintf("%.2f M", v / 1e6) : commas(v))
      else if (kind == "us") out = (v >= 1000 ? sprintf("%.2f ms", v / 1000) : sprintf("%d µs", v + 0.5))
      else if (kind == "ms") out = sprintf(v >= 100 ? "%.0f ms" : "%.1f ms", v)
      else if (kind == "mib") out = sprintf("%.1f MiB", v / 1024)
      else if (kind == "ns") out = sprintf(v >= 100 ? "%.0f ns" : "%.1f ns", v)
      else if (kind == "ns2") out = sprintf("%.2f ns", v)
      else if (kind == "x") out = sprintf(v >= 0.1 ? "%.2fx" : "%.4fx", v)
      else if (kind == "pct") out = sprintf("%.0f %%", v)
      else if (kind == "pct1") out = sprintf(v >= 10 ? "%.0f %%" : "%.1f %%", v)
      else if (kind == "kib") out = sprintf("%.0f KiB", v / 1024)
      else if (kind == "gx") out = sprintf("%g", v)
      else if (kind == "gpct") out = sprintf("%g %%", v)
      else if (kind == "gns") out = sprintf("%g ns", v)
      else if (kind == "gms") out = sprintf("%g ms", v)
      else if (kind == "gus") out = (v >= 1000 ? sprintf("%g ms", v / 1000) : sprintf("%g µs", v))
      else if (kind == "gmib") out = sprintf("%g MiB", v / 1024)
      else if (kind == "ggib") out = sprintf("%g GiB", v / 1048576)
      else if (kind == "s") out = sprintf(v >= 100 ? "%.0f s" : (v >= 10 ? "%.1f s" : "%.2f s"), v)
      else out = v
      print out
      print out >>values
    }'
}

# cell KIND KEY [SCALE]: "median (min–max)" of KEY's samples times SCALE.
cell() {
  local kind=$1 key=$2 scale=${3:-1} s m lo hi n
  s=$(stats "$key")
  [[ -n $s ]] || {
    echo "n/a"
    return 0
  }
  read -r m lo hi n <<<"$s"
  if ((n > 1)); then
    echo "$(fmt "$kind" "$(calc "$m * $scale")") ($(fmt "$kind" "$(calc "$lo * $scale")")–$(fmt "$kind" "$(calc "$hi * $scale")"))"
  else
    fmt "$kind" "$(calc "$m * $scale")"
  fi
}

# --- machine and versions ------------------------------------------------------

record_machine() {
  local when=$1 f="$WORK/machine"
  if [[ $when == start ]]; then
    {
      echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
      echo "model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
      echo "family=$(lscpu | sed -n 's/^CPU family: *//p' | head -1)"
      echo "cpumodel=$(lscpu | sed -n 's/^Model: *//p' | head -1)"
      echo "cpus=$(nproc)"
      echo "cores=$(lscpu | sed -n 's/^Core(s) per socket: *//p' | head -1)"
      echo "threads_per_core=$(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1)"
      echo "hypervisor=$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1)"
      echo "mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
      echo "kernel=$(uname -r)"
      echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
      echo "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
      echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
      echo "layout=$("$SNOWFLAKED" --print-config 2>/dev/null | sed -n 's/^# layout in effect: //p' | head -1)"
      local built=(src/core src/lease src/etcd src/server src/daemon src/cli include proto src/client bench/core_bench.cc bench/lib/audit_ids.cc bench/lib/ready_probe.cc bench/lib/client_bench.cc bench/lib/grpc_load.cc bench/lib/grpc_baseline.cc)
      echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- "${built[@]}" 2>/dev/null || echo ' (with uncommitted changes to the code measured)')"
    } >"$f"
    {
      printf 'snowflaked\t%s\n' "$("$SNOWFLAKED" --version 2>&1 | head -1)"
      printf 'snowflake (CLI)\t%s\n' "$("$SNOWFLAKE" --version 2>&1 | head -1)"
      printf 'g++\t%s\n' "$(g++ --version | head -1)"
      printf 'Google Benchmark\t%s\n' "libbenchmark-dev $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null)"
      printf 'gRPC (C++)\t%s\n' "libgrpc++-dev $(dpkg-query -W -f='${Version}' libgrpc++-dev 2>/dev/null)"
      printf 'Boost (Beast, Asio)\t%s\n' "libboost-dev $(dpkg-query -W -f='${Version}' libboost-dev 2>/dev/null)"
      printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
      printf 'h2load\t%s\n' "$(h2load --version 2>&1 | head -1)"
      printf 'nginx\t%s\n' "$(nginx -v 2>&1 | head -1)"
      printf 'Redis\t%s\n' "$(redis-server --version | cut -d' ' -f1-3)"
      printf 'PostgreSQL\t%s\n' "$(pgbench --version 2>&1 | head -1)"
      printf 'gnuplot\t%s\n' "$(gnuplot --version)"
      printf 'valgrind\t%s\n' "$(valgrind --version)"
      printf 'strace\t%s\n' "$(strace -V | head -1)"
      printf 'sort, uniq\t%s\n' "$(sort --version | head -1)"
      printf 'GNU time\t%s\n' "time $(dpkg-query -W -f='${Version}' time 2>/dev/null)"
    } >"$WORK/versions.tsv"
  else
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$f"
    echo "elapsed=$SECONDS" >>"$f"
  fi
}

# machine FIELD: a field of the machine's record (recorded as stated).
machine() {
  local out
  out=$(sed -n "s/^$1=//p" "$WORK/machine" | tail -1)
  record "$out"
  printf '%s\n' "$out"
}

# --- plots ---------------------------------------------------------------------

write_plots() {
  local dir=$1 level server
  # offered node_rps node_p50 node_p99 node_p999 nginx_rps nginx_p50 ...
  for level in "${H2_LEVELS[@]}" "${H2_EXTRA_LEVELS[@]}"; do
    local row
    row="$(med "rate$level.node.offered")"
    for server in node nginx; do
      row+=" $(med "rate$level.$server.rps") $(med "rate$level.$server.p50")"
      row+=" $(med "rate$level.$server.p99") $(med "rate$level.$server.p999")"
    done
    echo "$row"
  done | sort -g >"$WORK/load.dat"
  gnuplot -e "datafile='$WORK/load.dat'; outfile='$dir/bench-load.png'; clients=$CONNECTIONS; goal_us=$(goal_field latency limit)" \
    "$ROOT/bench/plot_load.gp" 2>"$WORK/gnuplot.log" ||
    log "gnuplot (load): $(tail -3 "$WORK/gnuplot.log")"
  {
    printf '"node, 1 ID per request"\t%s\n' "$(med single.node.rps)"
    printf '"node, batch JSON"\t%s\n' "$(calc_ids batch.json)"
    printf '"node, batch binary"\t%s\n' "$(calc_ids batch.binary)"
    printf '"Redis INCR"\t%s\n' "$(med redis.p1.rps)"
    printf '"Redis INCR -P %s"\t%s\n' "$REDIS_PIPELINE" "$(med redis.p16.rps)"
    printf '"PostgreSQL nextval"\t%s\n' "$(med pg.nextval.rps)"
  } >"$WORK/ids.dat"
  gnuplot -e "datafile='$WORK/ids.dat'; outfile='$dir/bench-ids.png'; cap=$CAP_IDS_PER_SECOND" \
    "$ROOT/bench/plot_ids.gp" 2>>"$WORK/gnuplot.log" ||
    log "gnuplot (ids): $(tail -3 "$WORK/gnuplot.log")"
}

# --- the report ----------------------------------------------------------------

CORE_NEXT1=core.BM_Next_DefaultLayout_manual_time_threads_1
CORE_NEXT2=core.BM_Next_DefaultLayout_manual_time_threads_2
CORE_WIDE=core.BM_Next_WideLayout_real_time
CORE_BATCH=core.BM_NextBatch4096_WideLayout_real_time
CORE_CLOCK=core.BM_WallClockNow
CORE_DECOMPOSE=core.BM_Decompose
ENCODINGS=(decimal hex base62 base58 base32)

# env_cell KEY: "others' CPU / the server's wait for a CPU" (medians).
env_cell() {
  local rq
  rq=$(med "$1.rqwait")
  echo "$(fmt pct "$(med "$1.others")") / $(fmt pct1 "$rq")"
}

# latency_row LABEL KEY: | label | rps | p50 | p99 | p99.9 | others |
latency_row() {
  echo "| $1 | $(cell int "$2.rps") | $(cell us "$2.p50") | $(cell us "$2.p99") | $(cell us "$2.p999") | $(env_cell "$2") |"
}

ratio_row() {
  local a=$1 b=$2
  echo "| ratio node/nginx: median of the pairs' ratios (min-max); of the medians | **$(cell x "${a%.node}.pair_ratio")**; $(fmt x "$(ratio "$(med "$a.rps")" "$(med "$b.rps")")") | $(fmt x "$(ratio "$(med "$a.p50")" "$(med "$b.p50")")") | $(fmt x "$(ratio "$(med "$a.p99")" "$(med "$b.p99")")") | $(fmt x "$(ratio "$(med "$a.p999")" "$(med "$b.p999")")") | |"
}

# max_sample SUFFIX: the largest sample of every figure named *.SUFFIX, or
# "nan".
max_sample() {
  cat "$WORK"/samples/*."$1" 2>/dev/null | sort -g | tail -1 |
    awk '{v = $1} END {print (v == "" ? "nan" : v)}'
}

# node_layout: the node's layout as the binary measured prints it.
node_layout() {
  local l
  l=$(machine layout)
  if [[ -n $l ]]; then
    echo "the default layout, which \`snowflaked --print-config\` prints as \`$l\`"
  else
    echo "the default layout"
  fi
}

# record_parameters: the run's parameters the report cites.
record_parameters() {
  record "$RUNS" "$SINGLE_RUNS" "$CONNECTIONS" "$WRK_SECONDS" "$BATCH_SECONDS" \
    "$H2_DURATION" "$PROFILE_SECONDS" "$BATCH" "$REDIS_PIPELINE" \
    "$PINNED_WRK_THREADS" "$UNPINNED_WRK_THREADS" "$CORE_REPETITIONS" \
    "$(nproc)" "${SERVER_CPUS:-any}" "${LOAD_CPUS:-any}" \
    "${H2_LEVELS[@]}" "${H2_EXTRA_LEVELS[@]}" "$LATENCY_GOAL_LEVEL" \
    "${NGINX_BODY:-}" "$((${#NGINX_BODY} + 1))" "${CORE_BENCH_LAST_LINE:-}" \
    "${BENCH_PACKAGES[*]}"
}

# write_report FILE DIR: the report into FILE, the plots into DIR (where
# the report will be: it links them by name).
write_report() {
  local out=$1 dir=$2
  : >"$WORK/report.values"
  record_parameters
  goals_evaluate
  write_plots "$dir"
  local pinned="servers on CPU ${SERVER_CPUS:-any}, load generators on CPU ${LOAD_CPUS:-any}"
  local node_threads
  node_threads=$(pinned_threads)
  node_threads=${node_threads:-"(default threads)"}
  record "$pinned" "$node_threads"
  local batch_ratio json_ratio p99_goal rss cap all_levels
  batch_ratio=$(ratio "$(calc_ids batch.binary)" "$CAP_IDS_PER_SECOND")
  json_ratio=$(ratio "$(calc_ids batch.json)" "$CAP_IDS_PER_SECOND")
  p99_goal=$(med "rate$LATENCY_GOAL_LEVEL.node.p99")
  rss=$(med rss.node.kb)
  cap=$(fmt ids "$CAP_IDS_PER_SECOND")
  all_levels=$(printf '%s\n' "${H2_LEVELS[@]}" "${H2_EXTRA_LEVELS[@]}" | sort -n)
  local levels_text
  levels_text=$(IFS=,; echo "${H2_LEVELS[*]}")
  {
    cat <<EOF
# Benchmarks

How fast a node is, against the layout's cap and against what a user would
otherwise pick (nginx for the HTTP floor, Redis and PostgreSQL as central
counters), all in one run on one machine. Every figure is a median of
$RUNS runs ($SINGLE_RUNS for the node-nginx pairs of section 2) with the minimum and maximum
in brackets, and each is set against a baseline measured in the same run: on a
machine shared with other jobs, absolute figures move from run to run,
ratios much less.

This page is written by \`bench/run\` (see [Reproduce](#reproduce)); the
measurements below took $(machine elapsed) s, from $(machine date), at commit
$(machine commit). Every figure and every verdict on it comes from that
run; notes from earlier investigations, with figures of their own dates,
are linked under [Past investigations](#past-investigations).

## Headline

| # | figure | node | baseline (same run) | ratio | goal |
|---|---|---|---|---|---|
| 1 | \`Next()\`, default layout, one thread | $(cell ids "$CORE_NEXT1.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | cap $cap IDs/s | $(fmt x "$(med "$CORE_NEXT1.cap_ratio")") | $(goal_cell core_cap) |
| 1 | \`Next()\`, default layout, two threads | $(cell ids "$CORE_NEXT2.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | cap $cap IDs/s | $(fmt x "$(med "$CORE_NEXT2.cap_ratio")") | |
| 1 | \`Next()\`, wide layout (per call) | $(cell ns "$CORE_WIDE.ns") | one clock read $(cell ns "$CORE_CLOCK.ns") | $(fmt x "$(ratio "$(med "$CORE_WIDE.ns")" "$(med "$CORE_CLOCK.ns")")") | $(goal_cell core_next) |
| 1 | \`NextBatch($BATCH)\`, wide layout (per ID) | $(cell ns2 "$CORE_BATCH.ns" "1/$BATCH") | one \`Next()\` $(fmt ns "$(med "$CORE_WIDE.ns")") | $(fmt x "$(ratio "$(goal_figure core_batch)" "$(med "$CORE_WIDE.ns")")") | $(goal_cell core_batch) |
| 2 | **one ID per HTTP request** (requests/s, pinned) | $(cell int single.node.rps) | nginx $(cell int single.nginx.rps) | **$(cell x single.pair_ratio)** | $(goal_cell headline) |
| 2 | one ID per request, unpinned, defaults | $(cell int unpinned.node.rps) | nginx $(cell int unpinned.nginx.rps) | $(cell x unpinned.pair_ratio) | $(goal_cell unpinned) |
| 3 | batches of $(fmt int "$BATCH"), binary (IDs/s) | $(cell ids batch.binary.rps "$BATCH") | cap $cap | $(fmt x "$batch_ratio") | $(goal_cell batch) |
| 3 | batches of $(fmt int "$BATCH"), JSON (IDs/s) | $(cell ids batch.json.rps "$BATCH") | cap $cap | $(fmt x "$json_ratio") | |
| 3 | batches of $(fmt int "$BATCH"), binary, unpinned node with its defaults | $(cell ids batch_unpinned.binary.rps "$BATCH") | cap $cap | $(fmt x "$(ratio "$(calc_ids batch_unpinned.binary)" "$CAP_IDS_PER_SECOND")") | |
| 4 | node, 1 ID per request vs Redis INCR | $(fmt ids "$(med single.node.rps)") IDs/s | $(cell ids redis.p1.rps) INCR/s | $(fmt x "$(ratio "$(med single.node.rps)" "$(med redis.p1.rps)")") | |
| 4 | node, binary batches vs Redis INCR -P $REDIS_PIPELINE | $(fmt ids "$(calc_ids batch.binary)") IDs/s | $(cell ids redis.p16.rps) INCR/s | $(fmt x "$(ratio "$(calc_ids batch.binary)" "$(med redis.p16.rps)")") | |
| 4 | node, 1 ID per request vs PostgreSQL nextval | $(fmt ids "$(med single.node.rps)") IDs/s | $(cell ids pg.nextval.rps) nextval/s | $(fmt x "$(ratio "$(med single.node.rps)" "$(med pg.nextval.rps)")") | |
| 5 | p99 latency at $(fmt pct "$LATENCY_GOAL_LEVEL") of the node's peak | $(cell us "rate$LATENCY_GOAL_LEVEL.node.p99") | nginx at the same rate $(cell us "rate$LATENCY_GOAL_LEVEL.nginx.p99") | $(fmt x "$(ratio "$p99_goal" "$(med "rate$LATENCY_GOAL_LEVEL.nginx.p99")")") | $(goal_cell latency) |
| 6 | peak resident memory (VmHWM) | $(cell mib rss.node.kb) | nginx (master + worker) $(cell mib rss.nginx.kb) | $(fmt x "$(ratio "$rss" "$(med rss.nginx.kb)")") | $(goal_cell memory) |
| 6 | start to \`/readyz\` 200, static mode, first start | $(cell ms start.node_first.ms) | nginx start to first 200 $(cell ms start.nginx.ms) | $(fmt x "$(ratio "$(med start.node_first.ms)" "$(med start.nginx.ms)")") | $(goal_cell start) |
| 6 | the same, restart after a graceful stop | $(cell ms start.node_restart.ms) | nginx $(cell ms start.nginx.ms) | $(fmt x "$(ratio "$(med start.node_restart.ms)" "$(med start.nginx.ms)")") | |
$(audit_headline_rows)
$(client_headline_rows)
$(cpu_headline_rows)
$(workers_headline_rows)

$(goals_summary)

## Machine

| | |
|---|---|
| CPU | $(machine model) (family $(machine family), model $(machine cpumodel)), $(machine cpus) CPUs, $(machine cores) cores per socket, $(machine threads_per_core) thread(s) per core$( [[ -n $(machine hypervisor) ]] && echo ", $(machine hypervisor) guest") |
| memory | $(machine mem) |
| system | $(machine os), kernel $(machine kernel), clock source \`$(machine clocksource)\` |
| load average (last minute, five, fifteen minutes) | $(machine load_start) at the start, $(machine load_end) at the end |
| pinning | $pinned (\`taskset\`), except \`core_bench\` (unpinned: it runs two threads) and the "unpinned" rows |

The machine may be shared with other jobs (compilers, tests). The tables
give, for each load, medians over its runs of
"others' CPU": all CPU time used on the machine (user and system time, and
time stolen by the hypervisor; not interrupt time, which is mostly the
kernel's work on the benchmark's own loopback traffic) minus the server's
and the load generator's, in % of one CPU;
and "server waited": the time the server's threads spent runnable but
waiting for a CPU (the scheduler's run-queue wait,
\`/proc/PID/task/*/schedstat\`), in % of the run. Where these are high,
the server shared its core with other jobs. In this run, others took at
most $(fmt pct "$(max_sample others)") of a CPU during any load, and a server waited at most
$(fmt pct1 "$(max_sample rqwait)") of a run. Figures taken one after the other move with what
else the machine does; the ratios pair figures taken seconds apart, with
the order of node and baseline alternating from run to run.

## Versions

| program | version |
|---|---|
EOF
    awk -F'\t' '{printf "| %s | %s |\n", $1, $2}' "$WORK/versions.tsv" |
      tee -a "$WORK/report.values"
    cat <<EOF

The node runs with its defaults (static mode, no access log, $(node_layout)),
except that when it is pinned to one CPU it gets \`$node_threads\` (its default is one I/O thread per
core of the machine, $(nproc) here, which would put $(nproc) threads on one
core). nginx gets one worker when pinned (\`worker_processes auto\` when
not), access log off, keep-alive, and answers \`return 200\` with a body
of the same size as the node's \`/v1/id\` answer (\`$(tr -d '\n' <<<"${NGINX_BODY:-}")\` and a
newline, $(( ${#NGINX_BODY} + 1 )) bytes). Redis and PostgreSQL run with their
defaults (Redis without persistence: \`--save ''\`; PostgreSQL as initdb
makes it, over TCP on 127.0.0.1). Every load generator uses
$CONNECTIONS connections.

## 1. In-process: the core library

\`bench/core_bench\` (Google Benchmark), $CORE_REPETITIONS repetition(s); medians with min-max
over the repetitions. What each benchmark measures, and how to run it
alone: [bench/notes/core.md](../bench/notes/core.md).

| benchmark | wall time | CPU time | rate | ratio |
|---|---|---|---|---|
| \`Next()\`, default layout, one thread | $(cell ns "$CORE_NEXT1.ns") per ID | $(cell ns "$CORE_NEXT1.cpu_ns") | $(cell ids "$CORE_NEXT1.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | **$(cell x "$CORE_NEXT1.cap_ratio") cap** |
| \`Next()\`, default layout, two threads | $(cell ns "$CORE_NEXT2.ns") per ID (both threads) | | $(cell ids "$CORE_NEXT2.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | $(cell x "$CORE_NEXT2.cap_ratio") cap |
| \`Next()\`, wide layout | $(cell ns "$CORE_WIDE.ns") per call | $(cell ns "$CORE_WIDE.cpu_ns") | $(fmt ids "$(calc "1e9 / $(med "$CORE_WIDE.ns")")") IDs/s | $(fmt x "$(ratio "$(med "$CORE_WIDE.ns")" "$(med "$CORE_CLOCK.ns")")") one clock read |
| \`NextBatch($BATCH)\`, wide layout | $(cell ns2 "$CORE_BATCH.ns" "1/$BATCH") per ID | $(cell ns2 "$CORE_BATCH.cpu_ns" "1/$BATCH") | $(fmt ids "$(calc "1e9 * $BATCH / $(med "$CORE_BATCH.ns")")") IDs/s | $(fmt x "$(ratio "$(goal_figure core_batch)" "$(med "$CORE_WIDE.ns")")") one \`Next()\` |
| \`WallClock::NowMicros()\` | $(cell ns "$CORE_CLOCK.ns") | $(cell ns "$CORE_CLOCK.cpu_ns") | | the floor under \`Next()\` |
| \`Layout::Decompose\` | $(cell ns "$CORE_DECOMPOSE.ns") | $(cell ns "$CORE_DECOMPOSE.cpu_ns") | | |

Encodings, time per call (wall):

| encoding | \`EncodeId\` | \`ParseId\` |
|---|---|---|
EOF
    local enc
    for enc in "${ENCODINGS[@]}"; do
      echo "| $enc | $(cell ns "core.BM_EncodeId_$enc.ns") | $(cell ns "core.BM_ParseId_$enc.ns") |"
    done
    echo
    echo "core_bench's last line: \`${CORE_BENCH_LAST_LINE:-}\`"
    cat <<EOF

## 2. One ID per request: the node against nginx

\`wrk --latency\` with $CONNECTIONS keep-alive connections, $WRK_SECONDS s per run,
GET \`/v1/id\` on both (nginx answers any path). The runs come in $SINGLE_RUNS pairs, node
and nginx seconds apart (which goes first alternates); the headline is the
median of the pairs' ratios, which the machine's swings over seconds and
minutes move less than a ratio of medians.

Pinned: $pinned; the node with \`$node_threads\`, nginx with one worker; wrk with $PINNED_WRK_THREADS thread(s).

| server | requests/s | p50 | p99 | p99.9 | others' CPU / server waited |
|---|---|---|---|---|---|
$(latency_row "node" single.node)
$(latency_row "nginx" single.nginx)
$(ratio_row single.node single.nginx)

Unpinned, both with their defaults (the node: one I/O thread per core;
nginx: \`worker_processes auto\`), wrk with $UNPINNED_WRK_THREADS threads, all sharing every CPU:

| server | requests/s | p50 | p99 | p99.9 | others' CPU / server waited |
|---|---|---|---|---|---|
$(latency_row "node" unpinned.node)
$(latency_row "nginx" unpinned.nginx)
$(ratio_row unpinned.node unpinned.nginx)

Latency here is that of a saturated server (closed loop: each connection
sends its next request when the answer arrives), so it is mostly queueing;
section 5 measures latency at fixed rates below the peak.

## 3. Batches: \`/v1/ids?count=$BATCH\`

wrk, $CONNECTIONS connections, $BATCH_SECONDS s per run: against the pinned node (\`$node_threads\`
on CPU ${SERVER_CPUS:-any}, wrk with $PINNED_WRK_THREADS thread(s) on CPU ${LOAD_CPUS:-any}) and against the unpinned node
with its defaults (wrk with $UNPINNED_WRK_THREADS threads).
IDs/s = requests/s x $(fmt int "$BATCH"); the cap of one node (one worker ID) is $(fmt int "$(calc "$CAP_IDS_PER_SECOND / 1000")")
IDs per ms = $(fmt int "$CAP_IDS_PER_SECOND") IDs/s.

| node, format | requests/s | IDs/s | ratio to the cap | p50 | p99 | others' CPU / server waited |
|---|---|---|---|---|---|---|
| pinned, binary (big-endian u64s, $(cell kib size.batch_binary.bytes)) | $(cell int batch.binary.rps) | $(cell ids batch.binary.rps "$BATCH") | **$(fmt x "$batch_ratio")** | $(cell us batch.binary.p50) | $(cell us batch.binary.p99) | $(env_cell batch.binary) |
| pinned, JSON (\`{"ids":[...]}\`, strings, $(cell kib size.batch_json.bytes)) | $(cell int batch.json.rps) | $(cell ids batch.json.rps "$BATCH") | $(fmt x "$json_ratio") | $(cell us batch.json.p50) | $(cell us batch.json.p99) | $(env_cell batch.json) |
| unpinned, defaults, binary | $(cell int batch_unpinned.binary.rps) | $(cell ids batch_unpinned.binary.rps "$BATCH") | $(fmt x "$(ratio "$(calc_ids batch_unpinned.binary)" "$CAP_IDS_PER_SECOND")") | $(cell us batch_unpinned.binary.p50) | $(cell us batch_unpinned.binary.p99) | $(env_cell batch_unpinned.binary) |
| unpinned, defaults, JSON | $(cell int batch_unpinned.json.rps) | $(cell ids batch_unpinned.json.rps "$BATCH") | $(fmt x "$(ratio "$(calc_ids batch_unpinned.json)" "$CAP_IDS_PER_SECOND")") | $(cell us batch_unpinned.json.p50) | $(cell us batch_unpinned.json.p99) | $(env_cell batch_unpinned.json) |

A batch takes the rest of the current millisecond's sequence and waits for
the next tick for the remainder: with requests always waiting, the cap is
the most a node can issue, and the ratio column says how near this run
came to it.

## 4. Central counters: Redis INCR and PostgreSQL nextval

The alternatives the design is chosen over: every ID is a round trip to
one central server. Pinned like the node; $CONNECTIONS connections.

| source | IDs/s | p50 | p99 | node / it | others' CPU / server waited |
|---|---|---|---|---|---|
| node, one ID per request | $(cell ids single.node.rps) | $(cell us single.node.p50) | $(cell us single.node.p99) | | $(env_cell single.node) |
| node, binary batches of $(fmt int "$BATCH") | $(cell ids batch.binary.rps "$BATCH") | $(cell us batch.binary.p50) per batch | $(cell us batch.binary.p99) | | $(env_cell batch.binary) |
| Redis \`INCR\`, no pipelining | $(cell ids redis.p1.rps) | $(cell us redis.p1.p50) | $(cell us redis.p1.p99) | $(fmt x "$(ratio "$(med single.node.rps)" "$(med redis.p1.rps)")") (one ID per request) | $(env_cell redis.p1) |
| Redis \`INCR\`, \`-P $REDIS_PIPELINE\` | $(cell ids redis.p16.rps) | $(cell us redis.p16.p50) ($REDIS_PIPELINE in flight) | $(cell us redis.p16.p99) | $(fmt x "$(ratio "$(calc_ids batch.binary)" "$(med redis.p16.rps)")") (binary batches) | $(env_cell redis.p16) |
| PostgreSQL \`nextval\`, prepared | $(cell ids pg.nextval.rps) | $(cell us pg.nextval.avg) (mean) | | $(fmt x "$(ratio "$(med single.node.rps)" "$(med pg.nextval.rps)")") (one ID per request) | $(fmt pct "$(med pg.nextval.others)") / (backends come and go) |

Beyond throughput, a central counter is one point of failure and one
network round trip away from every client in other zones; nodes need
neither, and a node's batch endpoint hands out a millisecond's worth of IDs
in one request. Redis and PostgreSQL answer a smaller request than the
node's HTTP one (a RESP command; a prepared statement on the wire
protocol).

![IDs per second of each source, log scale](bench-ids.png)

## 5. Latency at fixed rates

h2load over HTTP/1.1 (\`--h1\`), $CONNECTIONS clients, each at its share of the
offered rate (\`--rps\`), $H2_DURATION per run; percentiles from h2load's
per-request log. Rates are fractions of the node's measured peak
($(fmt int "$(med single.node.rps)") requests/s, section 2); nginx gets the same
offered rates.

| offered | node p50 | node p99 | node p99.9 | nginx p50 | nginx p99 | nginx p99.9 | p99 node/nginx | others' CPU / server waited (node; nginx) |
|---|---|---|---|---|---|---|---|---|
EOF
    local level
    for level in "${H2_LEVELS[@]}"; do
      echo "| $level % ($(fmt int "$(med "rate$level.node.offered")")/s) | $(cell us "rate$level.node.p50") | $(cell us "rate$level.node.p99") | $(cell us "rate$level.node.p999") | $(cell us "rate$level.nginx.p50") | $(cell us "rate$level.nginx.p99") | $(cell us "rate$level.nginx.p999") | $(fmt x "$(ratio "$(med "rate$level.node.p99")" "$(med "rate$level.nginx.p99")")") | $(env_cell "rate$level.node"); $(env_cell "rate$level.nginx") |"
    done
    cat <<EOF

$(goal_sentence latency "$(fmt us "$p99_goal")")
HTTP/1.1 allows one request in flight per connection, so a late answer
delays the client's next request (h2load does not correct for that): p99.9
at high rates understates the queueing a truly open load would see.

## 6. Memory and start-up

| figure | node | nginx | ratio |
|---|---|---|---|
| peak resident memory (VmHWM) over all the loads above | $(cell mib rss.node.kb) | $(cell mib rss.nginx.kb) (master + worker) | $(fmt x "$(ratio "$rss" "$(med rss.nginx.kb)")") |
| resident memory when ready, before any load (VmRSS) | $(cell mib rss.node_idle.kb) | | |
| at the end: anonymous (heap, stacks) / file-backed (code, libraries) | $(cell mib rss.node_anon.kb) / $(cell mib rss.node_file.kb) | | |
| start to ready (\`/readyz\` 200; nginx: first 200), first start | $(cell ms start.node_first.ms) | $(cell ms start.nginx.ms) | $(fmt x "$(ratio "$(med start.node_first.ms)" "$(med start.nginx.ms)")") |
| the same, restart after a graceful stop (HWM file present) | $(cell ms start.node_restart.ms) | | |

Redis's VmHWM after its benchmark: $(cell mib rss.redis.kb).
VmHWM is the peak over the life of the pinned node, which served
sections 2, 3 and 5; its largest answers were the JSON batches ($(cell kib size.batch_json.bytes) each, on
$CONNECTIONS connections). $(goal_sentence memory "$(fmt mib "$rss")")
$(start_method)
$(goal_sentence start "$(fmt ms "$(med start.node_first.ms)")")

## 7. Throughput and latency against offered load

![Achieved throughput and latency percentiles against offered load, node and nginx](bench-load.png)

Offered rates from $(head -1 <<<"$all_levels") % to $(tail -1 <<<"$all_levels") % of the node's peak (${levels_text//,/, } %:
medians of $RUNS runs; the others: one run each, so one busy moment of the
machine shows as a dip). Where the achieved rate stops following the
offered one, the server is saturated, or the load generator is (h2load
runs one thread on one core, with one request in flight per connection).

EOF
    write_audit_section
    write_client_section
    write_cpu_section
    write_workers_section
    write_profile_section
    cat <<EOF
## Past investigations

Notes kept beside the benchmarks, each dated and with figures of its own
runs, not of this one:

- [bench/notes/core.md](../bench/notes/core.md): what each core benchmark
  measures, and why one \`Next()\` costs more than one clock read.
- [bench/notes/headline.md](../bench/notes/headline.md): one ID per request
  against nginx: where the node's instructions went, and the listener fixes
  that were measured.
- [bench/notes/limits.md](../bench/notes/limits.md): what can keep batches
  below the cap, what sets p99 at fixed rates, the memory margin, start-up.

## Reproduce

\`\`\`sh
bench/run            # this page and docs/bench-*.png (this run: $(machine elapsed) s)
bench/run --smoke    # every figure once, in seconds, into a temporary folder
bench/run --only audit   # section 8 alone, its report into a temporary folder
bench/run --only client  # section 9 alone, the same way
bench/run --only cpu     # section 10 alone, the same way
bench/run --only start   # start to ready (section 6) alone, the same way
bench/run --only workers # section 11 alone, the same way
\`\`\`

It installs what it needs from Debian's packages (\`${BENCH_PACKAGES[*]}\`; only what is missing),
builds \`snowflaked\`, \`core_bench\`, \`snowflake\`, \`audit_ids\`, \`ready_probe\`, \`client_bench\`, \`grpc_load\` and
\`grpc_baseline\` with the \`release\` preset, starts every
server itself on free 127.0.0.1 ports with its files in a temporary folder,
and stops each by its PID at the end. The commands of this run, exactly
(the first of each kind; ports and folders change from run to run):

\`\`\`
EOF
    awk -F'\t' '{printf "# %s\n%s\n", $1, $2}' "$WORK/commands.tsv" |
      tee -a "$WORK/report.values"
    echo '```'
  } >"$out"
}

# --- one section alone (bench/run --only SECTION) -------------------------------

# only_report SECTION OUT: the section's report alone, with the commands.
only_report() {
  local section=$1 out=$2 date commit
  : >"$WORK/report.values"
  goals_evaluate
  date=$(date -u '+%Y-%m-%d %H:%M UTC')
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src include proto bench 2>/dev/null || echo ' (with uncommitted changes to the code measured)')
  record "$date" "$commit" "$SECONDS"
  {
    echo "Written by \`bench/run --only $section\` at $date, commit $commit,"
    echo "in $SECONDS s; apart from the rest of docs/benchmarks.md."
    echo
    "write_${section}_section"
    echo '```'
    awk -F'\t' '{printf "# %s\n%s\n", $1, $2}' "$WORK/commands.tsv" |
      tee -a "$WORK/report.values"
    echo '```'
  } >"$out"
}

# has_missing_figure REPORT: true if REPORT shows "n/a" (a figure the run
# did not produce) as a word of its own, not inside a path such as the work
# folder's (mktemp's /tmp/snowflake-bench.XXXXXn/audit).
has_missing_figure() {
  grep -qw 'n/a' "$1" 2>/dev/null
}

# only_check_figures SECTION REPORT: every figure of the section is present
# and numeric, and the report written.
only_check_figures() {
  local section=$1 report=$2 k missing=()
  for k in $("${section}_keys"); do
    [[ $(med "$k") =~ ^-?[0-9] ]] || missing+=("$k")
  done
  [[ -s $report ]] || missing+=("$report")
  if has_missing_figure "$report"; then missing+=("'n/a' in $report"); fi
  if ((${#missing[@]})); then
    log "figures missing: ${missing[*]}"
    return 1
  fi
  log "all $("${section}_keys" | wc -w) $section figures produced, report written"
}

# --- checks and the headline ------------------------------------------------------

# check_figures REPORT DIR: every figure the report needs is present and
# numeric (not how fast), and the plots are in DIR.
check_figures() {
  local report=$1 dir=$2 keys=() k level server missing=()
  for k in "$CORE_NEXT1.cap_ratio" "$CORE_NEXT2.cap_ratio" "$CORE_WIDE.ns" \
    "$CORE_BATCH.ns" "$CORE_CLOCK.ns" "$CORE_DECOMPOSE.ns"; do keys+=("$k"); done
  for k in "${ENCODINGS[@]}"; do keys+=("core.BM_EncodeId_$k.ns" "core.BM_ParseId_$k.ns"); done
  keys+=(start.node_first.ms start.node_restart.ms start.nginx.ms)
  for k in single.node single.nginx unpinned.node unpinned.nginx; do
    keys+=("$k.rps" "$k.p50" "$k.p99" "$k.p999")
  done
  keys+=(single.pair_ratio unpinned.pair_ratio)
  keys+=(batch.binary.rps batch.binary.p99 batch.json.rps batch.json.p99)
  keys+=(redis.p1.rps redis.p16.rps pg.nextval.rps)
  for level in "${H2_LEVELS[@]}" "${H2_EXTRA_LEVELS[@]}"; do
    for server in node nginx; do
      keys+=("rate$level.$server.rps" "rate$level.$server.p50" "rate$level.$server.p99" "rate$level.$server.p999")
    done
  done
  keys+=(rss.node.kb rss.node_idle.kb rss.node_anon.kb rss.node_file.kb
    rss.nginx.kb rss.redis.kb size.batch_binary.bytes size.batch_json.bytes)
  for k in single.node single.nginx batch.binary redis.p1 pg.nextval rate50.node; do
    keys+=("$k.others")
  done
  for k in single.node single.nginx batch.binary redis.p1 rate50.node; do
    keys+=("$k.rqwait")
  done
  keys+=(batch_unpinned.binary.rps batch_unpinned.json.rps)
  local more=()
  read -ra more <<<"$(audit_keys | tr '\n' ' ')"
  keys+=("${more[@]}")
  read -ra more <<<"$(client_keys | tr '\n' ' ')"
  keys+=("${more[@]}")
  read -ra more <<<"$(cpu_keys | tr '\n' ' ')"
  keys+=("${more[@]}")
  read -ra more <<<"$(workers_keys | tr '\n' ' ')"
  keys+=("${more[@]}")
  if [[ -d $WORK/profile ]]; then
    keys+=(profile.node.ir_per_request profile.nginx.ir_per_request
      profile.node.syscalls_per_request profile.nginx.syscalls_per_request)
  fi
  for k in "${keys[@]}"; do
    [[ $(med "$k") =~ ^-?[0-9] ]] || missing+=("$k")
  done
  for k in "$dir/bench-load.png" "$dir/bench-ids.png" "$report"; do
    [[ -s $k ]] || missing+=("$k")
  done
  if has_missing_figure "$report"; then missing+=("'n/a' in $report"); fi
  if ((${#missing[@]})); then
    log "figures missing: ${missing[*]}"
    return 1
  fi
  log "all ${#keys[@]} figures produced, plots and report written"
  local bad
  bad=$(cat "$WORK"/samples/*.bad 2>/dev/null | awk '{s += $1} END {print s + 0}')
  ((bad == 0)) || log "warning: $bad requests failed or were not 2xx (see the log above)"
}

# unproduced_figures VALUES: stdin with every number in it that stands
# anywhere in VALUES changed (9 put before it until it stands nowhere), so a
# made-up figure cannot pass the check by matching one the run produced.
unproduced_figures() {
  awk -v values="$1" '
    BEGIN { while ((getline v <values) > 0) all = all "\n" v }
    {
      out = ""
      s = $0
      while (match(s, /[0-9]+(\.[0-9]+)?/)) {
        num = substr(s, RSTART, RLENGTH)
        while (index(all, num)) num = "9" num
        out = out substr(s, 1, RSTART - 1) num
        s = substr(s, RSTART + RLENGTH)
      }
      print out s
    }'
}

# check_report_can_fail REPORT VALUES: the smoke run's proof that
# check_report.sh can fail: the report with a figure no formatter writes, a
# verdict in fixed prose, or a pasted note must each be refused. The figures
# of the cases are first made ones the run did not produce: a smoke run once
# made 12.3 and 0.98x, and the client case passed the check.
check_report_can_fail() {
  local report=$1 values=$2 bad="$WORK/report.bad.md" case
  local cases=(
    "The node answered 123,456.789 requests/s."
    "One ID per request: the node is faster than nginx."
    "Binary batches: goal met."
    "snowflake audit read 12.34 M IDs/s, 3.21x sort -n | uniq -d."
    "The client's Next() took 12.3 ns from the buffer, 0.98x the cap."
    "At 1 M IDs/s the node took 4.2 % of a core, 0.98x nginx."
    "With two workers the node reached 1.93x the cap."
    "$(cat "$ROOT/bench/notes/limits.md")"
  )
  for case in "${cases[@]}"; do
    case=$(printf '%s\n' "$case" | unproduced_figures "$values")
    { cat "$report" && printf '%s\n' "$case"; } >"$bad"
    if bench/lib/check_report.sh "$bad" "$values" >/dev/null 2>&1; then
      die "check_report.sh accepted a report ending with: ${case:0:60}"
    fi
  done
  log "check_report.sh refuses a figure, a verdict and a note the run did not produce"
}

headline_line() {
  printf 'ratio node/nginx requests/s = %s (one ID per request, pinned, median of %s pairs; goal %s)\n' \
    "$(fmt x "$(med single.pair_ratio)")" "$SINGLE_RUNS" "$(goal_limit headline)"
}
