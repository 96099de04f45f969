#!/usr/bin/env bash
# bench/lib/check_report.sh REPORT VALUES: fails if REPORT, a report written
# by bench/run, states a figure or a verdict that its run did not produce.
#
# VALUES is the file in which the report's writer recorded, one a line,
# every value it computed from the run: formatted figures, whole verdict
# cells and sentences, the machine's record, the versions and commands of
# the run, its parameters (bench/run keeps it in its work folder as
# report.values). Each value is struck from the report wherever it stands
# as a whole token, longest first; what remains is fixed prose, and fixed
# prose may hold no number and no verdict word (met, missed, faster, ...).
# The only numbers fixed prose may hold are names, listed in `names` below
# (HTTP/1.1, p99.9, 127.0.0.1, NextIds(1), section numbers, status 200).
# Prints each offending line and exits 1; exits 0 when every line passes.
set -euo pipefail

if (($# != 2)) || [[ ! -f $1 || ! -f $2 ]]; then
  echo "usage: bench/lib/check_report.sh REPORT VALUES" >&2
  exit 2
fi

# The values, each once, longest first: "1.00x" is struck before "1", and
# a whole cell before its parts.
sorted_values() {
  awk 'NF && !seen[$0]++ {print length($0) "\t" $0}' "$1" |
    sort -t$'\t' -k1,1nr | cut -f2-
}

awk -v report="$1" '
  FILENAME == ARGV[1] { value[++n] = $0; next }
  BEGIN {
    verdict = "^(met|meet|meets|missed|miss|misses|faster|slower|quicker|better|worse|beats|beat|exceeds|exceeded|outperforms|reaches|reached|fails|failed|holds|held)$"
  }
  function word(c) { return c ~ /[A-Za-z0-9_]/ }
  function digit(c) { return c ~ /[0-9]/ }
  # strike(s, v): s with every whole-token occurrence of v replaced by a
  # mark: no word character may touch it, nor a "." or "," that continues
  # a number ("1.5" holds no "5", "105,290" no "290").
  function strike(s, v,   out, i, len, pre, ok, a, b) {
    out = ""
    len = length(v)
    while ((i = index(s, v)) > 0) {
      pre = out substr(s, 1, i - 1)
      a = substr(pre, length(pre), 1)
      b = substr(s, i + len, 1)
      ok = 1
      if (word(substr(v, 1, 1)) && (word(a) || (a ~ /[.,]/ && digit(substr(pre, length(pre) - 1, 1))))) ok = 0
      if (word(substr(v, len, 1)) && (word(b) || (b ~ /[.,]/ && digit(substr(s, i + len + 1, 1))))) ok = 0
      if (ok) {
        out = pre "\001"
        s = substr(s, i + len)
      } else {
        out = pre substr(s, i, 1)
        s = substr(s, i + 1)
      }
    }
    return out s
  }
  # names(s): s without the numbers that are names, not figures (runs after
  # the strikes, so a number in a name may already be a mark).
  function names(s,   n) {
    n = "([0-9]+|\001)"
    gsub(/HTTP\/1\.1|127\.0\.0\.1|p99\.9|2xx|NextIds\(1\)/, "\001", s)
    gsub("^#+ " n "\\. ", "\001", s)                    # section headings
    gsub("^\\| " n " \\|", "|\001|", s)                  # the headline table: section
    gsub("[Ss]ections? " n "((, | and )" n ")*", "\001", s)
    gsub("(`/readyz` |first |`return )" n, "\001", s)  # status 200
    # Words that hold digits (p50, u64s, base62, BM_NextBatch4096) are names.
    gsub(/[A-Za-z_][A-Za-z0-9_]*/, "a", s)
    return s
  }
  {
    line = $0
    for (k = 1; k <= n; k++) {
      if (value[k] != "" && index(line, value[k])) line = strike(line, value[k])
    }
    rest = names(line)
    bad = ""
    if (match(rest, /[0-9]+/)) bad = "figure"
    # A verdict word left in the prose (after the struck values); words
    # joined by underscores are identifiers (buffer_misses), not verdicts.
    low = tolower(line)
    gsub(/[a-z0-9]+(_[a-z0-9]+)+/, "", low)
    m = split(low, w, /[^a-z]+/)
    for (j = 1; j <= m; j++) if (w[j] ~ verdict) { bad = bad (bad ? ", " : "") "verdict \"" w[j] "\"" }
    if (bad != "") {
      printf "%s:%d: %s not produced by this run: %s\n", report, FNR, bad, $0
      failed = 1
    }
  }
  END { exit failed }
' <(sorted_values "$2") "$1" >&2 || {
  echo "check_report: $1 states what its run did not produce (see above)" >&2
  exit 1
}
