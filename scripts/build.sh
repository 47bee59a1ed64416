#!/usr/bin/env bash
# Builds the Worker with locally installed tools only: worker-build would otherwise try to
# download wasm-bindgen and wasm-opt, which are unreachable offline.
#
#   scripts/build.sh          the production Worker: build/index.js + wasm (no bench code)
#   scripts/build.sh --bench  the bench build: build-bench/, with the cargo feature `bench`
#                             (ceiling routes, BenchActor, FAULT_ALARM), for wrangler's `bench`
#                             environment, the bench and the fault tests
#
# The bench build has a cargo target directory of its own, so switching between the two does
# not recompile the crate each time.
set -euo pipefail
source "$(dirname "$0")/env.sh"
args=(--release)
strip_names=true
case "${1-}" in
  "") ;;
  --bench) strip_names=false; args+=(--out-dir build-bench --features bench --target-dir target/bench) ;;
  *) echo "usage: scripts/build.sh [--bench]" >&2; exit 2 ;;
esac
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" \
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt" \
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild" \
  worker-build "${args[@]}"
# The production Worker drops the wasm's name section (about 34 KB of its gzipped size, a tenth),
# which worker-build always keeps; the bench build keeps it so CPU profiles show Rust names.
# Without an optimisation flag wasm-opt only strips: the code is what worker-build's -O made.
if [ "$strip_names" = true ]; then
  node_modules/.bin/wasm-opt --strip-debug --strip-producers \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
    --enable-multivalue --enable-reference-types --enable-exception-handling \
    build/index_bg.wasm -o build/index_bg.wasm
fi
