#!/usr/bin/env bash
# `npm test`: installs what is missing, then runs the native tests, builds the Worker and runs
# every end-to-end test against the built artifact on Miniflare.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export PATH="$HOME/.cargo/bin:$PATH"

echo "== native tests (cargo test)"
cargo test --quiet
echo "== wasm build"
bash scripts/build.sh
echo "== end-to-end tests (Miniflare, node --test)"
node --version
node --test --test-concurrency=2 tests/e2e/*.test.mjs
echo "== crash test (quick)"
node chaos/run.mjs --quick
echo "== SDK compatibility (Python spooled)"
bash tests/compat/run.sh
echo "== API fuzzing (schemathesis)"
bash tests/fuzz/run.sh
