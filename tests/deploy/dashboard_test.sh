#!/usr/bin/env bash
# Checks deploy/grafana/snowflake.json without any server: the structure check
# of tests/deploy/check_dashboard.py (ids, titles, descriptions, datasource
# ${datasource}, units, targets, gridPos, variables, metrics listed in
# docs/metrics.md), then that the check still fails on broken copies. The
# queries against a live Prometheus are checked by the local-cluster
# end-to-end test (check_dashboard.check_queries). Run from the repository
# root.
set -euo pipefail

cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null; then
  echo "dashboard_test: python3 not found" >&2
  exit 1
fi

dashboard=deploy/grafana/snowflake.json
step() { echo "== $*"; }

step "check_dashboard.py $dashboard"
python3 tests/deploy/check_dashboard.py "$dashboard"

# Each broken copy must fail with the expected message.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
expect_failure() { # NAME PYTHON-EDIT EXPECTED-TEXT
  local name=$1 edit=$2 expected=$3
  python3 - "$dashboard" "$tmp/$name.json" "$edit" <<'EOF'
import json, sys
source, target, edit = sys.argv[1:4]
d = json.load(open(source))
panels = [p for p in d["panels"] if p.get("type") != "row"]
exec(edit)
json.dump(d, open(target, "w"), indent=1)
EOF
  if out=$(python3 tests/deploy/check_dashboard.py "$tmp/$name.json" 2>&1); then
    echo "dashboard_test: the check passed a dashboard with $name" >&2
    exit 1
  fi
  if ! grep -qF -- "$expected" <<<"$out"; then
    echo "dashboard_test: with $name the check failed, but without '$expected':" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$name: rejected ($(grep -F -- "$expected" <<<"$out" | head -1))"
}

step "the check fails on broken copies"
expect_failure duplicate-id 'panels[1]["id"] = panels[0]["id"]' "is used 2 times"
expect_failure misspelt-metric \
  'panels[0]["targets"][0]["expr"] += " + sum(snowflake_ids_issud_total)"' \
  "metric snowflake_ids_issud_total is not in docs/metrics.md"
expect_failure no-unit 'panels[0]["fieldConfig"]["defaults"].pop("unit")' "no unit"
expect_failure no-description 'panels[0].pop("description")' "no description"
expect_failure hard-coded-uid 'panels[0]["datasource"] = {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}' \
  "hard-coded datasource uid 'P1809F7CD0C75ACF3'"
expect_failure overlap 'panels[1]["gridPos"] = dict(panels[0]["gridPos"])' "overlaps"
expect_failure equality-on-multi-value \
  'panels[0]["targets"][0]["expr"] = panels[0]["targets"][0]["expr"].replace("cluster=~", "cluster=")' \
  "matched with = (use =~ or !~)"

echo "dashboard_test: PASS"
