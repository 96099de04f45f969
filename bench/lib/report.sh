# shellcheck shell=bash
# The report of bench/run: docs/benchmarks.md (tables of medians with
# min-max, ratios to same-run baselines, the machine, versions, commands),
# the plots beside it, the check that every figure was produced, and the
# headline line. Sourced, never run.

# --- formatting --------------------------------------------------------------

# fmt KIND VALUE: int (thousands separators), ids (M above a million), us
# (µs or ms), ms, mib (from kB), ns, x (ratio), raw.
fmt() {
  awk -v kind="$1" -v v="$2" '
    function commas(n,   s, neg) {
      neg = n < 0; n = sprintf("%d", (neg ? -n : n) + 0.5); s = ""
      while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) }
      return (neg ? "-" : "") n s
    }
    BEGIN {
      if (v == "" || v == "nan") { print "n/a"; exit }
      if (kind == "int") print commas(v)
      else if (kind == "ids") print (v >= 1e6 ? sprintf("%.2f M", v / 1e6) : commas(v))
      else if (kind == "us") print (v >= 1000 ? sprintf("%.2f ms", v / 1000) : sprintf("%d µs", v + 0.5))
      else if (kind == "ms") print sprintf(v >= 100 ? "%.0f ms" : "%.1f ms", v)
      else if (kind == "mib") print sprintf("%.1f MiB", v / 1024)
      else if (kind == "ns") print sprintf(v >= 100 ? "%.0f ns" : "%.1f ns", v)
      else if (kind == "ns2") print sprintf("%.2f ns", v)
      else if (kind == "x") print sprintf(v >= 0.1 ? "%.2fx" : "%.4fx", v)
      else if (kind == "pct") print sprintf("%.0f %%", v)
      else if (kind == "pct1") print sprintf(v >= 10 ? "%.0f %%" : "%.1f %%", v)
      else print v
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

# verdict RATIO_OR_VALUE OP LIMIT: "met" or "**missed**".
verdict() {
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (v == "nan" || v == "") { print "n/a"; exit }
    ok = (op == ">=") ? v >= l : v < l
    print ok ? "met" : "**missed**"
  }'
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
      local built=(src/core src/lease src/etcd src/server src/daemon include proto bench/core_bench.cc)
      echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- "${built[@]}" 2>/dev/null || echo ' (with uncommitted changes to the code measured)')"
    } >"$f"
    {
      printf 'snowflaked\t%s\n' "$("$SNOWFLAKED" --version 2>&1 | head -1)"
      printf 'g++\t%s\n' "$(g++ --version | head -1)"
      printf 'Google Benchmark\t%s\n' "libbenchmark-dev $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null)"
      printf 'Boost (Beast, Asio)\t%s\n' "libboost-dev $(dpkg-query -W -f='${Version}' libboost-dev 2>/dev/null)"
      printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
      printf 'h2load\t%s\n' "$(h2load --version 2>&1 | head -1)"
      printf 'nginx\t%s\n' "$(nginx -v 2>&1 | head -1)"
      printf 'Redis\t%s\n' "$(redis-server --version | cut -d' ' -f1-3)"
      printf 'PostgreSQL\t%s\n' "$(pgbench --version 2>&1 | head -1)"
      printf 'gnuplot\t%s\n' "$(gnuplot --version)"
      printf 'valgrind\t%s\n' "$(valgrind --version)"
      printf 'strace\t%s\n' "$(strace -V | head -1)"
    } >"$WORK/versions.tsv"
  else
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$f"
    echo "elapsed=$SECONDS" >>"$f"
  fi
}

