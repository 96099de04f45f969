#!/usr/bin/env bash
# Checks deploy/prometheus: the config and the rules by promtool, the alerts'
# unit tests (alerts_test.yml), the YAML by yamllint, and by
# tests/deploy/check_alerts.py that every alert has a severity, annotations, a
# runbook section in docs/runbooks.md, firing and quiet test cases, and only
# metrics docs/metrics.md lists. Run from the repository root.
set -euo pipefail

cd "$(dirname "$0")/../.."

for tool in promtool yamllint python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "prometheus_test: $tool not found (scripts/deps.sh installs the test tools)" >&2
    exit 1
  fi
done

step() { echo "== $*"; }

step "promtool check config"
promtool check config deploy/prometheus/prometheus.yml

# The target files the config reads, named and shaped as the local-cluster
# script and `snowflake cluster list --format prometheus-sd` write them: the
# config must find them (no "does not exist" warning) and accept them.
step "promtool check config, with target files"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp deploy/prometheus/prometheus.yml deploy/prometheus/alerts.yml "$tmp/"
mkdir "$tmp/targets"
cat >"$tmp/targets/snowflake-eu.json" <<'EOF'
[{"targets": ["127.0.0.1:8081"],
  "labels": {"cluster": "prod", "region": "eu", "node": "node-1"}}]
EOF
echo '[{"targets": ["127.0.0.1:2379"], "labels": {"cluster": "prod", "region": "eu"}}]' \
  >"$tmp/targets/etcd-eu.json"
echo '[{"targets": ["127.0.0.1:9093"], "labels": {}}]' >"$tmp/targets/alertmanager.json"
out=$(promtool check config "$tmp/prometheus.yml" 2>&1) || { echo "$out"; exit 1; }
echo "$out"
if grep -q WARNING <<<"$out"; then
  echo "prometheus_test: the config does not read targets/{snowflake,etcd,alertmanager}*.json" >&2
  exit 1
fi

step "promtool check rules"
promtool check rules deploy/prometheus/alerts.yml

step "promtool test rules"
promtool test rules deploy/prometheus/alerts_test.yml

step "yamllint"
yamllint --strict -c deploy/.yamllint deploy/prometheus/*.yml

step "check_alerts.py"
python3 tests/deploy/check_alerts.py

echo "prometheus_test: PASS"
