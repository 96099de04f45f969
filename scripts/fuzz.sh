#!/usr/bin/env bash
# Builds the fuzz preset (clang, libFuzzer, AddressSanitizer+UBSan) and runs
# libFuzzer targets of tests/fuzz on a copy of their seed corpus, in a
# scratch directory: the repository's corpus is never written.
#
#   scripts/fuzz.sh TARGET [SECONDS]   one target; without SECONDS, until Ctrl-C
#   scripts/fuzz.sh --all SECONDS      every target, SECONDS each, one per
#                                      core at a time
#   scripts/fuzz.sh --list             the targets
#
# Exits non-zero if a target crashed, leaked, timed out or broke one of its
# checks; the inputs that did are kept in the scratch directory, whose paths
# are printed with the command that replays them. Otherwise the scratch
# directory is removed. SNOWFLAKE_FUZZ_BUILD_DIR overrides the build
# directory (default build/fuzz, the preset's).
set -euo pipefail
cd "$(dirname "$0")/.."

# Target and the longest input worth trying: past each parser's own limit
# (the HTTP target's head limit is 1 KiB, the HWM file's 4 KiB).
declare -A max_len=(
  [http_request_fuzz]=4096
  [id_parse_fuzz]=128
  [hwm_file_fuzz]=4200
  [config_fuzz]=2048
)
targets=(http_request_fuzz id_parse_fuzz hwm_file_fuzz config_fuzz)

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

run_all=0
seconds=""
case "${1:-}" in
  --all)
    run_all=1
    seconds="${2:-}"
    [[ "$seconds" =~ ^[0-9]+$ ]] || usage
    selected=("${targets[@]}")
    ;;
  --list)
    printf '%s\n' "${targets[@]}"
    exit 0
    ;;
  "" | -*) usage ;;
  *)
    [[ -n "${max_len[$1]:-}" ]] || {
      echo "fuzz: unknown target $1; targets: ${targets[*]}" >&2
      exit 2
    }
    selected=("$1")
    seconds="${2:-}"
    [[ -z "$seconds" || "$seconds" =~ ^[0-9]+$ ]] || usage
    ;;
esac

build_dir="${SNOWFLAKE_FUZZ_BUILD_DIR:-build/fuzz}"
cmake --preset fuzz -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target "${selected[@]}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/snowflake-fuzz.XXXXXX")
# The targets write and read small files on every input (config, HWM
# file): in memory when possible, removed at the end whatever happens.
work_parent=/dev/shm
[[ -d "$work_parent" && -w "$work_parent" ]] || work_parent="$scratch"
work=$(mktemp -d "$work_parent/snowflake-fuzz-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One target: its log, crashes and exit status under $scratch/TARGET.
run_target() {
  local target=$1
  local dir="$scratch/$target"
  mkdir -p "$dir/crashes"
  cp -r "tests/fuzz/corpus/$target" "$dir/corpus"
  local args=(
    -max_len="${max_len[$target]}"
    -timeout=10
    -artifact_prefix="$dir/crashes/"
    -print_final_stats=0
  )
  [[ -f "tests/fuzz/$target.dict" ]] && args+=(-dict="tests/fuzz/$target.dict")
  [[ -n "$seconds" ]] && args+=(-max_total_time="$seconds")
  local binary="$build_dir/tests/fuzz/$target"
  local status=0
  if [[ -n "$seconds" ]]; then
    # Quiet when timed: the log is shown only if the target fails.
    TMPDIR="$work" UBSAN_OPTIONS=print_stacktrace=1 \
      "$binary" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || status=$?
  else
    # Ctrl-C stops the target (exit 72), not this script.
    trap 'true' INT
    TMPDIR="$work" UBSAN_OPTIONS=print_stacktrace=1 \
      "$binary" "${args[@]}" "$dir/corpus" || status=$?
    trap - INT
    [[ "$status" -eq 72 ]] && status=0
  fi
  echo "$status" >"$dir/status"
}

# Timed targets run side by side, one per core (each fuzzer is one
# thread); an untimed one runs alone in the foreground.
echo "fuzz: ${selected[*]} for ${seconds:-ever (Ctrl-C stops it)}${seconds:+ s each}"
if [[ -n "$seconds" ]]; then
  for target in "${selected[@]}"; do
    while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
    run_target "$target" &
  done
  wait
else
  run_target "${selected[0]}"
fi

failed=()
for target in "${selected[@]}"; do
  dir="$scratch/$target"
  binary="$build_dir/tests/fuzz/$target"
  status=$(cat "$dir/status" 2>/dev/null || echo "no status")
  [[ -n "$seconds" ]] &&
    { grep -E '^Done [0-9]+ runs' "$dir/log" | sed "s/^/fuzz:   $target: /" || true; }
  crashes=$(find "$dir/crashes" -type f | sort)
  if [[ "$status" != 0 || -n "$crashes" ]]; then
    failed+=("$target")
    if [[ -n "$seconds" ]]; then
      tail -n 40 "$dir/log" | sed 's/^/fuzz:   | /'
      echo "fuzz: $target FAILED (exit $status); log: $dir/log"
    else
      echo "fuzz: $target FAILED (exit $status)"
    fi
    while IFS= read -r crash; do
      [[ -n "$crash" ]] || continue
      echo "fuzz:   input: $crash"
      echo "fuzz:   replay: $binary $crash"
    done <<<"$crashes"
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]} (inputs kept in $scratch)" >&2
  exit 1
fi
rm -rf "$scratch"
echo "fuzz: ${selected[*]}: no failure"
