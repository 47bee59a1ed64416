// Queue names with dots (`emails.high`): a job id is `{queue_name}.{ULID}` and routes by its
// last dot, so dotted queues work on every route, stay apart from their undotted neighbours,
// and ids of undotted queues keep working as before.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertError, assertStatus, claimOne, createKey, newTenant, startWorker, workerOp } from "./harness.mjs";

let mf, client;
before(async () => {
  mf = await startWorker();
  client = await newTenant(mf, "dotted");
});
after(() => mf?.dispose());

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Splits a job id as the Worker does: the queue is everything before the last dot. */
function split(id) {
  const at = id.lastIndexOf(".");
  return [id.slice(0, at), id.slice(at + 1)];
}

describe("dotted queue names", () => {
  test("a job of emails.high: enqueue, get by id, claim and complete", async () => {
    const q = "emails.high";
    const enqueued = await client.post("/api/v1/jobs", { queue_name: q, payload: { to: "ada@example.com" } });
    assertStatus(enqueued, 201);
    const { id } = enqueued.json;
    const [queue, ulid] = split(id);
    assert.equal(queue, q);
    assert.match(ulid, ULID);

    const job = await client.job(id);
    assert.deepEqual([job.id, job.queue_name, job.status], [id, q, "pending"]);
    const claimed = await claimOne(client, q, id);
    assert.equal(claimed.queue_name, q);
    assertStatus(await workerOp(client, claimed, "complete", { result: { sent: true } }), 200);
    const done = await client.job(id);
    assert.deepEqual([done.status, done.result], ["completed", { sent: true }]);
  });

  test("dotted names work on the queue, listing, batch-status and dead-letter routes", async () => {
    const q = "reports.daily.v2";
    const id = await client.enqueue(q, { max_retries: 0 });
    assertStatus(await client.put(`/api/v1/queues/${q}/config`, { max_retries: 4 }), 200);
    const config = await client.get(`/api/v1/queues/${q}`);
    assertStatus(config, 200);
    assert.deepEqual([config.json.queue_name, config.json.max_retries], [q, 4]);
    assert.equal((await client.get(`/api/v1/queues/${q}/stats`)).json.pending_jobs, 1);
    assert.ok((await client.get("/api/v1/queues")).json.some((row) => row.queue_name === q));
    assert.deepEqual((await client.get(`/api/v1/jobs?queue_name=${q}`)).json.map((j) => j.id), [id]);
    const statuses = await client.get(`/api/v1/jobs/status?ids=${id}`);
    assert.deepEqual(statuses.json.map((s) => [s.id, s.queue_name]), [[id, q]]);

    assertStatus(await client.post(`/api/v1/queues/${q}/pause`, {}), 200);
    assert.deepEqual(await client.claim(q), []);
    assertStatus(await client.post(`/api/v1/queues/${q}/resume`), 200);
    const claimed = await claimOne(client, q, id);
    assert.equal((await workerOp(client, claimed, "fail", { error: "boom" })).json.status, "deadletter");
    const replayed = await client.post("/api/v1/jobs/dlq/retry", { job_ids: [id] });
    assert.deepEqual(assertStatus(replayed, 200).retried_jobs, [id]);
    assert.equal((await client.job(id)).status, "pending");
    assertStatus(await client.delete(`/api/v1/queues/${q}?delete_jobs=true`), 204);
    assertError(await client.get(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
  });

  test("edge cases: 'a.', 'a..b' and 64 characters with dots are queues; '.a', '.', 65 characters are not", async () => {
    const longest = `${"d.".repeat(31)}ok`;
    assert.equal(longest.length, 64);
    for (const q of ["a.", "a..b", "1.2.3", longest]) {
      const id = await client.enqueue(q);
      assert.equal(split(id)[0], q);
      assert.equal((await client.job(id)).queue_name, q);
      assert.equal((await claimOne(client, q, id)).id, id);
    }
    for (const q of [".a", ".", "..", `${longest}x`]) {
      const res = await client.post("/api/v1/jobs", { queue_name: q, payload: 1 });
      assertError(res, 400, "VALIDATION_ERROR");
      assert.equal(res.json.details?.[0]?.field, "queue_name");
      assertError(await client.post("/api/v1/jobs/claim", { queue_name: q }), 400, "VALIDATION_ERROR");
    }
  });

  test("emails and emails.high are two queues, and ids of undotted queues route as before", async () => {
    const plain = await client.enqueue("emails");
    const dotted = await client.enqueue("emails.high");
    assert.equal(split(plain)[0], "emails");
    assert.ok(dotted.startsWith("emails.high."));
    assert.deepEqual((await client.claim("emails", { limit: 10 })).map((j) => j.id), [plain]);
    assert.equal((await client.job(dotted)).status, "pending");
    assert.equal((await client.job(plain)).status, "processing");
    // An id whose queue part names another queue is simply not found there.
    assertError(await client.get(`/api/v1/jobs/emails.${split(plain)[1]}x`), 404, "NOT_FOUND");
    assertError(await client.get(`/api/v1/jobs/emails.high.${split(plain)[1]}`), 404, "NOT_FOUND");
  });

  test("a key scoped to emails.high reaches that queue only", async () => {
    const { client: scoped } = await createKey(client, { name: "high only", queues: ["emails.high"] });
    const id = await scoped.enqueue("emails.high");
    assert.equal((await scoped.job(id)).queue_name, "emails.high");
    assertError(await scoped.post("/api/v1/jobs", { queue_name: "emails", payload: 1 }), 403, "ACCESS_DENIED");
    assertError(await scoped.post("/api/v1/jobs", { queue_name: "emails.high.x", payload: 1 }), 403, "ACCESS_DENIED");
    const other = await client.enqueue("emails");
    assertError(await scoped.get(`/api/v1/jobs/${other}`), 404, "NOT_FOUND");
  });
});
