// Tenant isolation: one tenant can neither see nor touch another's jobs, even knowing their
// ids, and queues with the same name are separate per tenant.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertError, claimOne, deadLettered, newOrg, queueName, startWorker, workerOp } from "./harness.mjs";

let mf, a, b, orgA, orgB;
before(async () => {
  mf = await startWorker();
  ({ client: a, org: orgA } = await newOrg(mf, "Tenant A"));
  ({ client: b, org: orgB } = await newOrg(mf, "Tenant B"));
});
after(() => mf?.dispose());

/** A's jobs in one queue: one pending, one processing (with its lease), one dead-lettered. */
async function seedA(q) {
  const leasedId = await a.enqueue(q, { payload: { secret: "lease" }, priority: 10 });
  const lease = await claimOne(a, q, leasedId);
  const deadId = await deadLettered(a, q, { payload: { secret: "dead" }, priority: 5 });
  const pendingId = await a.enqueue(q, { payload: { secret: "pending" } });
  const snapshot = {};
  for (const id of [leasedId, deadId, pendingId]) snapshot[id] = await a.job(id);
  return { lease, leasedId, deadId, pendingId, snapshot };
}

describe("tenant isolation", () => {
  test("tenants get distinct organizations and keys", () => {
    assert.notEqual(orgA.id, orgB.id);
    assert.notEqual(a.key, b.key);
  });

  test("tenant B gets 404 for GET, DELETE, retry, complete, fail and heartbeat on tenant A's job ids", async () => {
    const q = queueName();
    const { lease, leasedId, deadId, pendingId, snapshot } = await seedA(q);
    const fence = { lease_id: lease.lease_id, worker_id: "w1" };
    for (const id of [leasedId, deadId, pendingId]) {
      assertError(await b.get(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
      assertError(await b.delete(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
      assertError(await b.post(`/api/v1/jobs/${id}/retry`), 404, "NOT_FOUND");
      assertError(await b.post(`/api/v1/jobs/${id}/complete`, { ...fence, result: "stolen" }), 404, "NOT_FOUND");
      assertError(await b.post(`/api/v1/jobs/${id}/fail`, { ...fence, error: "sabotage" }), 404, "NOT_FOUND");
      assertError(await b.post(`/api/v1/jobs/${id}/heartbeat`, { ...fence, lease_duration_secs: 3600 }), 404, "NOT_FOUND");
    }
    for (const id of [leasedId, deadId, pendingId]) {
      assert.deepEqual(await a.job(id), snapshot[id], `A's job ${id} changed`);
    }
    // A still holds its lease and can finish the job.
    assert.equal((await workerOp(a, lease, "complete", { result: "mine" })).status, 200);
    assert.deepEqual((await a.job(leasedId)).result, "mine");
  });

  test("queues are per tenant: B's claim, DLQ list, DLQ retry and purge on the same queue name see none of A's jobs", async () => {
    const q = queueName();
    const { deadId, pendingId, snapshot } = await seedA(q);
    assert.deepEqual(await b.claim(q, { limit: 100 }), []);

    const list = await b.get(`/api/v1/jobs/dlq?queue_name=${q}`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.json, []);

    for (const body of [{ job_ids: [deadId] }, { queue_name: q, job_ids: [deadId] }, { queue_name: q }]) {
      const res = await b.post("/api/v1/jobs/dlq/retry", body);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { retried_count: 0, retried_jobs: [] });
    }
    const purge = await b.post("/api/v1/jobs/dlq/purge", { queue_name: q, confirm: true });
    assert.equal(purge.status, 200, purge.text);
    assert.equal(purge.json.purged_count, 0);

    assert.deepEqual(await a.job(deadId), snapshot[deadId]);
    assert.deepEqual(await a.job(pendingId), snapshot[pendingId]);
    assert.deepEqual((await a.get(`/api/v1/jobs/dlq?queue_name=${q}`)).json.map((j) => j.id), [deadId]);
  });

  test("the same queue name holds separate jobs and idempotency keys for each tenant", async () => {
    const q = queueName();
    const ra = await a.post("/api/v1/jobs", { queue_name: q, payload: "from A", idempotency_key: "shared" });
    const rb = await b.post("/api/v1/jobs", { queue_name: q, payload: "from B", idempotency_key: "shared" });
    assert.equal(ra.status, 201);
    assert.equal(rb.status, 201, "B's key must not collide with A's");
    assert.notEqual(rb.json.id, ra.json.id);

    const bJob = await b.job(rb.json.id);
    assert.equal(bJob.organization_id, orgB.id);
    assertError(await a.get(`/api/v1/jobs/${rb.json.id}`), 404, "NOT_FOUND");
    assert.deepEqual((await b.claim(q, { limit: 10 })).map((j) => j.payload), ["from B"]);
    assert.deepEqual((await a.claim(q, { limit: 10 })).map((j) => j.payload), ["from A"]);
    assert.equal((await a.job(ra.json.id)).organization_id, orgA.id);
  });
});
