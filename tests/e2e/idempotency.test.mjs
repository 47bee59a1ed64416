// Idempotent enqueue (single, concurrent, bulk) and exactly-once claiming under concurrency.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertError, claimOne, newTenant, queueName, startWorker, workerOp } from "./harness.mjs";

let mf, client;
before(async () => {
  mf = await startWorker();
  client = await newTenant(mf);
});
after(() => mf?.dispose());

const enqueueRaw = (body) => client.post("/api/v1/jobs", body);
const bulk = (body) => client.post("/api/v1/jobs/bulk", body);

/** Enqueues a job with `key` and moves it to `state`; returns its id. */
async function jobIn(q, key, state) {
  const res = await enqueueRaw({ queue_name: q, payload: { v: 1 }, idempotency_key: key, max_retries: 0 });
  assert.equal(res.status, 201, res.text);
  const id = res.json.id;
  if (state === "cancelled") assert.equal((await client.delete(`/api/v1/jobs/${id}`)).status, 204);
  if (["processing", "completed", "deadletter"].includes(state)) {
    const job = await claimOne(client, q, id);
    if (state === "completed") assert.equal((await workerOp(client, job, "complete")).status, 200);
    if (state === "deadletter") assert.equal((await workerOp(client, job, "fail", { error: "x" })).status, 200);
  }
  assert.equal((await client.job(id)).status, state);
  return id;
}

function assertBulkShape(res, n) {
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), ["failed", "failure_count", "succeeded", "success_count", "total"].sort());
  assert.deepEqual(res.json.failed, []);
  assert.equal(res.json.total, n);
  assert.equal(res.json.success_count, n);
  assert.equal(res.json.failure_count, 0);
  assert.deepEqual(res.json.succeeded.map((s) => s.index), [...Array(n).keys()]);
  for (const s of res.json.succeeded) assert.deepEqual(Object.keys(s).sort(), ["created", "index", "job_id"]);
  return res.json.succeeded;
}

