# shellcheck shell=bash
# The audit section of bench/run: `snowflake audit` (src/cli/audit.cc) over
# $AUDIT_IDS IDs, from a binary and from a decimal file, against the exact
# duplicate finder an operator would otherwise run on the decimal file,
# GNU `sort -n | uniq -d` with the same memory budget, in the same run.
# Wall time, IDs/s and peak resident memory of each; the input is made by
# bench/lib/audit_ids.cc in $WORK/audit and deleted at the end of the
# section. Sourced, never run.

# Bytes of disk each input ID needs at the peak: 8 (binary file) + 19
# (decimal line) + the larger of audit's spilled runs (8) and sort's
# temporary files (about 19), rounded up.
AUDIT_BYTES_PER_ID=60
AUDIT_DISK_MARGIN_KB=$((1024 * 1024))

# audit_fit_disk: shrinks AUDIT_IDS, saying so, when the work folder's file
# system cannot hold the input and the sorts' temporary files.
audit_fit_disk() {
  local avail_kb need_kb fit
  avail_kb=$(df -Pk "$WORK" | awk 'NR == 2 {print $4}')
  need_kb=$((AUDIT_IDS * AUDIT_BYTES_PER_ID / 1024 + AUDIT_DISK_MARGIN_KB))
  ((avail_kb >= need_kb)) && return 0
  fit=$(((avail_kb - AUDIT_DISK_MARGIN_KB) * 1024 / AUDIT_BYTES_PER_ID / 1000000 * 1000000))
  ((fit >= 1000000)) ||
    die "audit: only $((avail_kb / 1024)) MiB free in $WORK; even 1,000,000 IDs need more"
  log "audit: only $((avail_kb / 1024)) MiB free in $WORK, $((need_kb / 1024)) MiB needed for $AUDIT_IDS IDs: auditing $fit IDs instead"
  AUDIT_SHRUNK_FROM=$AUDIT_IDS
  AUDIT_IDS=$fit
}

# audit_buffer_ids: `snowflake audit`'s default --buffer-ids, from its help.
audit_buffer_ids() {
  "$SNOWFLAKE" audit --help | sed -n 's/.*--buffer-ids N=\([0-9]*\).*/\1/p' | head -1
}

# run_timed KEY OUT COMMAND...: runs COMMAND (stdout to OUT, stderr to
# OUT.err) under GNU time, in this shell (so that others_end counts its CPU
# as ours); samples KEY.others and sets RUN_STATUS, RUN_SECONDS (wall) and
# RUN_RSS_KB (peak resident memory of its largest process).
run_timed() {
  local key=$1 out=$2 t0
  shift 2
  RUN_STATUS=0
  others_begin
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$out.time" "$@" >"$out" 2>"$out.err" || RUN_STATUS=$?
  RUN_SECONDS=$(calc "$(us_between "$t0" "$EPOCHREALTIME") / 1e6")
  others_end "$key"
  RUN_RSS_KB=$(grep -E '^[0-9]+$' "$out.time" | tail -1)
}

# This run's IDs/s of each key (empty: no figure), for the run's ratios.
declare -A AUDIT_RATE=()

# sample_run KEY: samples KEY.s, KEY.ids_per_s and KEY.rss.kb of the run
# that run_timed just timed.
sample_run() {
  AUDIT_RATE[$1]=$(calc "$AUDIT_IDS / $RUN_SECONDS")
  sample "$1.s" "$RUN_SECONDS"
  sample "$1.ids_per_s" "${AUDIT_RATE[$1]}"
  sample "$1.rss.kb" "$RUN_RSS_KB"
}

