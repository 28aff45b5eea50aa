#!/usr/bin/env bash
# The project's test command: formatting, lints (warnings are errors), then every test of the
# workspace. Run it from anywhere: `scripts/test.sh`.
#
# Tests that need the shared corpus of real AsyncAPI documents find it through $CHANX_CORPUS; when
# that is unset and ../shared/corpus exists beside the repository, it is used. Without a corpus those
# tests say they are skipped (and fail under CI, where CI is set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z ${CHANX_CORPUS:-} && -d ../shared/corpus ]]; then
  CHANX_CORPUS=$(cd ../shared/corpus && pwd)
  export CHANX_CORPUS
fi
echo "CHANX_CORPUS=${CHANX_CORPUS:-(unset: corpus tests are skipped)}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
