#!/usr/bin/env bash
# Whole-process generation time, side by side in one run on one machine: `chanx-gen generate DOC -o DIR`
# (release build) against Modelina's Rust generator, `modelina generate rust DOC -o DIR`
# (@asyncapi/modelina-cli 5.10.1), on the same documents:
#   - small: the ~9 KB Gemini WebSocket example of the AsyncAPI spec (corpus);
#   - large: the ~94 KB Deepgram document (corpus);
#   - huge:  a ~1 MB document, specs/chat.yaml's API cloned under renamed keys (the one the frontend
#            benchmark times; written by `cargo bench --bench frontend -- --write-huge PATH`).
# Every run writes into a new, empty folder, so both tools create every file each time; the folders
# are removed when the script ends, not between runs: on a file system that keeps freed inodes
# aside for a while (ext4 without a journal, as on the benchmark machine), each file created after
# a removal first steps over the inodes just freed, and removing Modelina's 1,452 files before the
# next run cost chanx-gen 22-26 ms of its ~124 ms at 1 MB in creating its 38 (strace -T). One
# warm-up run of each, then RUNS (default 5) timed runs of each, alternating (chanx-gen, Modelina,
# chanx-gen, ...): this machine's speed drifts by a third within a minute, and a CPU-heavy Modelina
# run slows whatever runs right after it, so neither tool gets the quieter moments. Prints a
# markdown table (mean and min…max wall time, the exit code of the warm-up run, output files and
# bytes, how many times faster chanx-gen is, by the means and by the medians).
#
# Note what is compared: Modelina writes data models only (one file per schema); chanx-gen writes
# the types plus per-channel message enums, consumer traits, dispatchers, layer clients, the
# schemas' validation tables and contract tests.
#
# Usage: benches/compare-generate.sh [DOC...]
#   Without DOCs: the three above (without a corpus, specs/chat.yaml and the huge one). The corpus is
#   $CHANX_CORPUS, else ../shared/corpus when it exists. Modelina is installed into target/peers/
#   with npm on first use; without node/npm its column stays empty. PEER_TIMEOUT (default 900 s)
#   bounds each Modelina run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
runs=${RUNS:-5}
peer_timeout=${PEER_TIMEOUT:-900}
corpus=${CHANX_CORPUS:-$root/../shared/corpus}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

huge=$root/target/compare-generate/huge-chat.json
docs=("$@")
if [[ ${#docs[@]} -eq 0 ]]; then
  if [[ -d $corpus ]]; then
    docs+=(
      "$corpus/spec-examples/v3.0.0/websocket-gemini-asyncapi.yml"
      "$corpus/wild/ws/deepgram-2026-01/asyncapi.yml"
    )
  else
    echo "note: no corpus at $corpus; timing specs/chat.yaml instead" >&2
    docs+=("$root/specs/chat.yaml")
  fi
  echo "writing the huge document (cargo bench --bench frontend -- --write-huge)..." >&2
  mkdir -p "$(dirname "$huge")"
  cargo bench --locked --quiet --bench frontend -- --write-huge "$huge" >&2
  docs+=("$huge")
fi

echo "building chanx-gen (release)..." >&2
cargo build --release --locked --quiet --bin chanx-gen
chanx=$root/target/release/chanx-gen

peer_dir=$root/target/peers
modelina=$peer_dir/node_modules/.bin/modelina
if command -v node >/dev/null && command -v npm >/dev/null; then
  if ! npm ls --prefix "$peer_dir" @asyncapi/modelina-cli@5.10.1 >/dev/null 2>&1; then
    echo "installing @asyncapi/modelina-cli@5.10.1 into target/peers/ (once)..." >&2
    mkdir -p "$peer_dir"
    npm install --prefix "$peer_dir" --no-audit --no-fund --loglevel=error \
      @asyncapi/modelina-cli@5.10.1 >&2
  fi
  peer_version=$("$modelina" --version 2>/dev/null | head -1 || true)
else
  echo "note: node/npm not found; the Modelina column stays empty" >&2
  modelina=
fi

# warm_up OUT CMD...: one run of CMD, which writes into OUT (a new folder); prints "EXIT FILES
# BYTES" (its exit code, and the file and byte count of its output).
warm_up() {
  local out=$1
  shift
  local exit_code=0
  "$@" >"$scratch/warm-up.log" 2>&1 || exit_code=$?
  echo "$exit_code $(find "$out" -type f 2>/dev/null | wc -l) $(find "$out" -type f -exec cat {} + 2>/dev/null | wc -c)"
}

# timed CMD...: one run of CMD; prints its wall time in nanoseconds.
timed() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s%N)
  echo $((end - start))
}

# summary: nanoseconds on stdin, one per line; prints "MEAN MIN MAX MEDIAN" in seconds.
summary() {
  sort -n | awk '{ s += $1; v[NR] = $1 }
    END {
      median = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%.6f %.6f %.6f %.6f\n", s / NR / 1e9, v[1] / 1e9, v[NR] / 1e9, median / 1e9
    }'
}

# cell MEAN MIN MAX: "1.234 s (1.100…1.300)", or milliseconds under a second.
cell() {
  awk -v mean="$1" -v min="$2" -v max="$3" 'BEGIN {
    if (mean < 1) printf "%.1f ms (%.1f…%.1f)", mean * 1e3, min * 1e3, max * 1e3
    else printf "%.2f s (%.2f…%.2f)", mean, min, max }'
}

kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1e3 }'; }

echo
echo "Whole-process wall time, $runs runs of each after 1 warm-up, alternating (bash loop, date +%s%N),"
echo "each run into a new output folder; $(nproc) cores; Modelina: ${peer_version:-not installed}."
echo
echo "| document | size | \`chanx-gen generate\` | exit | output | \`modelina generate rust\` | exit | output | chanx-gen faster by |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for doc in "${docs[@]}"; do
  name=${doc#"$corpus/"}
  name=${name#"$root/"}
  size=$(kb "$(wc -c <"$doc")")
  # The output folder of run $i of document $d: run 0 is the warm-up.
  d=$((${d:-0} + 1))
  chanx_run() { "$chanx" generate "$doc" -o "$scratch/chanx-$d-$1"; }
  peer_run() { timeout "$peer_timeout" "$modelina" generate rust "$doc" -o "$scratch/peer-$d-$1"; }
  read -r c_exit c_files c_bytes < <(warm_up "$scratch/chanx-$d-0" chanx_run 0)
  if [[ -n $modelina ]]; then
    read -r p_exit p_files p_bytes < <(warm_up "$scratch/peer-$d-0" peer_run 0)
  fi
  : >"$scratch/chanx.ns"
  : >"$scratch/peer.ns"
  for ((i = 1; i <= runs; i++)); do
    timed chanx_run "$i" >>"$scratch/chanx.ns"
    if [[ -n $modelina ]]; then
      timed peer_run "$i" >>"$scratch/peer.ns"
    fi
  done
  read -r c_mean c_min c_max c_median < <(summary <"$scratch/chanx.ns")
  if [[ -n $modelina ]]; then
    read -r p_mean p_min p_max p_median < <(summary <"$scratch/peer.ns")
    peer=$(cell "$p_mean" "$p_min" "$p_max")
    peer_out="$p_files files, $(kb "$p_bytes")"
    ratio=$(awk -v p="$p_mean" -v c="$c_mean" -v pm="$p_median" -v cm="$c_median" \
      'BEGIN { printf "%.0f× (medians: %.0f×)", p / c, pm / cm }')
  else
    peer="" p_exit="" peer_out="" ratio=""
  fi
  echo "| $name | $size | $(cell "$c_mean" "$c_min" "$c_max") | $c_exit | $c_files files, $(kb "$c_bytes") | $peer | $p_exit | $peer_out | $ratio |"
done