# audit_one KEY FORMAT FILE: `snowflake audit` of FILE; samples its
# figures only when it read every ID and found exactly the duplicates made,
# and nothing else (exit status 1: duplicates are findings).
audit_one() {
  local key=$1 format=$2 file=$3 out
  AUDIT_RATE[$key]=""
  out=$(raw_file "$key")
  local cmd=("$SNOWFLAKE" audit --format "$format" --temp-dir "$WORK/audit"
    --buffer-ids "$AUDIT_BUFFER_IDS" --json "$file")
  note_command "snowflake audit ($format)" "${cmd[*]}"
  run_timed "$key" "$out" "${cmd[@]}"
  local found ids dups invalid outside future runs
  found=$(jq -r '[.ids, .duplicates.count, .invalid.count, .outside_range.count,
      .future.count, .sorted_runs] | @tsv' "$out" 2>/dev/null) || found=""
  IFS=$'\t' read -r ids dups invalid outside future runs <<<"$found"
  if [[ $RUN_STATUS != 1 || $ids != "$AUDIT_IDS" || $dups != "$AUDIT_DUPLICATES" ||
    $invalid != 0 || $outside != 0 || $future != 0 ]]; then
    log "audit $key: exit $RUN_STATUS, read ${ids:-?} IDs (of $AUDIT_IDS), found ${dups:-?} duplicates (of $AUDIT_DUPLICATES), invalid ${invalid:-?}, outside ${outside:-?}, future ${future:-?}: no figure; $(tail -3 "$out.err")"
    return 0
  fi
  sample_run "$key"
  sample "$key.runs" "$runs"
  log "  $key: $RUN_SECONDS s, ${AUDIT_RATE[$key]} IDs/s, peak RSS $RUN_RSS_KB kB, $runs sorted runs"
}

# sort_uniq_one KEY FILE: the baseline, `sort -n | uniq -d` of FILE with
# the same memory budget; samples its figures only when it printed exactly
# the duplicates made.
sort_uniq_one() {
  local key=$1 file=$2 out dups
  AUDIT_RATE[$key]=""
  out=$(raw_file "$key")
  local pipeline="LC_ALL=C sort -n -S ${AUDIT_SORT_KB}K -T $WORK/audit $file | uniq -d"
  note_command "sort | uniq -d (baseline)" "$pipeline"
  run_timed "$key" "$out" bash -o pipefail -c "$pipeline"
  dups=$(wc -l <"$out")
  if [[ $RUN_STATUS != 0 || $dups != "$AUDIT_DUPLICATES" ]]; then
    log "baseline $key: exit $RUN_STATUS, printed $dups duplicates (of $AUDIT_DUPLICATES): no figure; $(tail -3 "$out.err")"
    return 0
  fi
  sample_run "$key"
  log "  $key: $RUN_SECONDS s, ${AUDIT_RATE[$key]} IDs/s, peak RSS $RUN_RSS_KB kB"
}

