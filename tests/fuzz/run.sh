#!/usr/bin/env bash
# API fuzzing: schemathesis (pinned, in its own virtualenv) generates requests from the served
# OpenAPI document (GET /api/v1/openapi.json) and sends them, authenticated, to the built Worker
# on Miniflare (tests/compat/serve.mjs). Every response must be a non-5xx that the document
# describes (status code, content type, headers and body schema), a request the document calls
# valid must be accepted, and one it calls invalid must be refused.
# Needs build/index.js (scripts/build.sh) and the npm packages (scripts/setup.sh).
# Environment: FUZZ_MAX_EXAMPLES (default 50 per operation and phase), FUZZ_SEED (default
# 20260701), FUZZ_REPORT_DIR (keep schemathesis' event log, events.ndjson, in this directory).
# Extra arguments go to `schemathesis run`, e.g. `bash tests/fuzz/run.sh --include-path-regex jobs`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

SCHEMATHESIS_VERSION=4.32.5
VENV="$ROOT/.venv-fuzz"
# The Node.js of scripts/env.sh (the platform's npm package, or a new enough system node).
source "$ROOT/scripts/env.sh"
NODE="$(command -v node)"
PY="$VENV/bin/python"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-50}"
SEED="${FUZZ_SEED:-20260701}"
MIN_REQUESTS=1000

if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
fi
if ! "$PY" - "$SCHEMATHESIS_VERSION" 2>/dev/null <<'PYEOF'
import sys
from importlib.metadata import version
sys.exit(0 if version("schemathesis") == sys.argv[1] else 1)
PYEOF
then
  "$PY" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

source tests/compat/server-lib.sh
STARTED=$SECONDS
EVENTS="$WORK/events.ndjson"
if [ -n "${FUZZ_REPORT_DIR:-}" ]; then
  mkdir -p "$FUZZ_REPORT_DIR"
  EVENTS="$(cd "$FUZZ_REPORT_DIR" && pwd)/events.ndjson"
fi
# The Worker's default rate limit (600,000 requests a minute per key) stays on: the fuzzer
# cannot reach it, and the X-RateLimit-* headers are then checked against the document too.
start_server

# A fresh tenant with some real jobs, leases and a worker; see tests/fuzz/setup.py.
"$PY" tests/fuzz/setup.py "$BASE_URL" "$WORK"
KEY="$(sed -n 's/^KEY=//p' "$WORK/credentials")"
export FUZZ_KEY_ID="$(sed -n 's/^FUZZ_KEY_ID=//p' "$WORK/credentials")"
export FUZZ_SPARE_KEY_ID="$(sed -n 's/^FUZZ_SPARE_KEY_ID=//p' "$WORK/credentials")"
export SCHEMATHESIS_HOOKS="$ROOT/tests/fuzz/hooks.py"
export PYTHONDONTWRITEBYTECODE=1

# Checks: no 5xx; every response (status, content type, headers, body) as documented; valid
# requests accepted (2xx/3xx, or a state-dependent 401/403/404/409/429) and invalid ones refused
# (400/401/403/404/405/406/409/415/422/428/429): schemathesis' default lists, see
# docs/DECISIONS.md. tests/fuzz/hooks.py applies the rules JSON Schema cannot state.
# Phases: the document's examples, boundary/negative coverage, random fuzzing, and stateful
# sequences along the links schemathesis infers (ids from responses feed later requests).
# POST /api/v1/organizations is fuzzed too, with the admin key. $WORK/schemathesis.toml (written
# by setup.py) mixes the seeded job, lease and worker ids into the generated requests. The
# generation database is off so that nothing but the seed carries over between runs.
echo "schemathesis $SCHEMATHESIS_VERSION against $BASE_URL (max examples $MAX_EXAMPLES, seed $SEED)"
set +e
(cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE_URL/api/v1/openapi.json" \
  -H "Authorization: Bearer $KEY" \
  -H "X-Admin-Key: test-admin-key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,positive_data_acceptance,negative_data_rejection \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 30 \
  --generation-database none \
  --report ndjson --report-ndjson-path "$EVENTS" \
  "$@")
ST_RC=$?
set -e

# The closing line, counted from schemathesis' own event log: every request sent and answered.
"$PY" - "$EVENTS" "$ST_RC" "$MIN_REQUESTS" "$((SECONDS - STARTED))" <<'PYEOF'
import collections, json, sys

path, st_rc, min_requests, elapsed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
requests = cases = server_errors = 0
failed = collections.Counter()
try:
    with open(path) as f:
        for line in f:
            event = json.loads(line).get("ScenarioFinished")
            if not event:
                continue
            recorder = event["recorder"]
            cases += len(recorder.get("cases", {}))
            for interaction in recorder.get("interactions", {}).values():
                requests += 1
                response = interaction.get("response")
                if response and response["status_code"] >= 500:
                    server_errors += 1
            for checks in recorder.get("checks", {}).values():
                for check in checks:
                    if check["status"] == "failure":
                        failed[check["name"]] += 1
except FileNotFoundError:
    pass
ok = st_rc == 0 and server_errors == 0 and not failed and requests >= min_requests
detail = ", ".join(f"{name}={n}" for name, n in sorted(failed.items())) or "none"
print(f"fuzz: {requests} requests, {cases} test cases, {server_errors} 5xx, "
      f"{sum(failed.values())} failed checks ({detail}), schemathesis exit {st_rc}, "
      f"{elapsed} s: {'PASS' if ok else 'FAIL'}")
if requests < min_requests:
    print(f"fuzz: fewer than {min_requests} requests were sent", file=sys.stderr)
sys.exit(0 if ok else 1)
PYEOF
