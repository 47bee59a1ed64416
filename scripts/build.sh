#!/usr/bin/env bash
# Builds the Worker (build/index.js + wasm) with locally installed tools only: worker-build
# would otherwise try to download wasm-bindgen and wasm-opt, which are unreachable offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" \
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt" \
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild" \
  worker-build --release