# measure_audit: the input, $AUDIT_RUNS runs of each of the three (the
# order rotates from run to run), the ratio of each run, then the input
# deleted.
measure_audit() {
  local dir="$WORK/audit" run out
  mkdir -p "$dir"
  audit_fit_disk
  AUDIT_BUFFER_IDS=${AUDIT_BUFFER_IDS:-$(audit_buffer_ids)}
  [[ $AUDIT_BUFFER_IDS =~ ^[0-9]+$ ]] || die "audit: no default --buffer-ids in \`snowflake audit --help\`"
  AUDIT_SORT_KB=$((AUDIT_BUFFER_IDS * 8 / 1024))
  log "audit: making $AUDIT_IDS IDs ($AUDIT_DUPLICATES duplicated) in $dir"
  out=$(raw_file audit_ids)
  local t0=$EPOCHREALTIME
  "$AUDIT_IDS_BIN" "$AUDIT_IDS" "$AUDIT_DUPLICATES" "$dir/ids.bin" "$dir/ids.txt" >"$out" 2>&1 ||
    die "audit_ids failed: $(tail -3 "$out")"
  note_command "audit input" "$AUDIT_IDS_BIN $AUDIT_IDS $AUDIT_DUPLICATES $dir/ids.bin $dir/ids.txt"
  AUDIT_WORKERS=$(sed -n 's/.* workers=\([0-9]*\).*/\1/p' "$out")
  sample audit.size_binary.bytes "$(stat -c %s "$dir/ids.bin")"
  sample audit.size_decimal.bytes "$(stat -c %s "$dir/ids.txt")"
  log "  made in $(calc "$(us_between "$t0" "$EPOCHREALTIME") / 1e6") s: $(cat "$out")"
  log "audit: $AUDIT_RUNS run(s) each of snowflake audit (binary, decimal; --buffer-ids $AUDIT_BUFFER_IDS) and sort -n -S ${AUDIT_SORT_KB}K | uniq -d"
  for ((run = 1; run <= AUDIT_RUNS; run++)); do
    case $((run % 3)) in
    1)
      audit_one audit.binary binary "$dir/ids.bin"
      audit_one audit.decimal text "$dir/ids.txt"
      sort_uniq_one audit.sort_uniq "$dir/ids.txt"
      ;;
    2)
      sort_uniq_one audit.sort_uniq "$dir/ids.txt"
      audit_one audit.binary binary "$dir/ids.bin"
      audit_one audit.decimal text "$dir/ids.txt"
      ;;
    0)
      audit_one audit.decimal text "$dir/ids.txt"
      sort_uniq_one audit.sort_uniq "$dir/ids.txt"
      audit_one audit.binary binary "$dir/ids.bin"
      ;;
    esac
    # This run's ratios: taken minutes apart at most, robust to the
    # machine's slower swings.
    sample audit.decimal_ratio "$(ratio "${AUDIT_RATE[audit.decimal]}" "${AUDIT_RATE[audit.sort_uniq]}")"
    sample audit.binary_ratio "$(ratio "${AUDIT_RATE[audit.binary]}" "${AUDIT_RATE[audit.sort_uniq]}")"
  done
  rm -rf "$dir"
  log "  audit decimal/sort|uniq $(med audit.decimal_ratio)x, binary/sort|uniq $(med audit.binary_ratio)x; input deleted"
}

# audit_peak_rss: the larger of the two audits' median peak RSS (kB).
audit_peak_rss() {
  local b d
  b=$(med audit.binary.rss.kb)
  d=$(med audit.decimal.rss.kb)
  if [[ $b == nan || $d == nan ]]; then echo nan; else calc "($b > $d) ? $b : $d"; fi
}

# audit_keys: the figures the audit section needs (check_figures).
audit_keys() {
  local k
  for k in audit.binary audit.decimal audit.sort_uniq; do
    echo "$k.s" "$k.ids_per_s" "$k.rss.kb" "$k.others"
  done
  echo audit.binary.runs audit.decimal_ratio audit.binary_ratio \
    audit.size_binary.bytes audit.size_decimal.bytes
}