describe("idempotent enqueue", () => {
  for (const state of ["pending", "processing", "completed", "cancelled", "deadletter"]) {
    test(`a duplicate idempotency_key returns 200 {id, created:false} for the ${state} job and changes nothing`, async () => {
      const q = queueName();
      const id = await jobIn(q, "order-42", state);
      const before = await client.job(id);
      const dup = await enqueueRaw({ queue_name: q, payload: { v: 2 }, idempotency_key: "order-42", priority: 50, max_retries: 9 });
      assert.equal(dup.status, 200, dup.text);
      assert.deepEqual(dup.json, { id, created: false });
      const job = await client.job(id);
      assert.equal(job.status, state);
      assert.deepEqual(job.payload, { v: 1 });
      assert.equal(job.priority, 0);
      assert.equal(job.max_retries, 0);
      assert.equal(job.idempotency_key, "order-42");
      assert.equal(job.retry_count, before.retry_count);
      const claimable = (await client.claim(q, { limit: 10 })).map((j) => j.id);
      assert.deepEqual(claimable, state === "pending" ? [id] : [], "the duplicate enqueued nothing");
    });
  }

  test("30 concurrent duplicate POSTs create exactly one job: one 201, 29 × 200, all with the same id", async () => {
    const q = queueName();
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => enqueueRaw({ queue_name: q, payload: { i }, idempotency_key: "same" })),
    );
    const created = responses.filter((r) => r.status === 201);
    assert.equal(created.length, 1, `statuses: ${responses.map((r) => r.status)}`);
    assert.equal(responses.filter((r) => r.status === 200).length, 29);
    const id = created[0].json.id;
    for (const r of responses) assert.deepEqual(r.json, { id, created: r.status === 201 });
    const winner = responses.indexOf(created[0]);
    const jobs = await client.claim(q, { limit: 100 });
    assert.deepEqual(jobs.map((j) => j.id), [id]);
    assert.deepEqual(jobs[0].payload, { i: winner }, "the stored payload is the creating request's");
  });

  test("the same idempotency_key in another queue is a different job", async () => {
    const [a, b] = [queueName(), queueName()];
    const ra = await enqueueRaw({ queue_name: a, payload: 1, idempotency_key: "k" });
    const rb = await enqueueRaw({ queue_name: b, payload: 2, idempotency_key: "k" });
    assert.equal(ra.status, 201);
    assert.equal(rb.status, 201);
    assert.notEqual(ra.json.id, rb.json.id);
  });

  test("a bulk with a batch idempotency_key sent twice returns the same ids, all created:false the second time", async () => {
    const q = queueName();
    const body = { queue_name: q, idempotency_key: "batch-1", jobs: [0, 1, 2, 3, 4].map((n) => ({ payload: { n } })) };
    const first = assertBulkShape(await bulk(body), 5);
    assert.ok(first.every((s) => s.created === true));
    assert.equal(new Set(first.map((s) => s.job_id)).size, 5);
    const second = assertBulkShape(await bulk({ ...body, jobs: body.jobs.map((j) => ({ payload: { changed: j.payload.n } })) }), 5);
    assert.deepEqual(second.map((s) => s.job_id), first.map((s) => s.job_id));
    assert.ok(second.every((s) => s.created === false));
    const jobs = await client.claim(q, { limit: 100 });
    assert.deepEqual(jobs.map((j) => j.id), first.map((s) => s.job_id), "five jobs, in batch order");
    assert.deepEqual(jobs.map((j) => j.payload), body.jobs.map((j) => j.payload));
  });

  test("5 concurrent copies of one keyed bulk create each job once: the same ids everywhere, 5 created:true in total", async () => {
    const q = queueName();
    const body = { queue_name: q, idempotency_key: "race", jobs: [0, 1, 2, 3, 4].map((n) => ({ payload: n })) };
    const results = (await Promise.all(Array.from({ length: 5 }, () => bulk(body)))).map((r) => assertBulkShape(r, 5));
    for (const r of results) assert.deepEqual(r.map((s) => s.job_id), results[0].map((s) => s.job_id));
    assert.equal(results.flat().filter((s) => s.created).length, 5);
    assert.equal((await client.claim(q, { limit: 100 })).length, 5);
  });

  test("duplicate item keys inside one bulk collapse to the first item, and every index gets a result", async () => {
    const q = queueName();
    const res = await bulk({ queue_name: q, jobs: [{ payload: "a", idempotency_key: "k" }, { payload: "b", idempotency_key: "k" }, { payload: "c" }] });
    const [a, b, c] = assertBulkShape(res, 3);
    assert.equal(a.created, true);
    assert.deepEqual(b, { index: 1, job_id: a.job_id, created: false });
    assert.equal(c.created, true);
    assert.deepEqual((await client.claim(q, { limit: 10 })).map((j) => j.payload), ["a", "c"]);
  });

  test("a bulk with one invalid item is rejected whole (400) and stores nothing", async () => {
    const q = queueName();
    const jobs = [{ payload: 1 }, { payload: 2, idempotency_key: "own" }, { payload: 3, priority: 500 }];
    const res = await bulk({ queue_name: q, idempotency_key: "b", jobs });
    assertError(res, 400, "VALIDATION_ERROR");
    assert.match(res.json.message, /jobs\[2\]/);
    assert.deepEqual(await client.claim(q, { limit: 100 }), []);
    // Nothing was reserved either: the corrected batch creates every job.
    const fixed = assertBulkShape(await bulk({ queue_name: q, idempotency_key: "b", jobs: [jobs[0], jobs[1], { payload: 3 }] }), 3);
    assert.ok(fixed.every((s) => s.created === true));
  });
});

describe("concurrent claiming", () => {
  test("10 concurrent claimers over 300 jobs claim every job exactly once", async () => {
    const q = queueName();
    const enqueued = [];
    for (let b = 0; b < 3; b++) {
      const res = await bulk({ queue_name: q, jobs: Array.from({ length: 100 }, (_, i) => ({ payload: { n: b * 100 + i } })) });
      enqueued.push(...assertBulkShape(res, 100).map((s) => s.job_id));
    }
    assert.equal(new Set(enqueued).size, 300);

    const claimer = async (w) => {
      const mine = [];
      for (;;) {
        const jobs = await client.claim(q, { limit: 10, worker_id: `w${w}` });
        if (jobs.length === 0) return mine;
        mine.push(...jobs);
      }
    };
    const perWorker = await Promise.all(Array.from({ length: 10 }, (_, w) => claimer(w)));
    const claimed = perWorker.flat();
    assert.equal(claimed.length, 300);
    assert.equal(new Set(claimed.map((j) => j.id)).size, 300, "a job was claimed twice");
    assert.deepEqual(claimed.map((j) => j.id).sort(), [...enqueued].sort());
    assert.equal(new Set(claimed.map((j) => j.lease_id)).size, 300, "every claim has its own lease");
    assert.ok(perWorker.filter((jobs) => jobs.length > 0).length > 1, "the claimers actually interleaved");
  });
});
