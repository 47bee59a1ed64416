#!/usr/bin/env bash
# `bash scripts/with-env.sh COMMAND [ARGS...]`: runs COMMAND from the repository root with the
# environment of scripts/env.sh (the chosen Node.js first on PATH), as the npm scripts do.
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec "$@"
