#!/usr/bin/env bash
# Installs everything building, serving and testing need, skipping what is already present:
# the wasm target, worker-build, wasm-bindgen-cli and the npm packages (Node 22 included).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if [ "$(worker-build --version 2>/dev/null)" != "0.8.7" ]; then
  cargo install worker-build --version 0.8.7 --locked
fi
# Must equal the wasm-bindgen version pinned in Cargo.toml. Not --locked: its lockfile pins a
# crate version the registry does not serve.
if ! wasm-bindgen --version 2>/dev/null | grep -q ' 0\.2\.130$'; then
  cargo install wasm-bindgen-cli --version 0.2.130
fi
if [ ! -x node_modules/.bin/wrangler ] || [ ! -x node_modules/.bin/node ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
fi
