#!/usr/bin/env bash
# Creates (once) the Python virtual environment the interop tests and benchmarks run against, with
# pinned versions of the real peers: Chanx 2.13.0 (FastAPI and Django Channels flavours),
# channels 4.3 and channels-redis 4.3.0, uvicorn and websockets. Prints the interpreter's path.
#
#   scripts/python-env.sh            # -> target/py-venv/bin/python
#
# Tests find the interpreter through $CHANX_PYTHON (set by .ci/run and scripts/test.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=${CHANX_VENV:-$PWD/target/py-venv}
stamp=$venv/.chanx-gen-requirements
requirements=scripts/python-requirements.txt

if [[ ! -x $venv/bin/python ]] || ! cmp -s "$requirements" "$stamp"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
echo "$venv/bin/python"
