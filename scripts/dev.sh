#!/usr/bin/env bash
# `npm run dev [-- wrangler dev flags]`: installs what is missing, then serves the API on
# http://127.0.0.1:8787 (or the --port / --ip given) with storage under .wrangler/state.
# `npm run dev -- --env bench` serves the bench build (ceiling routes, FAULT_ALARM) instead.
set -euo pipefail
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"
args=("$@")
[[ " ${args[*]-} " == *" --port"* ]] || args+=(--port 8787)
[[ " ${args[*]-} " == *" --ip"* ]] || args+=(--ip 127.0.0.1)
exec wrangler dev "${args[@]}"
