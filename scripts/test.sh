#!/usr/bin/env bash
# `npm test`: installs what is missing, then checks formatting and lints, runs the native tests,
# builds the production Worker and the bench build (checking that production has no bench code)
# and runs every end-to-end test against the built artifacts on Miniflare.
set -euo pipefail
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"

echo "== formatting and lints (cargo fmt, cargo clippy)"
cargo fmt --check
# Natively with every target (tests included) and the OpenAPI generator, and the Worker library
# for wasm with the bench code compiled in: between them every line is linted.
cargo clippy --quiet --all-targets --features openapi -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --lib --features bench -- -D warnings
echo "== native tests (cargo test)"
cargo test --quiet
echo "== the OpenAPI document is the generated one (UPDATE_OPENAPI=1 rewrites it)"
cargo test --quiet --features openapi --lib api::openapi
echo "== wasm builds: production (build/) and bench (build-bench/); no bench code in production"
node --version
node scripts/check-bundle.mjs
echo "== end-to-end tests (Miniflare, node --test)"
node --test --test-concurrency=2 tests/e2e/*.test.mjs
echo "== crash test (quick)"
node chaos/run.mjs --quick
echo "== SDK compatibility (Python spooled)"
bash tests/compat/run.sh
echo "== API fuzzing (schemathesis)"
bash tests/fuzz/run.sh
