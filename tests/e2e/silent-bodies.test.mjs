// A body that says nothing is refused: a request whose body carries none of the fields its
// route needs (a misspelt field, or none at all) is a 400 naming what is missing, and changes
// nothing. Unknown fields beside the known ones are ignored (newer SDKs send more), and an
// empty body or `{}` to a route whose every field is optional takes its defaults.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN_KEY,
  Client,
  assertError,
  assertStatus,
  claimOne,
  deadLettered,
  newTenant,
  queueName,
  startWorker,
  workerOp,
} from "./harness.mjs";

let mf, client;
before(async () => {
  mf = await startWorker();
  client = await newTenant(mf, "silent");
});
after(() => mf?.dispose());

/** Asserts a 400 whose message names every one of `fields`. */
function refused(res, fields, code = "VALIDATION_ERROR") {
  assertError(res, 400, code);
  for (const field of [fields].flat()) assert.ok(res.json.message.includes(field), `"${field}" not named in: ${res.json.message}`);
  return res.json;
}

/** The job's state that a refused worker request must leave as it was. */
async function leaseOf(id) {
  const { status, lease_id, lease_expires_at, retry_count, result } = await client.job(id);
  return { status, lease_id, lease_expires_at, retry_count, result };
}

describe("bodies missing what their route needs", () => {
  test("POST /jobs/ack with neither acks nor fails (e.g. a misspelt `items`) → 400 naming both; the leases stand", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const job = await claimOne(client, q, id);
    const before = await leaseOf(id);
    const item = { id, lease_id: job.lease_id };
    for (const body of [{ queue_name: q, items: [item] }, { queue_name: q }, { queue_name: q, ack: [item], fail: [] }]) {
      const error = refused(await client.post("/api/v1/jobs/ack", body), ["acks", "fails"]);
      assert.equal(error.details?.[0]?.field, "acks");
    }
    assert.deepEqual(await leaseOf(id), before);
    // An explicitly empty list is a batch with nothing in it, not a silent body.
    assert.deepEqual(assertStatus(await client.post("/api/v1/jobs/ack", { queue_name: q, acks: [] }), 200), { results: [], succeeded: 0, failed: 0 });
  });

  test("POST /jobs/bulk without jobs, POST /jobs without payload or queue_name → 400 naming it; nothing stored", async () => {
    const q = queueName();
    refused(await client.post("/api/v1/jobs/bulk", { queue_name: q, items: [{ payload: 1 }] }), "jobs");
    refused(await client.post("/api/v1/jobs/bulk", { queue: q }), "jobs");
    refused(await client.post("/api/v1/jobs/bulk", { jobs: [{ payload: 1 }] }), "queue_name");
    refused(await client.post("/api/v1/jobs", { queue_name: q, data: { to: "x" } }), "payload");
    refused(await client.post("/api/v1/jobs", { name: q, payload: 1 }), "queue_name");
    refused(await client.post("/api/v1/jobs/claim", { name: q }), "queue_name");
    assert.deepEqual(await client.claim(q, { limit: 100 }), [], "nothing was stored");
  });

  test("complete, fail and heartbeat with neither lease_id nor worker_id → 400 naming them; the lease stands", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    await claimOne(client, q, id);
    const before = await leaseOf(id);
    for (const [op, body] of [["complete", { lease: "x", result: 1 }], ["fail", { error: "boom" }], ["heartbeat", {}], ["heartbeat", ""]]) {
      const error = refused(await client.post(`/api/v1/jobs/${id}/${op}`, body), ["lease_id", "worker_id"]);
      assert.equal(error.details?.[0]?.field, "lease_id", op);
    }
    assert.deepEqual(await leaseOf(id), before);
    // The fence is checked before the job is looked up, so an unknown job gets the same 400.
    refused(await client.post(`/api/v1/jobs/${q}.01ARZ3NDEKTSV4RRFFQ69G5FAV/complete`, {}), "lease_id");
  });

  test("PUT /jobs/{id}/priority without priority → 400 naming it; the priority is unchanged", async () => {
    const q = queueName();
    const id = await client.enqueue(q, { priority: 3 });
    refused(await client.put(`/api/v1/jobs/${id}/priority`, { prio: 9 }), "priority");
    assert.equal((await client.job(id)).priority, 3);
  });

  test("POST /jobs/dlq/retry of unknown fields only → 400 naming them and the route's; nothing replayed; {} replays", async () => {
    const q = queueName();
    const id = await deadLettered(client, q);
    const error = refused(await client.post("/api/v1/jobs/dlq/retry", { queue_names: [q] }), ["queue_names", "queue_name", "job_ids", "limit"]);
    assert.deepEqual(error.details, [{ field: "queue_names", message: "unknown field", code: "invalid" }]);
    assert.equal((await client.job(id)).status, "deadletter");
    assert.deepEqual(assertStatus(await client.post("/api/v1/jobs/dlq/retry", {}), 200).retried_jobs, [id]);
  });

  test("POST /jobs/dlq/purge without confirm → 400 BAD_REQUEST naming it; the dead letter stays", async () => {
    const q = queueName();
    const id = await deadLettered(client, q);
    refused(await client.post("/api/v1/jobs/dlq/purge", { queue_name: q, confirmed: true }), "confirm", "BAD_REQUEST");
    refused(await client.post("/api/v1/jobs/dlq/purge", { confirm: true }), "queue_name");
    assert.equal((await client.job(id)).status, "deadletter");
  });

  test("PUT /queues/{name}/config of unknown fields only → 400; no queue is created, a configured one keeps its settings", async () => {
    const fresh = queueName();
    refused(await client.put(`/api/v1/queues/${fresh}/config`, { max_retry: 5 }), ["max_retry", "max_retries"]);
    assertError(await client.get(`/api/v1/queues/${fresh}`), 404, "NOT_FOUND");

    const q = queueName();
    const configured = assertStatus(await client.put(`/api/v1/queues/${q}/config`, { max_retries: 2 }), 200);
    refused(await client.put(`/api/v1/queues/${q}/config`, { maxRetries: 5, retention: 60 }), ["maxRetries", "retention"]);
    assert.deepEqual((await client.get(`/api/v1/queues/${q}`)).json, configured);
    // `{}` changes nothing and answers the settings.
    assert.equal(assertStatus(await client.put(`/api/v1/queues/${q}/config`, {}), 200).max_retries, 2);
  });

  test("POST /workers/register without hostname or queue_name → 400 naming it; no worker registered", async () => {
    const q = queueName();
    refused(await client.post("/api/v1/workers/register", { queue_name: q, host: "box", worker_id: "w-silent" }), "hostname");
    refused(await client.post("/api/v1/workers/register", { name: q, hostname: "box", worker_id: "w-silent" }), "queue_name");
    assertError(await client.get("/api/v1/workers/w-silent"), 404, "NOT_FOUND");
  });

  test("API keys: create without name → 400 naming it; an update of unknown fields only → 400; nothing changes", async () => {
    const keysBefore = (await client.get("/api/v1/api-keys")).json;
    const error = refused(await client.post("/api/v1/api-keys", { title: "ci", queues: ["a"] }), "name");
    assert.equal(error.message, "name: is required");
    assert.deepEqual((await client.get("/api/v1/api-keys")).json, keysBefore, "no key was created");

    const created = assertStatus(await client.post("/api/v1/api-keys", { name: "ci" }), 201);
    const stored = (await client.get(`/api/v1/api-keys/${created.id}`)).json;
    refused(await client.put(`/api/v1/api-keys/${created.id}`, { nmae: "renamed", active: false }), ["nmae", "active", "name", "is_active"]);
    assert.deepEqual((await client.get(`/api/v1/api-keys/${created.id}`)).json, stored);
    assert.equal(assertStatus(await client.put(`/api/v1/api-keys/${created.id}`, {}), 200).name, "ci");
  });

  test("POST /organizations without name → 400 naming it", async () => {
    const admin = new Client(mf);
    const res = await admin.post("/api/v1/organizations", { title: "Acme" }, { headers: { "X-Admin-Key": ADMIN_KEY } });
    assert.equal(refused(res, "name").message, "name: is required");
  });
});

