#!/usr/bin/env python3
"""Checks the Grafana dashboard deploy/grafana/snowflake.json.

  check_dashboard.py DASHBOARD [--prometheus URL] [--metrics docs/metrics.md]

check_structure(path) reads the JSON only (fast, no server):
  - every panel, rows' nested panels included, has a unique integer id and a
    gridPos inside the 24-column grid, and no two panels overlap (top-level
    panels with one another, a collapsed row's panels with one another);
  - every panel but a row has a title, a description, the datasource
    ${datasource}, at least one target, an expr in every target, and a unit
    (fieldConfig.defaults.unit); thresholds, where set, are well formed;
  - no datasource uid anywhere is hard-coded: each is a variable (the
    dashboard's own, or an __inputs entry of an exported dashboard) or one of
    Grafana's built-ins; the dashboard has the `datasource` variable of type
    datasource (Prometheus);
  - every ${variable} an expr uses exists, and a multi-value variable is
    matched with =~ or !~ (its All value is the regex .*);
  - every snowflake_* or process_* metric an expr uses is listed in
    docs/metrics.md (histograms' _bucket, _count, _sum included).

check_queries(path, prometheus_url) runs every expr of every panel (and the
label_values() queries of the variables) against a live Prometheus
(/api/v1/query, evaluated now), with the variables filled in as Grafana would
with "All" selected: $cluster, $instance (any query variable) -> .*,
$__rate_interval -> 1m, $__interval -> 15s, $__range -> 1h. Each must parse
and return at least one sample.

Both return a list of failures, one line each, naming the panel (id and
title) and, for queries, the expr; an empty list means the dashboard passed.
The command line prints them one a line on stderr and exits 1 if any.
Python 3 standard library only; importable (tests/deploy/ on sys.path, then
`import check_dashboard`).
"""

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

