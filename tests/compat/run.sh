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
NODE="$ROOT/node_modules/.bin/node"
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

if [ ! -f build/index.js ]; then
  echo "build/index.js is missing: run 'bash scripts/build.sh' first" >&2
  exit 1
fi

# The server reads its stdin from a FIFO held open by this script: if this script dies in
# any way, the FIFO closes and the server stops itself; the trap also stops it explicitly.
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  local rc=$?
  exec 3>&- 2>/dev/null || true
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkfifo "$WORK/stdin"
"$NODE" tests/compat/serve.mjs <"$WORK/stdin" >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
exec 3>"$WORK/stdin"

BASE_URL=""
for _ in $(seq 600); do
  BASE_URL="$(sed -n 's/^READY \(http:[^ ]*\)$/\1/p' "$WORK/stdout")"
  [ -n "$BASE_URL" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ -z "$BASE_URL" ]; then
  echo "the compat server did not start; its output:" >&2
  cat "$WORK/stdout" "$WORK/stderr" >&2
  exit 1
fi

export SPOOLED_BASE_URL="$BASE_URL"
export SPOOLED_ADMIN_KEY="test-admin-key"
export PYTHONDONTWRITEBYTECODE=1
echo "spooled $("$PY" -c 'import spooled; print(spooled.__version__)') against $BASE_URL"
"$PY" -m pytest tests/compat -p no:cacheprovider -rfEXx "$@"
