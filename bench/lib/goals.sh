# shellcheck shell=bash
# The goals a run of bench/run is held to, in one table, with the figure of
# each computed from this run's samples and its verdict. Every verdict the
# report states comes from here, recorded whole (the cell or the sentence,
# never a bare "met"; see report.sh) so that check_report.sh can tell it
# from a verdict typed into fixed prose. Sourced, never run.

# NAME OP LIMIT KIND PROFILE: the goal holds when figure OP LIMIT; KIND
# formats the limit (fmt's g* kinds); PROFILE "profile" when the profile of
# one ID per request explains a miss (profile.sh names those missed).
GOALS=(
  "core_cap >= 0.99 gx -"
  "core_next < 20 gns -"
  "core_batch < 2 gns -"
  "headline >= 1.0 gx profile"
  "unpinned >= 1.0 gx profile"
  "batch >= 0.95 gx profile"
  "latency < 1000 gus profile"
  "memory < 16384 gmib profile"
  "start < 50 gms -"
  "audit_memory < 1048576 ggib -"
  "client_cap >= 0.95 gx -"
  "client_next < 50 gns -"
  "grpc >= 0.9 gx -"
  "stream >= 0.95 gx -"
  "cpu_share < 5 gpct -"
  "cpu_growth < 1.1 gx -"
  "workers >= 1.8 gx -"
)

# goal_field NAME op|limit|kind|profile
goal_field() {
  local g name op limit kind profile
  for g in "${GOALS[@]}"; do
    read -r name op limit kind profile <<<"$g"
    [[ $name == "$1" ]] || continue
    case $2 in
    op) echo "$op" ;;
    limit) echo "$limit" ;;
    kind) echo "$kind" ;;
    profile) echo "$profile" ;;
    esac
    return 0
  done
  die "no goal named $1"
}

goal_names() {
  local g
  for g in "${GOALS[@]}"; do echo "${g%% *}"; done
}

# calc_ids KEY: IDs per second of a batch figure (requests/s x $BATCH).
calc_ids() {
  local rps
  rps=$(med "$1.rps")
  if [[ $rps == nan ]]; then echo nan; else calc "$rps * $BATCH"; fi
}

# goal_figure NAME: this run's figure for the goal (or "nan").
goal_figure() {
  case $1 in
  core_cap) med "$CORE_NEXT1.cap_ratio" ;;
  core_next) med "$CORE_WIDE.ns" ;;
  core_batch)
    local ns
    ns=$(med "$CORE_BATCH.ns")
    if [[ $ns == nan ]]; then echo nan; else calc "$ns / $BATCH"; fi
    ;;
  headline) med single.pair_ratio ;;
  unpinned) med unpinned.pair_ratio ;;
  batch) ratio "$(calc_ids batch.binary)" "$CAP_IDS_PER_SECOND" ;;
  latency) med "rate$LATENCY_GOAL_LEVEL.node.p99" ;;
  memory) med rss.node.kb ;;
  start) med start.node_first.ms ;;
  audit_memory) audit_peak_rss ;;
  client_cap) med client.next.cap_ratio ;;
  client_next) med client.next.buffer_ns ;;
  grpc) med grpc.pair_ratio ;;
  stream) med grpc.stream.cap_ratio ;;
  cpu_share) med cpu.1000.node.share ;;
  cpu_growth) med cpu.growth ;;
  workers) med workers.2.cap_ratio ;;
  *) die "no figure for goal $1" ;;
  esac
}

# goal_state NAME: met, missed, or n/a (no figure); from GOAL_STATES when
# goals_evaluate has filled it.
declare -A GOAL_STATES=()
goal_state() {
  if [[ -n ${GOAL_STATES[$1]:-} ]]; then
    echo "${GOAL_STATES[$1]}"
    return 0
  fi
  awk -v v="$(goal_figure "$1")" -v op="$(goal_field "$1" op)" \
    -v l="$(goal_field "$1" limit)" 'BEGIN {
      if (v == "nan" || v == "") { print "n/a"; exit }
      ok = (op == ">=") ? v >= l : v < l
      print ok ? "met" : "missed"
    }'
}