GRID_COLUMNS = 24
DATASOURCE_VARIABLE = "datasource"
DATASOURCE_REFS = {"${datasource}", "$datasource"}
# Grafana's own pseudo data sources: annotations, mixed and dashboard panels.
BUILTIN_DATASOURCES = {"-- Grafana --", "grafana", "-- Mixed --", "-- Dashboard --"}
# Grafana's global variables, as a panel over the last hour would see them
# (longest names first, so $__interval_ms is not read as $__interval + "_ms").
GLOBAL_VARIABLES = {
    "__rate_interval_ms": "60000",
    "__rate_interval": "1m",
    "__interval_ms": "15000",
    "__interval": "15s",
    "__range_ms": "3600000",
    "__range_s": "3600",
    "__range": "1h",
}
ALL_VALUE = ".*"
# $name, ${name}, ${name:format}, [[name]], [[name:format]]
VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")
# label="value" and friends, inside a selector.
MATCHER = re.compile(r"\b(\w+)\s*(=~|!~|!=|=)\s*\"((?:[^\"\\]|\\.)*)\"")
METRIC = re.compile(r"\b(?:snowflake|process)_[a-z0-9_]+\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
LABEL_VALUES = re.compile(r"^\s*label_values\s*\(\s*(?:(.*?)\s*,\s*)?(\w+)\s*\)\s*$", re.S)
DEFAULT_METRICS_MD = Path(__file__).resolve().parent.parent.parent / "docs/metrics.md"


# --- reading ------------------------------------------------------------------

def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def all_panels(dashboard):
    """Every panel, rows and the panels nested in (collapsed) rows included,
    in order."""
    for panel in dashboard.get("panels") or []:
        yield panel
        for child in panel.get("panels") or []:
            yield child


def describe(panel):
    return f'panel {panel.get("id")} "{panel.get("title") or "(untitled)"}"'


def one_line(text):
    return " ".join(str(text).split())


def variables(dashboard):
    return {v.get("name"): v for v in (dashboard.get("templating") or {}).get("list") or []
            if isinstance(v, dict) and v.get("name")}


def variable_names(text):
    return [next(g for g in m.groups() if g) for m in VARIABLE.finditer(text)]


def datasource_uid(value):
    if isinstance(value, dict):
        return value.get("uid")
    return value


# --- structure ----------------------------------------------------------------

def check_structure(path, metrics_md=DEFAULT_METRICS_MD):
    """Failures of the dashboard JSON at `path` (empty list: fine). metrics_md:
    the metrics reference whose names exprs may use (None skips that check)."""
    try:
        dashboard = load(path)
    except (OSError, ValueError) as error:
        return [f"{path}: cannot read the dashboard: {error}"]
    failures = []
    if not isinstance(dashboard, dict) or not dashboard.get("panels"):
        return [f"{path}: no panels"]
    known = variables(dashboard)
    inputs = {i.get("name") for i in dashboard.get("__inputs") or [] if isinstance(i, dict)}

    source = known.get(DATASOURCE_VARIABLE)
    if not source or source.get("type") != "datasource" or source.get("query") != "prometheus":
        failures.append(f"templating: no variable `{DATASOURCE_VARIABLE}` of type datasource "
                        f"with query prometheus")
    check_datasource_refs(dashboard, "", known, inputs, failures)

    documented = None
    if metrics_md is not None:
        with open(metrics_md, encoding="utf-8") as f:
            documented = set(re.findall(r"`((?:snowflake|process)_[a-z0-9_]+)`", f.read()))

    ids = {}
    for panel in all_panels(dashboard):
        panel_id = panel.get("id")
        if not isinstance(panel_id, int) or isinstance(panel_id, bool):
            failures.append(f"{describe(panel)}: id {panel_id!r} is not an integer")
        else:
            ids.setdefault(panel_id, []).append(panel)
        check_grid_pos(panel, failures)
        if panel.get("type") == "row":
            if not str(panel.get("title") or "").strip():
                failures.append(f"{describe(panel)}: row without a title")
            if panel.get("panels") and not panel.get("collapsed"):
                failures.append(f"{describe(panel)}: expanded row holds panels "
                                f"(Grafana keeps those of an expanded row after it)")
            continue
        check_panel(panel, known, documented, failures)
    for panel_id, panels in sorted(ids.items()):
        if len(panels) > 1:
            titles = ", ".join(f'"{p.get("title")}"' for p in panels)
            failures.append(f"panel id {panel_id} is used {len(panels)} times: {titles}")

    check_overlaps(dashboard.get("panels") or [], "the dashboard", failures)
    for row in dashboard.get("panels") or []:
        if row.get("type") == "row" and row.get("panels"):
            check_overlaps(row["panels"], f'row "{row.get("title")}"', failures)
    return failures


def check_datasource_refs(node, where, known, inputs, failures):
    """Every "datasource" anywhere: a variable or a built-in, never a uid."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else key
            if key == "datasource" and value is not None:
                uid = datasource_uid(value)
                if uid is not None and uid not in BUILTIN_DATASOURCES:
                    names = variable_names(str(uid))
                    if not names:
                        failures.append(f"{here}: hard-coded datasource uid {uid!r} (no "
                                        f"__inputs entry); use ${{{DATASOURCE_VARIABLE}}}")
                    for name in names:
                        if name not in known and name not in inputs:
                            failures.append(f"{here}: datasource ${{{name}}} is neither a "
                                            f"variable nor an __inputs entry")
            check_datasource_refs(value, here, known, inputs, failures)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_datasource_refs(value, f"{where}[{i}]", known, inputs, failures)


def check_grid_pos(panel, failures):
    grid = panel.get("gridPos")
    if not isinstance(grid, dict):
        failures.append(f"{describe(panel)}: no gridPos")
        return
    values = {k: grid.get(k) for k in ("x", "y", "w", "h")}
    bad = [k for k, v in values.items() if not isinstance(v, int) or isinstance(v, bool)]
    if bad:
        failures.append(f"{describe(panel)}: gridPos {', '.join(bad)} not set to integers")
        return
    if values["w"] < 1 or values["h"] < 1 or values["x"] < 0 or values["y"] < 0 \
            or values["x"] + values["w"] > GRID_COLUMNS:
        failures.append(f"{describe(panel)}: gridPos {grid} is outside the "
                        f"{GRID_COLUMNS}-column grid")


def check_overlaps(panels, where, failures):
    placed = []
    for panel in panels:
        grid = panel.get("gridPos") or {}
        try:
            box = (int(grid["x"]), int(grid["y"]), int(grid["w"]), int(grid["h"]))
        except (KeyError, TypeError, ValueError):
            continue  # Reported by check_grid_pos.
        for other, (x, y, w, h) in placed:
            if box[0] < x + w and x < box[0] + box[2] and box[1] < y + h and y < box[1] + box[3]:
                failures.append(f"{describe(panel)} overlaps {describe(other)} in {where}: "
                                f"gridPos {grid} and {other.get('gridPos')}")
        placed.append((panel, box))


def check_panel(panel, known, documented, failures):
    name = describe(panel)
    for key in ("title", "description"):
        if not str(panel.get(key) or "").strip():
            failures.append(f"{name}: no {key}")
    if datasource_uid(panel.get("datasource")) not in DATASOURCE_REFS:
        failures.append(f"{name}: datasource is {panel.get('datasource')!r}, "
                        f"want ${{{DATASOURCE_VARIABLE}}}")
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    if not str(defaults.get("unit") or "").strip():
        failures.append(f"{name}: no unit (fieldConfig.defaults.unit)")
    check_thresholds(name, defaults.get("thresholds"), failures)

    targets = panel.get("targets") or []
    if not targets:
        failures.append(f"{name}: no target")
    for target in targets:
        ref = target.get("refId", "?")
        expr = str(target.get("expr") or "")
        if not expr.strip():
            failures.append(f"{name} target {ref}: no expr")
            continue
        if "datasource" in target and \
                datasource_uid(target["datasource"]) not in DATASOURCE_REFS:
            failures.append(f"{name} target {ref}: datasource is {target['datasource']!r}, "
                            f"want ${{{DATASOURCE_VARIABLE}}}")
        for var in variable_names(expr):
            if var not in known and var not in GLOBAL_VARIABLES:
                failures.append(f"{name} target {ref}: unknown variable ${var} in "
                                f"`{one_line(expr)}`")
        for label, op, value in MATCHER.findall(expr):
            for var in variable_names(value):
                v = known.get(var) or {}
                if (v.get("multi") or v.get("includeAll")) and op in ("=", "!="):
                    failures.append(f"{name} target {ref}: multi-value variable ${var} "
                                    f"matched with {op} (use =~ or !~): {label}{op}\"{value}\"")
        if documented is not None:
            for metric in sorted(set(METRIC.findall(expr))):
                base = metric
                for suffix in HISTOGRAM_SUFFIXES:
                    if metric.endswith(suffix) and metric[: -len(suffix)] in documented:
                        base = metric[: -len(suffix)]
                if base not in documented:
                    failures.append(f"{name} target {ref}: metric {metric} is not in "
                                    f"docs/metrics.md")


def check_thresholds(name, thresholds, failures):
    if thresholds is None:
        return
    steps = thresholds.get("steps") if isinstance(thresholds, dict) else None
    if not isinstance(steps, list) or not steps:
        failures.append(f"{name}: thresholds without steps")
        return
    if steps[0].get("value") is not None:
        failures.append(f"{name}: the first threshold step (the base) must have value null")
    values = [s.get("value") for s in steps[1:]]
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in values) \
            or values != sorted(values):
        failures.append(f"{name}: threshold values {values} are not ascending numbers")


# --- queries ------------------------------------------------------------------

def substitute(expr, known):
    """expr with the variables filled in as with "All" selected, and the names
    of the variables it could not fill."""
    unknown = []

    def fill(match):
        name = next(g for g in match.groups() if g)
        if name in GLOBAL_VARIABLES:
            return GLOBAL_VARIABLES[name]
        if name in known and known[name].get("type") != "datasource":
            return ALL_VALUE
        unknown.append(name)
        return match.group(0)

    return VARIABLE.sub(fill, expr), unknown


def query(prometheus_url, expr, timeout):
    """(series, error): the label sets of the samples expr returns now (one
    empty dict for a scalar), or why not. Raises OSError when Prometheus does
    not answer at all."""
    url = prometheus_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read())
        except ValueError:
            return [], f"HTTP {error.code}"
    except ValueError as error:
        return [], f"unreadable answer: {error}"
    if body.get("status") != "success":
        return [], f"{body.get('errorType', 'error')}: {body.get('error', body)}"
    data = body.get("data") or {}
    if data.get("resultType") in ("scalar", "string"):
        return [{}], None
    return [r.get("metric") or {} for r in data.get("result") or []], None


def check_queries(path, prometheus_url, timeout=10.0):
    """Runs every panel's every expr (and every label_values() variable query)
    against the Prometheus at prometheus_url; returns the failures, one line
    each: panel id and title, target, expr and why (parse error, no data, a
    label the legend names missing from the result). A Prometheus that does
    not answer is one failure."""
    try:
        dashboard = load(path)
    except (OSError, ValueError) as error:
        return [f"{path}: cannot read the dashboard: {error}"]
    known = variables(dashboard)
    jobs = []  # (who, expr, legend)
    for name, v in known.items():
        if v.get("type") != "query":
            continue
        text = v.get("query")
        if isinstance(text, dict):
            text = text.get("query")
        m = LABEL_VALUES.match(str(text or ""))
        if m:
            selector, label = m.group(1), m.group(2)
            jobs.append((f"variable {name}", f"count by ({label}) ({selector})"
                         if selector else f"count by ({label}) ({{{label}!=\"\"}})",
                         "{{%s}}" % label))
        elif text:
            jobs.append((f"variable {name}", str(text), ""))
    for panel in all_panels(dashboard):
        if panel.get("type") == "row":
            continue
        for target in panel.get("targets") or []:
            if str(target.get("expr") or "").strip():
                jobs.append((f"{describe(panel)} target {target.get('refId', '?')}",
                             target["expr"], str(target.get("legendFormat") or "")))

    failures = []
    for who, expr, legend in jobs:
        filled, unknown = substitute(expr, known)
        shown = one_line(expr)
        if unknown:
            failures.append(f"{who}: `{shown}`: unknown variable(s) "
                            f"{', '.join('$' + u for u in unknown)}")
            continue
        try:
            series, error = query(prometheus_url, filled, timeout)
        except OSError as error:
            return failures + [f"cannot query Prometheus at {prometheus_url}: {error}"]
        if error:
            failures.append(f"{who}: `{shown}`: {one_line(error)}")
        elif not series:
            failures.append(f"{who}: `{shown}`: no data (empty result)")
        else:
            wanted = re.findall(r"\{\{\s*(\w+)\s*\}\}", legend)
            missing = sorted({label for label in wanted for metric in series
                              if not metric.get(label)})
            if missing:
                failures.append(f"{who}: `{shown}`: legend {legend!r} names label(s) "
                                f"{', '.join(missing)} that the result lacks")
    return failures


# --- command line -------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Exit status 1 if any check failed, each failure on its own line (stderr).")
    parser.add_argument("dashboard", help="the dashboard JSON, e.g. deploy/grafana/snowflake.json")
    parser.add_argument("--prometheus", metavar="URL",
                        help="also run every query against this Prometheus")
    parser.add_argument("--metrics", default=str(DEFAULT_METRICS_MD),
                        help="the metrics reference exprs may use (default: %(default)s)")
    args = parser.parse_args(argv)

    failures = check_structure(args.dashboard, metrics_md=args.metrics)
    checked = "structure"
    if args.prometheus:
        failures += check_queries(args.dashboard, args.prometheus)
        checked += f", queries against {args.prometheus}"
    for failure in failures:
        print(f"check_dashboard: {failure}", file=sys.stderr)
    if failures:
        print(f"check_dashboard: FAILED, {len(failures)} problem(s)", file=sys.stderr)
        return 1
    panels = sum(1 for p in all_panels(load(args.dashboard)) if p.get("type") != "row")
    print(f"check_dashboard: ok, {args.dashboard}: {panels} panels ({checked})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
