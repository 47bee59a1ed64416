"""Prepares a fresh tenant on the fuzz server for tests/fuzz/run.sh.

Usage: setup.py BASE_URL OUT_DIR. Creates an organization (its first key authenticates the
fuzzer), a spare key (see hooks.py), and some real state for generated requests to land on:
jobs in the queue `seeded` (pending, leased for 12 h, dead-lettered) and a registered worker.
(Not the document's example queue `emails`: the fuzzer sends DELETE /api/v1/queues/emails early
and often, which would take the seeded jobs with it.) Writes OUT_DIR/credentials (shell assignments) and OUT_DIR/schemathesis.toml,
whose dictionaries put those real job ids, lease ids and worker ids into about half of the
generated requests that take one; the other half keep schemathesis' own values.
"""

import json
import sys
import urllib.request

base, out = sys.argv[1], sys.argv[2]
QUEUE = "seeded"


def call(method, path, body=None, key=None, admin=False):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if admin:
        headers["X-Admin-Key"] = "test-admin-key"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.load(res)


org = call("POST", "/api/v1/organizations", {"name": "schemathesis"}, admin=True)
key = org["api_key"]
spare = call("POST", "/api/v1/api-keys", {"name": "spare"}, key=key["key"])
k = key["key"]

job_ids = [call("POST", "/api/v1/jobs", {"queue_name": QUEUE, "payload": {"n": n}, "priority": n % 3}, key=k)["id"]
           for n in range(8)]
claimed = call("POST", "/api/v1/jobs/claim",
               {"queue_name": QUEUE, "worker_id": "fuzz-worker", "limit": 4, "lease_duration_secs": 43200}, key=k)["jobs"]
lease_ids = [job["lease_id"] for job in claimed]
# One job out of retries: claimed and failed once, so it waits in the dead-letter queue.
dead = call("POST", "/api/v1/jobs", {"queue_name": QUEUE, "payload": {"dead": True}, "max_retries": 0, "priority": 100},
            key=k)["id"]
lease = call("POST", "/api/v1/jobs/claim", {"queue_name": QUEUE, "worker_id": "fuzz-worker", "limit": 1}, key=k)
assert lease["jobs"][0]["id"] == dead, lease
call("POST", f"/api/v1/jobs/{dead}/fail", {"lease_id": lease["jobs"][0]["lease_id"], "error": "setup"}, key=k)
job_ids.append(dead)
worker = call("POST", "/api/v1/workers/register", {"queue_name": QUEUE, "hostname": "fuzz-host"}, key=k)

with open(f"{out}/credentials", "w") as f:
    f.write(f"KEY={k}\nFUZZ_KEY_ID={key['id']}\nFUZZ_SPARE_KEY_ID={spare['id']}\n")


def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


with open(f"{out}/schemathesis.toml", "w") as f:
    f.write(f"""\
[dictionaries.job_ids]
values = {toml_list(job_ids)}

[dictionaries.lease_ids]
values = {toml_list(lease_ids)}

[dictionaries.worker_ids]
values = {toml_list([worker["id"]])}

[[operations]]
include-path-regex = '^/api/v1/jobs/\\{{id\\}}'
parameters = {{ "path.id" = {{ dictionary = "job_ids", probability = 0.5 }}, "body.lease_id" = {{ dictionary = "lease_ids", probability = 0.5 }} }}

[[operations]]
include-path = "/api/v1/jobs/ack"
parameters = {{ "body.acks[*].id" = {{ dictionary = "job_ids", probability = 0.5 }}, "body.acks[*].lease_id" = {{ dictionary = "lease_ids", probability = 0.5 }}, "body.fails[*].id" = {{ dictionary = "job_ids", probability = 0.5 }}, "body.fails[*].lease_id" = {{ dictionary = "lease_ids", probability = 0.5 }} }}

[[operations]]
include-path = "/api/v1/jobs/dlq/retry"
parameters = {{ "body.job_ids[*]" = {{ dictionary = "job_ids", probability = 0.5 }} }}

[[operations]]
include-path-regex = '^/api/v1/workers/\\{{id\\}}'
parameters = {{ "path.id" = {{ dictionary = "worker_ids", probability = 0.5 }} }}
""")
print(f"setup: {len(job_ids)} jobs in '{QUEUE}' ({len(lease_ids)} leased, 1 dead-lettered), worker {worker['id']}")
