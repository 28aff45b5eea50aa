#!/usr/bin/env bash
# The Chanx app of tests/parity/ (uvicorn, in-memory layer) and its Rust twin (chanx-example-parity,
# release build) measured side by side on 127.0.0.1 in one run: round trips, broadcast fan-out to
# 1,000 connections, memory per idle connection. Prints a Markdown table.
#
#   benches/compare-servers.sh            # CHANX_PYTHON from the environment, else scripts/python-env.sh
#
# Without a Python environment only the Rust column is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${CHANX_PYTHON:-} ]] && command -v python3 >/dev/null; then
  CHANX_PYTHON=$(scripts/python-env.sh)
  export CHANX_PYTHON
fi
exec timeout 1200 cargo bench -p chanx-example-parity --bench servers
