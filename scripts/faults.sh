#!/usr/bin/env bash
# The fault-injection suite (tests/faults/fault_suite.py): a 3-member etcd
# and 4 nodes under load while faults are injected from a random seed, then
# `snowflake audit` over every ID received. Needs the release build.
#
#   scripts/faults.sh [--short]         120 s of faults, at least 5 M IDs
#                                       (run by scripts/test.sh)
#   scripts/faults.sh --long [SECONDS]  as long as asked (default 1800 s),
#                                       at least 100 M IDs if 1800 s or more
#   ... --seed N                        replay the schedule of a seed
#   ... --out DIR                       keep the run (IDs, logs, REPORT.md)
#   ... --faults KIND,...               only these kinds (see the suite's
#                                       --help: kill, pause, step, ...)
#
# Exits non-zero when the audit finds anything (a duplicate, an ID out of
# order within a source, one in the future) or a node does not recover.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=120
min_ids=5000000
extra=()
while (($#)); do
  case "$1" in
    --short) seconds=120 min_ids=5000000 ;;
    --long)
      seconds=1800
      if [[ "${2:-}" =~ ^[0-9]+$ ]]; then
        seconds=$2
        shift
      fi
      min_ids=$((seconds >= 1800 ? 100000000 : 0))
      ;;
    --seed | --out | --nodes | --faults)
      [[ -n "${2:-}" ]] || {
        echo "faults: $1 needs a value" >&2
        exit 2
      }
      extra+=("$1" "$2")
      shift
      ;;
    *)
      sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
  shift
done
exec python3 tests/faults/fault_suite.py --seconds "$seconds" \
  --min-ids "$min_ids" "${extra[@]}"
