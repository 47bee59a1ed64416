#!/usr/bin/env bash
# `npm run dev [-- wrangler dev flags]`: installs what is missing, then serves the API on
# http://127.0.0.1:8787 (or the --port / --ip given) with storage under .wrangler/state.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
args=("$@")
[[ " ${args[*]-} " == *" --port"* ]] || args+=(--port 8787)
[[ " ${args[*]-} " == *" --ip"* ]] || args+=(--ip 127.0.0.1)
exec wrangler dev "${args[@]}"
