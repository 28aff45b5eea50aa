#!/usr/bin/env bash
# The Chanx app of tests/parity/ (uvicorn, in-memory layer) and its Rust twin (chanx-example-parity,
# release build) measured side by side on 127.0.0.1 in one run: round trips, broadcast fan-out to
# 1,000 connections, memory per idle connection. Prints a Markdown table.
#
#   benches/compare-servers.sh            # CHANX_PYTHON from the environment, else scripts/python-env.sh
#   RUNS=9 benches/compare-servers.sh     # nine runs, each table as it comes, then the medians
#
# With RUNS > 1 the last table gives, for every measure and column, the median of the runs and their
# range (a ratio's median is the median of the runs' ratios). Shared machines drift: one run says
# little, the median of several says more. Without a Python environment only the Rust column is
# measured.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${CHANX_PYTHON:-} ]] && command -v python3 >/dev/null; then
  CHANX_PYTHON=$(scripts/python-env.sh)
  export CHANX_PYTHON
fi
runs=${RUNS:-1}
if [[ $runs -le 1 ]]; then
  exec timeout 1200 cargo bench -p chanx-example-parity --bench servers
fi

tables=$(mktemp)
trap 'rm -f "$tables"' EXIT
for ((run = 1; run <= runs; run++)); do
  echo "run $run of $runs" >&2
  timeout 1200 cargo bench --quiet -p chanx-example-parity --bench servers | tee -a "$tables"
  echo
done

echo "Medians of $runs runs (min–max):"
echo
# Rows are "| measure | chanx | rust | ratio |"; a cell is a number with an optional unit after it.
awk -F' *[|] *' '
  function median(list,    values, n, i, j, t) {
    n = split(list, values, " ")
    for (i = 2; i <= n; i++)
      for (j = i; j > 1 && values[j - 1] + 0 > values[j] + 0; j--) {
        t = values[j]; values[j] = values[j - 1]; values[j - 1] = t
      }
    if (n == 0) return ""
    return (n % 2) ? values[(n + 1) / 2] : (values[n / 2] + values[n / 2 + 1]) / 2
  }
  function low(list,    values, n, i, m) {
    n = split(list, values, " "); m = values[1]
    for (i = 2; i <= n; i++) if (values[i] + 0 < m + 0) m = values[i]
    return m
  }
  function high(list,    values, n, i, m) {
    n = split(list, values, " "); m = values[1]
    for (i = 2; i <= n; i++) if (values[i] + 0 > m + 0) m = values[i]
    return m
  }
  function cell(key,    unit) {
    if (!(key in seen)) return ""
    unit = units[key]
    return sprintf("%g%s (%g–%g)", median(seen[key]), unit, low(seen[key]), high(seen[key]))
  }
  /^[|] (measure|---)/ { next }
  /^[|]/ {
    measure = $2
    if (!(measure in order)) { order[measure] = ++rows; names[rows] = measure }
    for (c = 3; c <= 5; c++) {
      if ($c !~ /^[0-9.]+/) continue
      value = $c; sub(/[^0-9.].*$/, "", value)
      unit = $c; sub(/^[0-9.]+/, "", unit)
      key = measure SUBSEP c
      seen[key] = seen[key] " " value
      units[key] = unit
    }
  }
  END {
    print "| measure | Chanx 2.13 (uvicorn) | chanx-runtime | Rust vs Chanx |"
    print "| --- | ---: | ---: | ---: |"
    for (r = 1; r <= rows; r++) {
      m = names[r]
      printf "| %s | %s | %s | %s |\n", m, cell(m SUBSEP 3), cell(m SUBSEP 4), cell(m SUBSEP 5)
    }
  }
' "$tables"
