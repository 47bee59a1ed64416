"""Schemathesis hooks for tests/fuzz/run.sh (loaded through SCHEMATHESIS_HOOKS).

The fuzzer authenticates with one API key (FUZZ_KEY_ID). `DELETE /api/v1/api-keys/{id}` cannot
revoke the key making the request, but `PUT /api/v1/api-keys/{id}` may change it: `is_active:
false`, a `queues` scope or `rate_limit: 1` on its own id would lock the rest of the run out
(401/403/429 on every later request). Schemathesis learns that id from `GET /api/v1/api-keys`, so
such a PUT is sent to a spare key of the same tenant instead (FUZZ_SPARE_KEY_ID): the generated
body still reaches the server, only the target changes.
"""

import os

import schemathesis

OWN_KEY_ID = os.environ["FUZZ_KEY_ID"]
SPARE_KEY_ID = os.environ["FUZZ_SPARE_KEY_ID"]


@schemathesis.hook
def before_call(context, case, **kwargs):
    if (
        case.method.upper() == "PUT"
        and case.operation.path == "/api/v1/api-keys/{id}"
        and (case.path_parameters or {}).get("id") == OWN_KEY_ID
    ):
        case.path_parameters = {**case.path_parameters, "id": SPARE_KEY_ID}
