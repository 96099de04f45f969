#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, checks
# formatting, then builds and runs the tests in the release build (unit and
# end-to-end), under AddressSanitizer+UBSan and ThreadSanitizer (unit),
# fuzzes each libFuzzer target for 30 s, builds the core with clang's
# -Wthread-safety, and runs the benchmarks once in smoke mode (every figure
# produced, never how fast).
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
step "test release (unit and end-to-end)"
ctest --preset release -j "$jobs"

# The sanitizer builds need only the unit-test binaries.
unit_targets=(core_test cli_test lease_test server_test node_test)
for preset in asan tsan; do
  step "build $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs" --target "${unit_targets[@]}"
  step "test $preset (unit)"
  ctest --preset "$preset" -j "$jobs"
done

step "fuzz (30 s per target)"
scripts/fuzz.sh --all 30

step "clang -Wthread-safety build"
cmake --preset clang >/dev/null
cmake --build --preset clang -j "$jobs" --target snowflake_core

step "benchmark smoke"
bench/run --smoke

step "done"
