#!/usr/bin/env bash
# Installs everything building, serving and testing need, skipping what is already present:
# the wasm target, worker-build, wasm-bindgen-cli and the npm packages (Node.js included, for
# Linux and macOS on x64 and arm64), then checks a Node.js that wrangler accepts is at hand.
set -euo pipefail
source "$(dirname "$0")/env.sh"

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
# npm's own record of the last install is older than the lock when the lock changed.
if [ ! -x node_modules/.bin/wrangler ] || [ ! -f node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
use_node
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
fi
