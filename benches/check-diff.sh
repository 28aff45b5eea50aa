#!/usr/bin/env bash
# Whole-process timings of `chanx-gen check` and `chanx-gen diff` (release build), N runs each; prints
# a table of min / median / max in milliseconds. The target is under 100 ms for each.
#
#   benches/check-diff.sh [RUNS]        (default 20; CHANX_CORPUS defaults to ../shared/corpus)
#
# - check: the largest generated example (chat: 118 KB of generated Rust, 19 messages), with --src;
# - diff: the two largest real documents of the corpus (Deepgram 93 KB, Springwolf 76 KB), and the
#   Deepgram document against itself (the full model walk, nothing to report).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
CORPUS=${CHANX_CORPUS:-../shared/corpus}
cargo build --release -p chanx-gen --bin chanx-gen >/dev/null 2>&1
BIN=target/release/chanx-gen
DEEPGRAM=$CORPUS/wild/ws/deepgram-2026-01/asyncapi.yml
SPRINGWOLF=$CORPUS/wild/other/springwolf-kafka/asyncapi.json

# Runs "$@" RUNS times; prints min, median and max wall time in ms.
measure() {
    local times=()
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v n="$RUNS" '
        { t[NR] = $1 }
        END { printf "%8.1f %8.1f %8.1f", t[1] / 1000, t[int((n + 1) / 2)] / 1000, t[n] / 1000 }'
}

printf '%-52s %8s %8s %8s\n' "command ($RUNS runs, ms)" min median max
printf '%-52s %s\n' "check chat (generated-examples/chat, --src)" \
    "$(measure "$BIN" check specs/chat.yaml --generated generated-examples/chat/src/api --src generated-examples/chat/src)"
printf '%-52s %s\n' "check chat --format json" \
    "$(measure "$BIN" check specs/chat.yaml --generated generated-examples/chat/src/api --format json)"
if [ -f "$DEEPGRAM" ] && [ -f "$SPRINGWOLF" ]; then
    printf '%-52s %s\n' "diff deepgram (93 KB) springwolf (76 KB)" "$(measure "$BIN" diff "$DEEPGRAM" "$SPRINGWOLF")"
    printf '%-52s %s\n' "diff deepgram deepgram" "$(measure "$BIN" diff "$DEEPGRAM" "$DEEPGRAM")"
else
    echo "diff: corpus not found at $CORPUS (set CHANX_CORPUS)"
fi
