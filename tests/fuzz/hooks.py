"""Schemathesis hooks for tests/fuzz/run.sh (loaded through SCHEMATHESIS_HOOKS).

Each hook brings a generated request in line with a documented rule that JSON Schema cannot
express, so that the positive-data-acceptance check judges what the schema can: the server
still receives the generated body, only the part the rule concerns changes.

- The fuzzer authenticates with one API key (FUZZ_KEY_ID). `DELETE /api/v1/api-keys/{id}`
  cannot revoke the key making the request, but `PUT /api/v1/api-keys/{id}` may change it:
  `is_active: false`, a `queues` scope or `rate_limit: 1` on its own id would lock the rest of
  the run out (401/403/429 on every later request). Schemathesis learns that id from
  `GET /api/v1/api-keys`, so such a PUT is sent to a spare key of the same tenant instead
  (FUZZ_SPARE_KEY_ID).
- `POST /api/v1/api-keys`: `expires_at` must be in the future (a past one is a 400). In a
  request generated as valid, a time that is not well in the future moves to 2099.
- `PUT /api/v1/queues/{name}/config`: a `queue_name` in the body must equal the queue in the
  path, and `backoff_base_secs` must not exceed `backoff_cap_secs` — the one sent, or else the
  queue's stored one (else 400). In a request generated as valid, `queue_name` is replaced by
  the path's name, the two backoffs are swapped when the base is the larger, and a backoff sent
  alone gets its counterpart at the far end of the range (cap 86400 s, base 0.01 s), so no
  stored value can conflict with it.

- `GET /api/v1/jobs` and `/jobs/dlq` across queues: `offset` + `limit` + 1, times the queues the
  tenant has (at most 100 reached), may be at most 10,101 rows. In a request generated as valid
  without a queue, `offset` shrinks so that `offset` + `limit` ≤ 100, which passes over any
  number of queues.

- Webhook targets (`url` of `POST`/`PUT /api/v1/outgoing-webhooks`, `completion_webhook` of
  `POST /api/v1/jobs`) must pass the URL rules (https to a public host, `model::target_url`): in a
  request generated as valid, a string target becomes `https://hooks.example.invalid/fuzz`, a
  public name that resolves nowhere. A `completion_webhook_secret` needs a `completion_webhook`:
  generated without one, the secret is dropped.

Requests generated as invalid are left alone: they must be refused either way.

One hook only saves time: a claim's `wait_secs` within 2–20 becomes 1 in every request (it stays
valid, and an invalid one stays invalid). A long poll on an empty queue answers the same after
one second as after twenty, and twenty-second waits would hold a worker for much of the run.
"""

import ast
import os
import re
import threading
from datetime import datetime, timedelta, timezone

import schemathesis

# Schemathesis runs its workers as threads, and Hypothesis parses source code (`ast.parse`) to
# describe the lambdas in a strategy. CPython 3.11 counts the parser's recursion depth per
# interpreter, not per thread, so two parses at once can fail with "SystemError: AST constructor
# recursion depth mismatch" (a flaky Runtime Error of the run): one lock serialises them.
_parse, _parse_lock = ast.parse, threading.Lock()


def _parse_alone(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _parse_alone

OWN_KEY_ID = os.environ["FUZZ_KEY_ID"]
SPARE_KEY_ID = os.environ["FUZZ_SPARE_KEY_ID"]
FUTURE = "2099-01-01T00:00:00Z"
FUZZ_TARGET = "https://hooks.example.invalid/fuzz"


def in_the_future(text):
    """Whether `text` is a time more than an hour ahead (so still ahead when the server reads it)."""
    try:
        # fromisoformat takes at most 6 fractional digits, and an upper-case T and Z.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text.upper().replace("Z", "+00:00"))
        return datetime.fromisoformat(text) > datetime.now(timezone.utc) + timedelta(hours=1)
    except (AttributeError, ValueError):
        return False


@schemathesis.hook
def before_call(context, case, **kwargs):
    method, path = case.method.upper(), case.operation.path
    valid = case.meta is not None and case.meta.generation.mode.is_positive
    body = case.body if valid and isinstance(case.body, dict) else {}
    if method == "PUT" and path == "/api/v1/api-keys/{id}" and (case.path_parameters or {}).get("id") == OWN_KEY_ID:
        case.path_parameters = {**case.path_parameters, "id": SPARE_KEY_ID}
    elif method == "POST" and path == "/api/v1/jobs/claim" and isinstance(case.body, dict):
        wait = case.body.get("wait_secs")
        if isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait in range(2, 21):
            case.body["wait_secs"] = 1
    elif method == "POST" and path == "/api/v1/api-keys" and "expires_at" in body:
        if body["expires_at"] is not None and not in_the_future(body["expires_at"]):
            body["expires_at"] = FUTURE
    elif method == "PUT" and path == "/api/v1/queues/{name}/config":
        if body.get("queue_name") is not None:
            body["queue_name"] = (case.path_parameters or {}).get("name")
        base, cap = body.get("backoff_base_secs"), body.get("backoff_cap_secs")
        number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
        if number(base) and number(cap) and base > cap:
            body["backoff_base_secs"], body["backoff_cap_secs"] = cap, base
        elif number(base) and cap is None:
            body["backoff_cap_secs"] = 86400
        elif number(cap) and base is None:
            body["backoff_base_secs"] = 0.01
    elif method in ("POST", "PUT") and path.startswith("/api/v1/outgoing-webhooks") and isinstance(body.get("url"), str):
        body["url"] = FUZZ_TARGET
    elif method == "POST" and path == "/api/v1/jobs" and valid:
        if isinstance(body.get("completion_webhook"), str):
            body["completion_webhook"] = FUZZ_TARGET
        elif "completion_webhook_secret" in body and body.get("completion_webhook") is None:
            del body["completion_webhook_secret"]
    elif method == "GET" and path in ("/api/v1/jobs", "/api/v1/jobs/dlq") and valid:
        # Across queues, each of up to 100 queues sends offset + limit + 1 rows and one list
        # merges at most 10,101, so how deep a page may reach depends on how many queues the
        # tenant has; offset + limit <= 100 passes over any number.
        query = case.query if isinstance(case.query, dict) else {}
        if query.get("queue_name") is None and query.get("queue") is None:
            limit, offset = query.get("limit", 50), query.get("offset", 0)
            if all(isinstance(v, int) and not isinstance(v, bool) for v in (limit, offset)) and offset + limit > 100:
                query["offset"] = max(0, 100 - limit)
