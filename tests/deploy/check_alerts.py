#!/usr/bin/env python3
"""Checks that the Prometheus alerts, their tests and their docs agree.

Run from the repository root (tests/deploy/prometheus_test.sh does). Checks:
  1. every alert has labels.severity (critical or warning) and the
     annotations summary, description and runbook_url;
  2. every runbook_url points at docs/runbooks.md#<its own alert's anchor>,
     that heading exists, and every `## Snowflake...` heading there has an
     alert;
  3. every alert has a firing case (non-empty exp_alerts) and a quiet case
     (empty exp_alerts) in alerts_test.yml, and the tests name no unknown
     alert;
  4. every snowflake_* metric an expression uses is listed in docs/metrics.md.
Each failure is printed with the rule it concerns; the exit status is 1 if
any check failed. The paths can be overridden (to try the checks on broken
copies): --alerts, --tests, --runbooks, --metrics.
"""

import argparse
import re
import sys

import yaml

RUNBOOK_BASE = "https://github.com/snowflake-id/snowflake/blob/main/docs/runbooks.md#"
SEVERITIES = {"critical", "warning"}
ANNOTATIONS = ("summary", "description", "runbook_url")
# A `##` heading of this shape is an alert's section; others (such as
# "Tools used below") are not.
ALERT_HEADING = re.compile(r"^Snowflake[A-Za-z0-9]+$")
METRIC = re.compile(r"\bsnowflake_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading (without the -N suffix)."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # Punctuation goes; _ and - stay.
    return text.replace(" ", "-")


def markdown_headings(text):
    """(level, title) of every heading outside fenced code blocks."""
    headings = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m and not fenced:
            headings.append((len(m.group(1)), m.group(2)))
    return headings


def anchors_of(headings):
    """Every anchor GitHub generates, duplicates numbered as GitHub does."""
    seen = {}
    anchors = set()
    for _, title in headings:
        base = github_anchor(title)
        n = seen.get(base, 0)
        anchors.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return anchors


def load_alerts(path, errors):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    alerts = []
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            if "alert" in rule:
                alerts.append(rule)
            elif "record" not in rule:
                errors.append(f"{path}: group {group.get('name')}: a rule with neither alert nor record")
    names = [a["alert"] for a in alerts]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"{name}: defined {names.count(name)} times in {path}")
    return doc, alerts


def check_labels_and_annotations(alerts, errors):
    for rule in alerts:
        name = rule["alert"]
        severity = (rule.get("labels") or {}).get("severity")
        if severity not in SEVERITIES:
            errors.append(f"{name}: labels.severity is {severity!r}, want one of {sorted(SEVERITIES)}")
        annotations = rule.get("annotations") or {}
        for key in ANNOTATIONS:
            if not str(annotations.get(key) or "").strip():
                errors.append(f"{name}: annotation {key} is missing or empty")


def check_runbooks(alerts, runbooks_path, errors):
    with open(runbooks_path, encoding="utf-8") as f:
        headings = markdown_headings(f.read())
    anchors = anchors_of(headings)
    names = {rule["alert"] for rule in alerts}
    for rule in alerts:
        name = rule["alert"]
        url = str((rule.get("annotations") or {}).get("runbook_url") or "")
        if not url:
            continue  # Reported with the annotations.
        if not url.startswith(RUNBOOK_BASE):
            errors.append(f"{name}: runbook_url {url} does not start with {RUNBOOK_BASE}")
            continue
        anchor = url[len(RUNBOOK_BASE):]
        if anchor != github_anchor(name):
            errors.append(f"{name}: runbook_url anchor #{anchor} is not its own section #{github_anchor(name)}")
        if anchor not in anchors:
            errors.append(f"{name}: runbook_url anchor #{anchor} has no heading in {runbooks_path}")
    for level, title in headings:
        if level == 2 and ALERT_HEADING.match(title) and title not in names:
            errors.append(f"{runbooks_path}: section '## {title}' has no alert of that name")


def check_tests(alerts, tests_path, errors):
    with open(tests_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    firing, quiet, named = set(), set(), set()
    for test in doc.get("tests") or []:
        for case in test.get("alert_rule_test") or []:
            name = case.get("alertname")
            named.add(name)
            (firing if case.get("exp_alerts") else quiet).add(name)
    names = {rule["alert"] for rule in alerts}
    for name in sorted(names):
        if name not in firing:
            errors.append(f"{name}: no case in {tests_path} where it fires (non-empty exp_alerts)")
        if name not in quiet:
            errors.append(f"{name}: no case in {tests_path} where it stays quiet (exp_alerts: [])")
    for name in sorted(named - names, key=str):
        errors.append(f"{tests_path}: alert_rule_test names {name!r}, which no rule defines")


def check_metrics(doc, metrics_path, errors):
    with open(metrics_path, encoding="utf-8") as f:
        documented = set(re.findall(r"`(snowflake_[a-z0-9_]+)`", f.read()))
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            name = rule.get("alert") or rule.get("record")
            used = set(METRIC.findall(str(rule.get("expr", ""))))
            for metric in sorted(used):
                base = metric
                for suffix in HISTOGRAM_SUFFIXES:
                    if metric.endswith(suffix) and metric[: -len(suffix)] in documented:
                        base = metric[: -len(suffix)]
                if base not in documented:
                    errors.append(f"{name}: uses {metric}, which {metrics_path} does not list")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", default="deploy/prometheus/alerts.yml")
    parser.add_argument("--tests", default="deploy/prometheus/alerts_test.yml")
    parser.add_argument("--runbooks", default="docs/runbooks.md")
    parser.add_argument("--metrics", default="docs/metrics.md")
    args = parser.parse_args()

    errors = []
    doc, alerts = load_alerts(args.alerts, errors)
    if not alerts:
        errors.append(f"{args.alerts}: no alerting rule found")
    check_labels_and_annotations(alerts, errors)
    check_runbooks(alerts, args.runbooks, errors)
    check_tests(alerts, args.tests, errors)
    check_metrics(doc, args.metrics, errors)

    for error in errors:
        print(f"check_alerts: {error}", file=sys.stderr)
    if errors:
        print(f"check_alerts: FAILED, {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_alerts: ok, {len(alerts)} alerts: labels, annotations, runbooks, tests, metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
