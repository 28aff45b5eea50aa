#!/usr/bin/env bash
# The project's test command: formatting, lints (warnings are errors), the docs (broken links are
# errors), then every test of the workspace. Run it from anywhere: `scripts/test.sh`.
#
# Tests that need the corpus of real AsyncAPI documents find it through $CHANX_CORPUS (.ci/run sets
# it); the interop tests find the Python peers through $CHANX_PYTHON, which this script sets up with
# scripts/python-env.sh when it is unset. Tests whose corpus or service is missing say they are
# skipped, and fail under CI (where CI is set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "CHANX_CORPUS=${CHANX_CORPUS:-(unset: corpus tests are skipped)}"
if [[ -z ${CHANX_PYTHON:-} ]] && command -v python3 >/dev/null; then
  CHANX_PYTHON=$(scripts/python-env.sh)
  export CHANX_PYTHON
fi
echo "CHANX_PYTHON=${CHANX_PYTHON:-(unset: interop tests are skipped)}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo doc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

echo "== cargo test"
cargo test --workspace --locked
