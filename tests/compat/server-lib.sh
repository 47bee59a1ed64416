# Sourced by the scripts that test the built Worker over HTTP (tests/compat/run.sh,
# tests/fuzz/run.sh): `start_server` serves build/index.js with tests/compat/serve.mjs on a free
# loopback port and sets BASE_URL; the server is stopped however the script ends.
# Expects NODE (Node >= 22.12, see scripts/env.sh) and a working directory at the repository root.

if [ ! -f build/index.js ]; then
  echo "build/index.js is missing: run 'bash scripts/build.sh' first" >&2
  exit 1
fi

# The server reads its stdin from a FIFO held open by this script: if the script dies in any
# way, the FIFO closes and the server stops itself; the trap also stops it explicitly.
WORK="$(mktemp -d)"
SERVER_PID=""
BASE_URL=""
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

# Starts the server and waits (up to 60 s) for its READY line.
start_server() {
  mkfifo "$WORK/stdin"
  "$NODE" tests/compat/serve.mjs <"$WORK/stdin" >"$WORK/stdout" 2>"$WORK/stderr" &
  SERVER_PID=$!
  exec 3>"$WORK/stdin"
  for _ in $(seq 600); do
    BASE_URL="$(sed -n 's/^READY \(http:[^ ]*\)$/\1/p' "$WORK/stdout")"
    [ -n "$BASE_URL" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the test server did not start; its output:" >&2
  cat "$WORK/stdout" "$WORK/stderr" >&2
  exit 1
}
