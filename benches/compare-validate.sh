#!/usr/bin/env bash
# Whole-process comparison, in one run on one machine: `chanx-gen inspect DOC` (release build)
# against the Node AsyncAPI CLI's `asyncapi validate DOC` (@asyncapi/cli 6.2.0), on the same documents.
# Prints a markdown table (mean and min…max wall time over RUNS runs after one warm-up run, the exit
# code of each tool, and how many times faster chanx-gen is).
#
# Usage: benches/compare-validate.sh [DOC...]
#   Without DOCs: the Gemini (9 KB), Slack client (22 KB) and Deepgram (94 KB) documents of the shared
#   corpus ($CHANX_CORPUS, else ../shared/corpus when it exists), then specs/chat.yaml.
#   RUNS (default 5) sets the number of timed runs. Uses hyperfine when installed, else a bash loop.
#   The peer is installed into target/peers/ with npm on first use; without node/npm its column is
#   left empty.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
runs=${RUNS:-5}
corpus=${CHANX_CORPUS:-$root/../shared/corpus}

docs=("$@")
if [[ ${#docs[@]} -eq 0 ]]; then
  if [[ -d $corpus ]]; then
    docs+=(
      "$corpus/spec-examples/v3.0.0/websocket-gemini-asyncapi.yml"
      "$corpus/wild/ws/generator-websocket-fixtures/asyncapi-slack-client.yml"
      "$corpus/wild/ws/deepgram-2026-01/asyncapi.yml"
    )
  else
    echo "note: no corpus at $corpus; timing the project's specs only" >&2
  fi
  docs+=("$root/specs/chat.yaml")
fi

echo "building chanx-gen (release)..." >&2
cargo build --release --locked --quiet --bin chanx-gen
chanx=$root/target/release/chanx-gen

peer_dir=$root/target/peers
asyncapi=$peer_dir/node_modules/.bin/asyncapi
if command -v node >/dev/null && command -v npm >/dev/null; then
  if ! npm ls --prefix "$peer_dir" @asyncapi/cli@6.2.0 >/dev/null 2>&1; then
    echo "installing @asyncapi/cli@6.2.0 into target/peers/ (once)..." >&2
    mkdir -p "$peer_dir"
    npm install --prefix "$peer_dir" --no-audit --no-fund --loglevel=error @asyncapi/cli@6.2.0 >&2
  fi
  # The CLI's analytics off, and its first-run notice shown already.
  printf '{"analyticsEnabled":"false","infoMessageShown":"true"}\n' >"$peer_dir/metrics.json"
  export ASYNCAPI_METRICS_CONFIG_PATH=$peer_dir/metrics.json
else
  echo "note: node/npm not found; the asyncapi column stays empty" >&2
  asyncapi=
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# measure CMD...: one warm-up run, then $runs timed runs; prints "MEAN MIN MAX EXIT" (seconds; the
# exit code of the warm-up run).
measure() {
  local exit_code=0
  "$@" >/dev/null 2>&1 || exit_code=$?
  if command -v hyperfine >/dev/null; then
    local command
    command=$(printf '%q ' "$@")
    hyperfine -N --runs "$runs" --ignore-failure --style none --export-json "$scratch/h.json" \
      "$command" >/dev/null 2>&1
    local stat mean min max
    stat() { grep -o "\"$1\": *[0-9.e+-]*" "$scratch/h.json" | head -1 | sed 's/.*: *//'; }
    mean=$(stat mean) min=$(stat min) max=$(stat max)
    echo "$mean $min $max $exit_code"
  else
    local i start end
    for ((i = 0; i < runs; i++)); do
      start=$(date +%s%N)
      "$@" >/dev/null 2>&1 || true
      end=$(date +%s%N)
      echo $((end - start))
    done | awk -v code="$exit_code" '
      { s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
      END { printf "%.6f %.6f %.6f %s\n", s / NR / 1e9, lo / 1e9, hi / 1e9, code }'
  fi
}

# cell MEAN MIN MAX: "1.234 s (1.100…1.300)", or milliseconds under a second.
cell() {
  awk -v mean="$1" -v min="$2" -v max="$3" 'BEGIN {
    if (mean < 1) printf "%.1f ms (%.1f…%.1f)", mean * 1e3, min * 1e3, max * 1e3
    else printf "%.2f s (%.2f…%.2f)", mean, min, max }'
}

timer=$(command -v hyperfine >/dev/null && echo "hyperfine -N" || echo "bash loop, date +%s%N")
echo
echo "Whole-process wall time, $runs runs after 1 warm-up ($timer), $(nproc) cores."
echo
echo "| document | size | \`chanx-gen inspect\` | exit | \`asyncapi validate\` (CLI 6.2.0) | exit | chanx-gen faster by |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for doc in "${docs[@]}"; do
  name=${doc#"$corpus/"}
  name=${name#"$root/"}
  size=$(awk -v b="$(wc -c <"$doc")" 'BEGIN { printf "%.1f KB", b / 1e3 }')
  read -r c_mean c_min c_max c_exit < <(measure "$chanx" inspect "$doc")
  if [[ -n $asyncapi ]]; then
    read -r p_mean p_min p_max p_exit < <(measure "$asyncapi" validate "$doc")
    peer=$(cell "$p_mean" "$p_min" "$p_max")
    ratio=$(awk -v p="$p_mean" -v c="$c_mean" 'BEGIN { printf "%.0f×", p / c }')
  else
    peer="" p_exit="" ratio=""
  fi
  echo "| $name | $size | $(cell "$c_mean" "$c_min" "$c_max") | $c_exit | $peer | $p_exit | $ratio |"
done