# goal_verdict NAME: the verdict as the report prints it (not recorded:
# the callers record what they print around it).
goal_verdict() {
  case $(goal_state "$1") in
  met) echo met ;;
  missed) echo "**missed**" ;;
  *) echo n/a ;;
  esac
}

# goal_limit NAME: "OP LIMIT" as the report prints it (">= 0.9", "< 1 ms").
goal_limit() {
  echo "$(goal_field "$1" op) $(fmt "$(goal_field "$1" kind)" "$(goal_field "$1" limit)")"
}

# goal_cell NAME: "OP LIMIT: VERDICT", the goal column of the headline.
goal_cell() {
  local out
  out="$(goal_limit "$1"): $(goal_verdict "$1")"
  record "$out"
  echo "$out"
}

# goal_sentence NAME [FIGURE]: "Goal: LABEL OP LIMIT: VERDICT (FIGURE)."
goal_sentence() {
  local out
  out="Goal: $(goal_label "$1") $(goal_limit "$1"): $(goal_verdict "$1")${2:+ ($2)}."
  record "$out"
  echo "$out"
}

# goal_label NAME: what the goal is about, in words (fixed prose: no figure).
goal_label() {
  case $1 in
  core_cap) echo "\`Next()\`, default layout, one thread: ratio to the cap" ;;
  core_next) echo "\`Next()\`, wide layout, per call" ;;
  core_batch) echo "\`NextBatch()\`, wide layout, per ID" ;;
  headline) echo "one ID per request: ratio node/nginx" ;;
  unpinned) echo "one ID per request, unpinned, defaults of both: ratio node/nginx" ;;
  batch) echo "binary batches: ratio to the cap" ;;
  latency) echo "p99 latency at $(fmt pct "$LATENCY_GOAL_LEVEL") of the node's peak" ;;
  memory) echo "peak resident memory" ;;
  start) echo "start to ready, static mode, first start" ;;
  audit_memory) echo "\`snowflake audit\` of $(fmt int "$AUDIT_IDS") IDs, peak resident memory" ;;
  client_cap) echo "client \`Next()\`, one thread, one node: ratio to the cap" ;;
  client_next) echo "client \`Next()\` served from the buffer, per call" ;;
  grpc) echo "gRPC \`NextIds(1)\`: ratio node/constant-reply server" ;;
  stream) echo "gRPC \`StreamIds\`, one consumer: ratio to the cap" ;;
  cpu_share) echo "node CPU at 1 M IDs/s in batches of 1,000, share of a core" ;;
  cpu_growth) echo "node CPU per million IDs, growth from one batch size to the next" ;;
  workers) echo "binary batches, node with ${WORKERS_COUNTS[1]} workers on $(nproc) CPUs: ratio to the cap of one worker ID" ;;
  esac
}

# goals_evaluate: every goal's state, once, into GOAL_STATES (call it once
# the samples are complete, in the shell that writes the report).
goals_evaluate() {
  local name
  GOAL_STATES=()
  while read -r name; do
    GOAL_STATES[$name]=$(goal_state "$name")
  done < <(goal_names)
}

# goals_missed: the goals this run missed (or has no figure for), one a line.
goals_missed() {
  local name
  while read -r name; do
    [[ $(goal_state "$name") == met ]] || echo "$name"
  done < <(goal_names)
}

# goals_summary: one sentence on the goals of this run, for the report.
goals_summary() {
  local name text="" out
  while read -r name; do
    text+="${text:+; }**$(goal_label "$name") $(goal_limit "$name")**"
  done < <(goals_missed)
  if [[ -z $text ]]; then
    out="Goals missed in this run: none."
  else
    out="Goals missed in this run: $text."
  fi
  record "$out"
  echo "$out"
}
