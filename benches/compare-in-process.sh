#!/usr/bin/env bash
# Frames handled per second in process (no sockets), one thread each: the generated ParityDispatcher
# of chanx-example-parity (release build) and Chanx 2.13's own frame path on the consumer of
# tests/parity/app.py (tests/parity/bench_in_process.py), on the same frame mix, alternating in one
# run after checking that both answer every frame with the same bytes. Prints a Markdown table.
#
#   benches/compare-in-process.sh         # CHANX_PYTHON from the environment, else scripts/python-env.sh
#
# Fails when there is no Python environment with chanx 2.13.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${CHANX_PYTHON:-} ]] && command -v python3 >/dev/null; then
  CHANX_PYTHON=$(scripts/python-env.sh)
  export CHANX_PYTHON
fi
exec timeout 1200 cargo bench -p chanx-example-parity --bench in_process