machine() { sed -n "s/^$1=//p" "$WORK/machine" | tail -1; }

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
  gnuplot -e "datafile='$WORK/load.dat'; outfile='$dir/bench-load.png'" \
    "$ROOT/bench/plot_load.gp" 2>"$WORK/gnuplot.log" ||
    log "gnuplot (load): $(tail -3 "$WORK/gnuplot.log")"
  {
    printf '"node, 1 ID per request"\t%s\n' "$(med single.node.rps)"
    printf '"node, batch JSON"\t%s\n' "$(calc_ids batch.json)"
    printf '"node, batch binary"\t%s\n' "$(calc_ids batch.binary)"
    printf '"Redis INCR"\t%s\n' "$(med redis.p1.rps)"
    printf '"Redis INCR -P 16"\t%s\n' "$(med redis.p16.rps)"
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

write_report() {
  local out=$1 dir
  dir=$(dirname "$out")
  write_plots "$dir"
  local pinned="servers on CPU ${SERVER_CPUS:-any}, load generators on CPU ${LOAD_CPUS:-any}"
  local node_threads
  node_threads=$(pinned_threads)
  node_threads=${node_threads:-"(default threads)"}
  local head_ratio batch_ratio json_ratio p99_50 rss
  head_ratio=$(med single.pair_ratio)
  batch_ratio=$(ratio "$(calc_ids batch.binary)" "$CAP_IDS_PER_SECOND")
  json_ratio=$(ratio "$(calc_ids batch.json)" "$CAP_IDS_PER_SECOND")
  p99_50=$(med rate50.node.p99)
  rss=$(med rss.node.kb)
  {
    cat <<EOF
# Benchmarks

How fast a node is, against the layout's cap and against what a user would
otherwise pick (nginx for the HTTP floor, Redis and PostgreSQL as central
counters), all in one run on one machine. Every figure is a median of
$RUNS runs ($SINGLE_RUNS for the node-nginx pairs of section 2) with the minimum and maximum
in brackets, and each is set against a baseline measured in the same run: the machine is shared, so
absolute figures move from run to run, ratios much less.

This page is written by \`bench/run\` (see [Reproduce](#reproduce)); the
measurements below took $(machine elapsed) s, from $(machine date), at commit
$(machine commit).

## Headline

| # | figure | node | baseline (same run) | ratio | goal |
|---|---|---|---|---|---|
| 1 | \`Next()\`, default layout, 1 thread | $(cell ids "$CORE_NEXT1.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | cap 4.10 M IDs/s | $(fmt x "$(med "$CORE_NEXT1.cap_ratio")") | >= 0.99: $(verdict "$(med "$CORE_NEXT1.cap_ratio")" ">=" 0.99) |
| 1 | \`Next()\`, default layout, 2 threads | $(cell ids "$CORE_NEXT2.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | cap 4.10 M IDs/s | $(fmt x "$(med "$CORE_NEXT2.cap_ratio")") | |
| 1 | \`Next()\`, wide layout (per call) | $(cell ns "$CORE_WIDE.ns") | one clock read $(cell ns "$CORE_CLOCK.ns") | $(fmt x "$(ratio "$(med "$CORE_WIDE.ns")" "$(med "$CORE_CLOCK.ns")")") | < 20 ns: $(verdict "$(med "$CORE_WIDE.ns")" "<" 20) |
| 1 | \`NextBatch(4096)\`, wide layout (per ID) | $(cell ns2 "$CORE_BATCH.ns" "1/$BATCH") | one \`Next()\` $(fmt ns "$(med "$CORE_WIDE.ns")") | $(fmt x "$(ratio "$(calc "$(med "$CORE_BATCH.ns") / $BATCH")" "$(med "$CORE_WIDE.ns")")") | < 2 ns: $(verdict "$(calc "$(med "$CORE_BATCH.ns") / $BATCH")" "<" 2) |
| 2 | **one ID per HTTP request** (requests/s, pinned) | $(cell int single.node.rps) | nginx $(cell int single.nginx.rps) | **$(cell x single.pair_ratio)** | >= 0.9: $(verdict "$head_ratio" ">=" 0.9) |
| 2 | one ID per request, unpinned, defaults | $(cell int unpinned.node.rps) | nginx $(cell int unpinned.nginx.rps) | $(cell x unpinned.pair_ratio) | |
| 3 | batches of 4,096, binary (IDs/s) | $(cell ids batch.binary.rps "$BATCH") | cap 4.10 M | $(fmt x "$batch_ratio") | >= 0.95: $(verdict "$batch_ratio" ">=" 0.95) |
| 3 | batches of 4,096, JSON (IDs/s) | $(cell ids batch.json.rps "$BATCH") | cap 4.10 M | $(fmt x "$json_ratio") | |
| 3 | batches of 4,096, binary, unpinned node with its defaults | $(cell ids batch_unpinned.binary.rps "$BATCH") | cap 4.10 M | $(fmt x "$(ratio "$(calc_ids batch_unpinned.binary)" "$CAP_IDS_PER_SECOND")") | |
| 4 | node, 1 ID per request vs Redis INCR | $(fmt ids "$(med single.node.rps)") IDs/s | $(cell ids redis.p1.rps) INCR/s | $(fmt x "$(ratio "$(med single.node.rps)" "$(med redis.p1.rps)")") | |
| 4 | node, binary batches vs Redis INCR -P 16 | $(fmt ids "$(calc_ids batch.binary)") IDs/s | $(cell ids redis.p16.rps) INCR/s | $(fmt x "$(ratio "$(calc_ids batch.binary)" "$(med redis.p16.rps)")") | |
| 4 | node, 1 ID per request vs PostgreSQL nextval | $(fmt ids "$(med single.node.rps)") IDs/s | $(cell ids pg.nextval.rps) nextval/s | $(fmt x "$(ratio "$(med single.node.rps)" "$(med pg.nextval.rps)")") | |
| 5 | p99 latency at 50 % of the node's peak | $(cell us rate50.node.p99) | nginx at the same rate $(cell us rate50.nginx.p99) | $(fmt x "$(ratio "$p99_50" "$(med rate50.nginx.p99)")") | < 1 ms: $(verdict "$p99_50" "<" 1000) |
| 6 | peak resident memory (VmHWM) | $(cell mib rss.node.kb) | nginx (master + worker) $(cell mib rss.nginx.kb) | $(fmt x "$(ratio "$rss" "$(med rss.nginx.kb)")") | < 16 MiB: $(verdict "$rss" "<" 16384) |
| 6 | start to \`/readyz\` 200, static mode, first start | $(cell ms start.node_first.ms) | nginx start to first 200 $(cell ms start.nginx.ms) | $(fmt x "$(ratio "$(med start.node_first.ms)" "$(med start.nginx.ms)")") | |
| 6 | the same, restart after a graceful stop | $(cell ms start.node_restart.ms) | nginx $(cell ms start.nginx.ms) | $(fmt x "$(ratio "$(med start.node_restart.ms)" "$(med start.nginx.ms)")") | |

Goals missed in this run: $(missed_text).

## Machine

| | |
|---|---|
| CPU | $(machine model) (family $(machine family), model $(machine cpumodel)), $(machine cpus) CPUs, $(machine cores) cores per socket, $(machine threads_per_core) thread(s) per core$( [[ -n $(machine hypervisor) ]] && echo ", $(machine hypervisor) guest") |
| memory | $(machine mem) |
| system | $(machine os), kernel $(machine kernel), clock source \`$(machine clocksource)\` |
| load average (1, 5, 15 min) | $(machine load_start) at the start, $(machine load_end) at the end |
| pinning | $pinned (\`taskset\`), except \`core_bench\` (unpinned: it runs 2 threads) and the "unpinned" rows |

The machine is shared: other jobs (compilers, tests) ran on the same cores
during the run. The tables give, for each load, medians over its runs of
"others' CPU": all CPU time used on the machine (user and system time, and
time stolen by the hypervisor; not interrupt time, which is mostly the
kernel's work on the benchmark's own loopback traffic) minus the server's
and the load generator's, in % of one CPU;
and "server waited": the time the server's threads spent runnable but
waiting for a CPU (the scheduler's run-queue wait,
\`/proc/PID/task/*/schedstat\`), in % of the run. Where these are high,
the server shared its core with other jobs. Figures
taken one after the other can differ by tens of percent; the ratios pair
figures taken seconds apart, with the order of node and baseline
alternating from run to run.

## Versions

| program | version |
|---|---|
EOF
    awk -F'\t' '{printf "| %s | %s |\n", $1, $2}' "$WORK/versions.tsv"
    cat <<EOF

The node runs with its defaults (static mode, worker 0, default layout
41/10/12 at 1 ms, HWM reserve 5 s, no access log), except that when it is
pinned to one CPU it gets \`$node_threads\` (its default is one I/O thread per
core of the machine, $(nproc) here, which would put $(nproc) threads on one
core). nginx gets one worker when pinned (\`worker_processes auto\` when
not), access log off, keep-alive, and answers \`return 200\` with a body
of the same size as the node's \`/v1/id\` answer (\`$(tr -d '\n' <<<"${NGINX_BODY:-}")\` and a
newline, $(( ${#NGINX_BODY} + 1 )) bytes). Redis and PostgreSQL run with their
defaults (Redis without persistence: \`--save ''\`; PostgreSQL as initdb
makes it, over TCP on 127.0.0.1). Every load generator uses
$CONNECTIONS connections.

## 1. In-process: the core library

\`bench/core_bench\` (Google Benchmark), $( ((SMOKE)) && echo "one repetition (smoke)" || echo "3 repetitions"); medians with min-max over the repetitions.

| benchmark | wall time | CPU time | rate | ratio |
|---|---|---|---|---|
| \`Next()\`, default layout, 1 thread | $(cell ns "$CORE_NEXT1.ns") per ID | $(cell ns "$CORE_NEXT1.cpu_ns") | $(cell ids "$CORE_NEXT1.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | **$(cell x "$CORE_NEXT1.cap_ratio") cap** |
| \`Next()\`, default layout, 2 threads | $(cell ns "$CORE_NEXT2.ns") per ID (both threads) | | $(cell ids "$CORE_NEXT2.cap_ratio" "$CAP_IDS_PER_SECOND") IDs/s | $(cell x "$CORE_NEXT2.cap_ratio") cap |
| \`Next()\`, wide layout | $(cell ns "$CORE_WIDE.ns") per call | $(cell ns "$CORE_WIDE.cpu_ns") | $(fmt ids "$(calc "1e9 / $(med "$CORE_WIDE.ns")")") IDs/s | $(fmt x "$(ratio "$(med "$CORE_WIDE.ns")" "$(med "$CORE_CLOCK.ns")")") one clock read |
| \`NextBatch(4096)\`, wide layout | $(cell ns2 "$CORE_BATCH.ns" "1/$BATCH") per ID | $(cell ns2 "$CORE_BATCH.cpu_ns" "1/$BATCH") | $(fmt ids "$(calc "1e9 * $BATCH / $(med "$CORE_BATCH.ns")")") IDs/s | $(fmt x "$(ratio "$(calc "$(med "$CORE_BATCH.ns") / $BATCH")" "$(med "$CORE_WIDE.ns")")") one \`Next()\` |
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
    echo
    cat "$ROOT/bench/notes/core.md"
    cat <<EOF

## 2. One ID per request: the node against nginx

\`wrk --latency\` with $CONNECTIONS keep-alive connections, $WRK_SECONDS s per run,
GET \`/v1/id\` on both (nginx answers any path). The runs come in $SINGLE_RUNS pairs, node
and nginx seconds apart (which goes first alternates); the headline is the
median of the pairs' ratios, which the machine's slower swings move less
than a ratio of medians.

Pinned: $pinned; the node with \`$node_threads\`, nginx with one worker; wrk with 1 thread.

| server | requests/s | p50 | p99 | p99.9 | others' CPU / server waited |
|---|---|---|---|---|---|
$(latency_row "node" single.node)
$(latency_row "nginx" single.nginx)
$(ratio_row single.node single.nginx)

Unpinned, both with their defaults (the node: one I/O thread per core;
nginx: \`worker_processes auto\`), wrk with 2 threads, all sharing both CPUs:

| server | requests/s | p50 | p99 | p99.9 | others' CPU / server waited |
|---|---|---|---|---|---|
$(latency_row "node" unpinned.node)
$(latency_row "nginx" unpinned.nginx)
$(ratio_row unpinned.node unpinned.nginx)

Latency here is that of a saturated server (closed loop: each connection
sends its next request when the answer arrives), so it is mostly queueing;
section 5 measures latency at fixed rates below the peak.

## 3. Batches: \`/v1/ids?count=4096\`

wrk, $CONNECTIONS connections, $BATCH_SECONDS s per run: against the pinned node (1 I/O
thread on CPU ${SERVER_CPUS:-any}, wrk with 1 thread on CPU ${LOAD_CPUS:-any}) and against the unpinned node
with its defaults (wrk with 2 threads).
IDs/s = requests/s x 4,096; the cap of one node (one worker ID) is 4,096
IDs per ms = 4,096,000 IDs/s.

| node, format | requests/s | IDs/s | ratio to the cap | p50 | p99 | others' CPU / server waited |
|---|---|---|---|---|---|---|
| pinned, binary (big-endian u64s, 32 KiB) | $(cell int batch.binary.rps) | $(cell ids batch.binary.rps "$BATCH") | **$(fmt x "$batch_ratio")** | $(cell us batch.binary.p50) | $(cell us batch.binary.p99) | $(env_cell batch.binary) |
| pinned, JSON (\`{"ids":[...]}\`, strings, 84 KiB) | $(cell int batch.json.rps) | $(cell ids batch.json.rps "$BATCH") | $(fmt x "$json_ratio") | $(cell us batch.json.p50) | $(cell us batch.json.p99) | $(env_cell batch.json) |
| unpinned, defaults, binary | $(cell int batch_unpinned.binary.rps) | $(cell ids batch_unpinned.binary.rps "$BATCH") | $(fmt x "$(ratio "$(calc_ids batch_unpinned.binary)" "$CAP_IDS_PER_SECOND")") | $(cell us batch_unpinned.binary.p50) | $(cell us batch_unpinned.binary.p99) | $(env_cell batch_unpinned.binary) |
| unpinned, defaults, JSON | $(cell int batch_unpinned.json.rps) | $(cell ids batch_unpinned.json.rps "$BATCH") | $(fmt x "$(ratio "$(calc_ids batch_unpinned.json)" "$CAP_IDS_PER_SECOND")") | $(cell us batch_unpinned.json.p50) | $(cell us batch_unpinned.json.p99) | $(env_cell batch_unpinned.json) |

A batch takes the rest of the current millisecond's sequence and waits for
the next tick for the remainder, so with requests always waiting, a node
issues close to 4,096 IDs every millisecond.

## 4. Central counters: Redis INCR and PostgreSQL nextval

The alternatives the design is chosen over: every ID is a round trip to
one central server. Pinned like the node; $CONNECTIONS connections.

| source | IDs/s | p50 | p99 | node / it | others' CPU / server waited |
|---|---|---|---|---|---|
| node, one ID per request | $(cell ids single.node.rps) | $(cell us single.node.p50) | $(cell us single.node.p99) | | $(env_cell single.node) |
| node, binary batches of 4,096 | $(cell ids batch.binary.rps "$BATCH") | $(cell us batch.binary.p50) per batch | $(cell us batch.binary.p99) | | $(env_cell batch.binary) |
| Redis \`INCR\`, no pipelining | $(cell ids redis.p1.rps) | $(cell us redis.p1.p50) | $(cell us redis.p1.p99) | $(fmt x "$(ratio "$(med single.node.rps)" "$(med redis.p1.rps)")") (one ID per request) | $(env_cell redis.p1) |
| Redis \`INCR\`, \`-P 16\` | $(cell ids redis.p16.rps) | $(cell us redis.p16.p50) (16 in flight) | $(cell us redis.p16.p99) | $(fmt x "$(ratio "$(calc_ids batch.binary)" "$(med redis.p16.rps)")") (binary batches) | $(env_cell redis.p16) |
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

Goal: p99 under 1 ms at 50 % of the peak: $(verdict "$p99_50" "<" 1000) ($(fmt us "$p99_50")).
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
The heaviest load of the node here is the JSON batches (84 KiB answers on
$CONNECTIONS connections); VmHWM is the peak over the life of the pinned node,
which served sections 2, 3 and 5. Start-up is timed from just before the
shell starts the process (through \`taskset\`) to the first 200 answer,
polled every 0.5 ms; goal: memory under 16 MiB: $(verdict "$rss" "<" 16384).

## 7. Throughput and latency against offered load

![Achieved throughput and latency percentiles against offered load, node and nginx](bench-load.png)

Offered rates from 10 % to 300 % of the node's peak (25, 50 and 75 %:
medians of $RUNS runs; the others: one run each, so one busy moment of the
machine shows as a dip). Where the achieved rate stops following the
offered one, the server is saturated, or the load generator is: h2load
runs one thread on one core, and at one request in flight per connection
it cannot offer much more than nginx's peak.

EOF
    write_profile_section
    echo "## What limits the other figures"
    echo
    cat "$ROOT/bench/notes/limits.md"
    cat <<EOF

## Reproduce

\`\`\`sh
bench/run            # this page and docs/bench-*.png, about 7 minutes
bench/run --smoke    # every figure once, in seconds, into a temporary folder
\`\`\`

It installs what it needs from Debian's packages (\`${BENCH_PACKAGES[*]}\`; only what is missing),
builds \`snowflaked\` and \`core_bench\` with the \`release\` preset, starts every
server itself on free 127.0.0.1 ports with its files in a temporary folder,
and stops each by its PID at the end. The commands of this run, exactly
(the first of each kind; ports and folders change from run to run):

\`\`\`
EOF
    awk -F'\t' '{printf "# %s\n%s\n", $1, $2}' "$WORK/commands.tsv"
    echo '```'
  } >"$out"
  log "wrote $out"
}

missed_text() {
  local missed
  missed=$(goals_missed | tr '\n' ' ')
  [[ -n ${missed// /} ]] || {
    echo "none"
    return 0
  }
  local -A names=([headline]="one ID per request at >= 0.9 of nginx"
    [batch]="binary batches at >= 0.95 of the cap"
    [latency]="p99 < 1 ms at 50 % of the peak"
    [memory]="peak memory < 16 MiB")
  local m text=""
  for m in $missed; do text+="${text:+; }**${names[$m]}**"; done
  echo "$text (see [Where goals are missed](#where-goals-are-missed))"
}

write_profile_section() {
  local dir="$WORK/profile"
  [[ -d $dir ]] || return 0
  cat <<EOF
## Where goals are missed

Missed in this run: $(missed_text | sed 's/ (see.*//').
$(cat "$dir/perf" 2>/dev/null); the profile counts instructions with
valgrind's callgrind: both servers, pinned as above, under the same
one-ID-per-request wrk load ($CONNECTIONS connections, $PROFILE_SECONDS s), counted from
the end of start-up (\`callgrind_control --zero\`) to the end of the load.
Instruction counts do not depend on what else the machine is doing. System
calls come from \`strace -c\` on the running servers (at full speed, under
the same load).

| per request | node | nginx | node/nginx |
|---|---|---|---|
| instructions (user space) | $(fmt int "$(med profile.node.ir_per_request)") | $(fmt int "$(med profile.nginx.ir_per_request)") | **$(fmt x "$(ratio "$(med profile.node.ir_per_request)" "$(med profile.nginx.ir_per_request)")")** |
| system calls | $(med profile.node.syscalls_per_request) | $(med profile.nginx.syscalls_per_request) | $(fmt x "$(ratio "$(med profile.node.syscalls_per_request)" "$(med profile.nginx.syscalls_per_request)")") |

System calls per request, by call: node $(syscalls_text node); nginx $(syscalls_text nginx).

Where the node's instructions go (self cost, grouped), beside nginx's:

| share of instructions | node | nginx |
|---|---|---|
EOF
  local fam
  {
    cut -f2 "$dir/node.families" 2>/dev/null
    cut -f2 "$dir/nginx.families" 2>/dev/null
  } | awk '!seen[$0]++' | while IFS= read -r fam; do
    echo "| $fam | $(family_share node "$fam") | $(family_share nginx "$fam") |"
  done
  cat <<EOF

The node's heaviest functions (self cost; template arguments elided):

| share | function |
|---|---|
EOF
  awk -F'\t' '{gsub(/\|/, "\\|", $2); printf "| %s %% | `%s` |\n", $1, $2}' "$dir/node.top" 2>/dev/null
  echo
  # (Not `goals_missed | grep -q`: grep's early exit fails the pipeline.)
  if grep -qw headline "$WORK/goals_missed"; then cat "$ROOT/bench/notes/headline.md"; fi
  echo
}

syscalls_text() {
  awk -F'\t' '$1 != "total" {printf "%s%s %s", (n++ ? ", " : ""), $1, $2}' \
    "$WORK/profile/$1.syscalls" 2>/dev/null
}

family_share() {
  awk -F'\t' -v f="$2" '{t += $1; if ($2 == f) v = $1}
    END {if (t > 0 && v > 0) printf "%.1f %%", 100 * v / t; else print "-"}' \
    "$WORK/profile/$1.families" 2>/dev/null
}

# --- checks and the headline ------------------------------------------------------

# Every figure the report needs: present and numeric (not how fast).
check_figures() {
  local keys=() k level server missing=()
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
    rss.nginx.kb rss.redis.kb)
  for k in single.node single.nginx batch.binary redis.p1 pg.nextval rate50.node; do
    keys+=("$k.others")
  done
  for k in single.node single.nginx batch.binary redis.p1 rate50.node; do
    keys+=("$k.rqwait")
  done
  keys+=(batch_unpinned.binary.rps batch_unpinned.json.rps)
  if [[ -d $WORK/profile ]]; then
    keys+=(profile.node.ir_per_request profile.nginx.ir_per_request
      profile.node.syscalls_per_request profile.nginx.syscalls_per_request)
  fi
  for k in "${keys[@]}"; do
    [[ $(med "$k") =~ ^-?[0-9] ]] || missing+=("$k")
  done
  local dir
  dir=$(dirname "$OUT")
  for k in "$dir/bench-load.png" "$dir/bench-ids.png" "$OUT"; do
    [[ -s $k ]] || missing+=("$k")
  done
  if grep -q 'n/a' "$OUT" 2>/dev/null; then missing+=("'n/a' in $OUT"); fi
  if ((${#missing[@]})); then
    log "figures missing: ${missing[*]}"
    return 1
  fi
  log "all ${#keys[@]} figures produced, plots and report written"
  local bad
  bad=$(cat "$WORK"/samples/*.bad 2>/dev/null | awk '{s += $1} END {print s + 0}')
  ((bad == 0)) || log "warning: $bad requests failed or were not 2xx (see the log above)"
}

headline_line() {
  printf 'ratio node/nginx requests/s = %s (one ID per request, pinned, median of %s pairs; goal >= 0.9)\n' \
    "$(fmt x "$(med single.pair_ratio)")" "$SINGLE_RUNS"
}
