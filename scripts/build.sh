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
case "${1-}" in
  "") ;;
  --bench) args+=(--out-dir build-bench --features bench --target-dir target/bench) ;;
  *) echo "usage: scripts/build.sh [--bench]" >&2; exit 2 ;;
esac
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" \
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt" \
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild" \
  worker-build "${args[@]}"