# audit_headline_rows: the audit's rows of the report's headline table.
audit_headline_rows() {
  local base
  base="\`sort -n \\| uniq -d\` (decimal) $(cell ids audit.sort_uniq.ids_per_s) IDs/s"
  cat <<EOF
| 8 | \`snowflake audit\`, $(fmt int "$AUDIT_IDS") decimal IDs (IDs/s) | $(cell ids audit.decimal.ids_per_s) | $base | $(cell x audit.decimal_ratio) | |
| 8 | \`snowflake audit\`, the same IDs in binary (IDs/s) | $(cell ids audit.binary.ids_per_s) | $base | $(cell x audit.binary_ratio) | |
| 8 | \`snowflake audit\`, peak resident memory | $(fmt mib "$(audit_peak_rss)") | \`sort -n \\| uniq -d\` $(cell mib audit.sort_uniq.rss.kb) | $(fmt x "$(ratio "$(audit_peak_rss)" "$(med audit.sort_uniq.rss.kb)")") | $(goal_cell audit_memory) |
EOF
}

# write_audit_section: the report's section 8.
write_audit_section() {
  record "$AUDIT_RUNS" "$AUDIT_DUPLICATES" "$AUDIT_BUFFER_IDS" "${AUDIT_SORT_KB}K" \
    "${AUDIT_WORKERS:-}" "$AUDIT_IDS" "$(nproc)"
  local shrunk=""
  if [[ -n ${AUDIT_SHRUNK_FROM:-} ]]; then
    shrunk=" The work folder's disk had no room for $(fmt int "$AUDIT_SHRUNK_FROM") IDs, so this run audited fewer."
    record "$shrunk"
  fi
  cat <<EOF
## 8. Audit: \`snowflake audit\` against \`sort -n | uniq -d\`

\`snowflake audit\` finds every duplicate exactly with bounded memory: it
sorts runs of \`--buffer-ids\` $(fmt int "$AUDIT_BUFFER_IDS") IDs ($(fmt mib "$(calc "$AUDIT_BUFFER_IDS * 8 / 1024")")) in memory, spills them
to the work folder and merges them. The input: $(fmt int "$AUDIT_IDS") IDs of the default layout
from ${AUDIT_WORKERS:-n/a} workers taking turns in each millisecond, times increasing, of which
$AUDIT_DUPLICATES are second copies of earlier IDs; the same IDs as big-endian u64s
($(cell mib audit.size_binary.bytes "1/1024")) and as decimal lines ($(cell mib audit.size_decimal.bytes "1/1024")), written
just before (read from the page cache).$shrunk The baseline, on the decimal
file, is the exact duplicate finder an operator would otherwise run: GNU
\`sort -n\` with the same memory budget (\`-S ${AUDIT_SORT_KB}K\`, temporary files in the
work folder, its default threads: $(nproc) here; \`LC_ALL=C\`), then
\`uniq -d\`. \`snowflake audit\` runs one thread. Both unpinned; a run
counts only if it read every ID and found exactly the $AUDIT_DUPLICATES duplicates.
$AUDIT_RUNS run(s) of each, the order rotating from run to run; ratios are
medians of each run's ratio.

| input, tool | wall time | IDs/s | ratio to \`sort -n \\| uniq -d\` | peak resident memory | others' CPU |
|---|---|---|---|---|---|
| decimal, \`snowflake audit\` | $(cell s audit.decimal.s) | $(cell ids audit.decimal.ids_per_s) | **$(cell x audit.decimal_ratio)** | $(cell mib audit.decimal.rss.kb) | $(fmt pct "$(med audit.decimal.others)") |
| binary, \`snowflake audit --format binary\` | $(cell s audit.binary.s) | $(cell ids audit.binary.ids_per_s) | $(cell x audit.binary_ratio) | $(cell mib audit.binary.rss.kb) | $(fmt pct "$(med audit.binary.others)") |
| decimal, \`sort -n \\| uniq -d\` (baseline) | $(cell s audit.sort_uniq.s) | $(cell ids audit.sort_uniq.ids_per_s) | | $(cell mib audit.sort_uniq.rss.kb) (largest process) | $(fmt pct "$(med audit.sort_uniq.others)") |

Sorted runs spilled by \`snowflake audit\`: $(fmt int "$(med audit.binary.runs)"). Peak resident
memory is GNU time's maximum resident set size of the largest process.
$(goal_sentence audit_memory "$(fmt mib "$(audit_peak_rss)")")

EOF
}

# audit_headline_line: the last line of `bench/run --only audit`.
audit_headline_line() {
  printf 'ratio snowflake audit/sort|uniq -d IDs/s = %s decimal, %s binary (%s IDs; peak RSS %s, goal %s)\n' \
    "$(fmt x "$(med audit.decimal_ratio)")" "$(fmt x "$(med audit.binary_ratio)")" \
    "$(fmt int "$AUDIT_IDS")" "$(fmt mib "$(audit_peak_rss)")" "$(goal_limit audit_memory)"
}