describe("what stays accepted", () => {
  test("unknown fields beside known ones are ignored: enqueue, claim, complete, ack, config, dlq retry", async () => {
    const q = queueName();
    const extra = { sdk_feature_from_the_future: { x: 1 } };
    const id = assertStatus(await client.post("/api/v1/jobs", { queue_name: q, payload: 1, ...extra }), 201).id;
    const [job] = assertStatus(await client.post("/api/v1/jobs/claim", { queue_name: q, worker_id: "w1", ...extra }), 200).jobs;
    assert.equal(job.id, id);
    assertStatus(await workerOp(client, job, "complete", extra), 200);
    const second = await client.enqueue(q);
    const claimed = await claimOne(client, q, second);
    const acked = await client.post("/api/v1/jobs/ack", { queue_name: q, acks: [{ id: second, lease_id: claimed.lease_id }], ...extra });
    assert.equal(assertStatus(acked, 200).succeeded, 1);
    assert.equal(assertStatus(await client.put(`/api/v1/queues/${q}/config`, { max_retries: 1, ...extra }), 200).max_retries, 1);
    assertStatus(await client.post("/api/v1/jobs/dlq/retry", { queue_name: q, ...extra }), 200);
  });

  test("pause and worker heartbeats act whatever else their body holds: unknown fields alone are ignored", async () => {
    const q = queueName();
    await client.enqueue(q);
    const paused = assertStatus(await client.post(`/api/v1/queues/${q}/pause`, { note: "deploy" }), 200);
    assert.deepEqual([paused.paused, paused.reason], [true, null]);
    assertStatus(await client.post(`/api/v1/queues/${q}/resume`), 200);

    assertStatus(await client.post("/api/v1/workers/register", { queue_name: q, hostname: "box", worker_id: "w-beat" }), 201);
    assertStatus(await client.post("/api/v1/workers/w-beat/heartbeat", { load_average: 0.5 }), 200);
    assertStatus(await client.post("/api/v1/workers/w-beat/heartbeat", {}), 200);
  });
});
