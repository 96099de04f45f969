#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, checks
# formatting, then builds and runs the tests in the release build (unit and
# end-to-end) while clang-tidy reads every first-party source of the clang
# build with its compile flags (so clang's -Wthread-safety and other warnings
# cover every target), runs the unit tests under AddressSanitizer+UBSan and
# ThreadSanitizer, fuzzes each libFuzzer target for 30 s, and runs the
# benchmarks once in smoke mode (every figure produced, never how fast).
# Between the release tests and the sanitizer builds it runs the fault suite
# for 120 s (scripts/faults.sh --short) and audits every ID it collected.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
jobs=$(nproc)
step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

step "format check"
git ls-files -- '*.h' '*.cc' | xargs clang-format --dry-run --Werror

step "build release"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
# clang-tidy needs only the clang build's compile commands and generated
# protos. It runs at the lowest priority beside the end-to-end tests, which
# spend most of their time waiting on processes and timers.
step "clang-tidy and clang warnings, every target (in the background)"
cmake --preset clang >/dev/null
cmake --build --preset clang --target snowflake_proto_sources
tidy_log=build/clang/tidy.log
nice -n 19 scripts/tidy.sh build/clang >"$tidy_log" 2>&1 &
tidy_pid=$!
trap 'kill "$tidy_pid" 2>/dev/null || true' EXIT

step "test release (unit and end-to-end)"
ctest --preset release -j "$jobs"

step "clang-tidy result"
if ! wait "$tidy_pid"; then
  cat "$tidy_log"
  exit 1
fi
tail -n 1 "$tidy_log"

# On the release build, with nothing else running: its faults are timed.
step "fault suite (short: 120 s of faults, then snowflake audit)"
rm -rf build/faults
scripts/faults.sh --short --out build/faults

# The sanitizer builds need only the unit-test binaries.
unit_targets=(base_test core_test cli_test lease_test server_test node_test
              zookeeper_status_test lease_protocol_test client_test)
for preset in asan tsan; do
  step "build $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs" --target "${unit_targets[@]}"
  step "test $preset (unit)"
  ctest --preset "$preset" -j "$jobs"
done

step "fuzz (30 s per target)"
scripts/fuzz.sh --all 30

step "benchmark smoke"
bench/run --smoke

step "done"
