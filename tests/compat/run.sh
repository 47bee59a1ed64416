#!/usr/bin/env bash
# SDK compatibility suite: the official Python SDK (`spooled`, pinned) in its own virtualenv,
# driving the built Worker served by Miniflare on a free loopback port (tests/compat/serve.mjs).
# Needs build/index.js (scripts/build.sh) and the npm packages (scripts/setup.sh).
# Extra arguments go to pytest, e.g. `bash tests/compat/run.sh -k dlq`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

SPOOLED_VERSION=1.6.0
PYTEST_VERSION=9.2.0
VENV="$ROOT/.venv-compat"
# The Node.js of scripts/env.sh (the platform's npm package, or a new enough system node).
source "$ROOT/scripts/env.sh"
NODE="$(command -v node)"
PY="$VENV/bin/python"

if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
fi
if ! "$PY" - "$SPOOLED_VERSION" "$PYTEST_VERSION" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
sys.exit(0 if (version("spooled"), version("pytest")) == (sys.argv[1], sys.argv[2]) else 1)
EOF
then
  "$PY" -m pip install --quiet --disable-pip-version-check \
    "spooled==$SPOOLED_VERSION" "pytest==$PYTEST_VERSION"
fi

source tests/compat/server-lib.sh
start_server

export SPOOLED_BASE_URL="$BASE_URL"
export SPOOLED_ADMIN_KEY="test-admin-key"
export PYTHONDONTWRITEBYTECODE=1
echo "spooled $("$PY" -c 'import spooled; print(spooled.__version__)') against $BASE_URL"
"$PY" -m pytest tests/compat -p no:cacheprovider -rfEXx "$@"
