// Cross-queue reads and the remaining job routes (issue 4): GET /jobs (paging, filters, aliases),
// tenant-wide stats, batch status, the tenant-wide DLQ, priority changes and batch ack.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  RFC3339, assertError, assertStatus, claimOne, completed, deadLettered, newOrg, queueName, startWorker, workerOp,
} from "./harness.mjs";

let mf, client;
before(async () => {
  mf = await startWorker();
  ({ client } = await newOrg(mf, "surface"));
});
after(() => mf?.dispose());

const ids = (res) => res.json.map((j) => j.id);
const STATUSES = ["cancelled", "completed", "deadletter", "failed", "pending", "processing", "scheduled"];

describe("GET /jobs across queues", () => {
  test("newest first across queues; limit/offset paging with X-Has-More true/false; bounds are checked", async () => {
    const { client: t } = await newOrg(mf, "lister");
    const [qa, qb, qc] = [queueName("a"), queueName("b"), queueName("c")];
    const made = [];
    for (const q of [qa, qb, qc, qa, qb]) made.push(await t.enqueue(q));
    const all = await t.get("/api/v1/jobs");
    assertStatus(all, 200);
    // Newest first: creation order reversed (two jobs created in the same millisecond are
    // ordered by id, the documented tie-break).
    const at = Object.fromEntries(all.json.map((j) => [j.id, j.created_at]));
    made.forEach((id, i) => i && assert.ok(at[id] >= at[made[i - 1]], "created_at follows creation order"));
    const newest = made.map((id, i) => [at[id], i, id]).sort((x, y) => (x[0] === y[0] ? (x[2] < y[2] ? 1 : -1) : x[0] < y[0] ? 1 : -1)).map((x) => x[2]);
    assert.deepEqual(ids(all), newest);
    assert.equal(all.headers.get("x-has-more"), "false");
    const pages = [];
    for (const offset of [0, 2, 4]) {
      const page = await t.get(`/api/v1/jobs?limit=2&offset=${offset}`);
      assertStatus(page, 200);
      pages.push([ids(page), page.headers.get("x-has-more")]);
    }
    assert.deepEqual(pages, [[newest.slice(0, 2), "true"], [newest.slice(2, 4), "true"], [newest.slice(4), "false"]]);
    assert.equal((await t.get("/api/v1/jobs?limit=5")).headers.get("x-has-more"), "false");
    assert.deepEqual(ids(await t.get("/api/v1/jobs?offset=9")), []);
    for (const bad of ["limit=0", "limit=101", "limit=x", "offset=-1"]) {
      assertError(await t.get(`/api/v1/jobs?${bad}`), 400, "VALIDATION_ERROR");
    }
    // Default page size 50.
    assertStatus(await t.post("/api/v1/jobs/bulk", { queue_name: qc, jobs: Array.from({ length: 50 }, (_, i) => ({ payload: i })) }), 200);
    const first = await t.get("/api/v1/jobs");
    assert.equal(first.json.length, 50);
    assert.equal(first.headers.get("x-has-more"), "true");
  });

  test("filters: queue_name and its alias queue, status with aliases claimed and dlq, tag; summaries carry attempt and retry_count", async () => {
    const [qa, qb] = [queueName("a"), queueName("b")];
    const doneA = await completed(client, qa);
    const pendingA = await client.enqueue(qa, { tags: ["red", "blue"] });
    const deadB = await deadLettered(client, qb, { tags: { red: true } });
    const procB = await client.enqueue(qb, { tags: ["green"] });
    const leased = await claimOne(client, qb, procB);
    assert.equal((await workerOp(client, leased, "fail", { error: "once", retry_after_secs: 0 })).json.status, "pending");
    await claimOne(client, qb, procB);
    const scoped = (query) => client.get(`/api/v1/jobs?${query}`);

    assert.deepEqual(ids(await scoped(`queue_name=${qa}`)), [pendingA, doneA]);
    assert.deepEqual(ids(await scoped(`queue=${qa}`)), [pendingA, doneA]);
    assert.deepEqual(ids(await scoped(`queue_name=${qb}&status=processing`)), [procB]);
    assert.deepEqual(ids(await scoped(`queue_name=${qb}&status=claimed`)), [procB]);
    assert.deepEqual(ids(await scoped(`queue_name=${qb}&status=deadletter`)), [deadB]);
    assert.deepEqual(ids(await scoped(`queue_name=${qb}&status=dlq`)), [deadB]);
    assert.deepEqual(ids(await scoped(`queue=${qa}&status=completed`)), [doneA]);
    assert.deepEqual(ids(await scoped(`queue=${qa}&status=pending`)), [pendingA]);
    // Across queues, status and tag filter every queue.
    const claimed = ids(await scoped("status=claimed&limit=100"));
    assert.ok(claimed.includes(procB) && !claimed.includes(pendingA));
    const dlq = ids(await scoped("status=dlq&limit=100"));
    assert.ok(dlq.includes(deadB) && !dlq.includes(doneA));
    const red = ids(await scoped("tag=red&limit=100"));
    assert.deepEqual(red.filter((id) => [pendingA, doneA, deadB, procB].includes(id)), [deadB, pendingA]);
    assert.deepEqual(ids(await scoped(`queue_name=${qb}&tag=green`)), [procB]);
    assert.deepEqual(ids(await scoped(`queue_name=${qb}&tag=nope`)), []);

    const [summary] = (await scoped(`queue_name=${qb}&status=claimed`)).json;
    assert.equal(summary.queue_name, qb);
    assert.equal(summary.status, "processing");
    assert.equal(summary.retry_count, 1);
    assert.equal(summary.attempt, 1);
    for (const field of ["priority", "max_retries", "created_at", "scheduled_at", "started_at", "completed_at"]) {
      assert.ok(field in summary, `summary lacks ${field}`);
    }
    assert.match(summary.created_at, RFC3339);
    for (const job of (await scoped("limit=100")).json) {
      assert.equal(typeof job.attempt, "number");
      assert.equal(job.attempt, job.retry_count);
    }
  });
});

describe("stats, batch status and the tenant-wide DLQ", () => {
  test("GET /jobs/stats counts every status tenant-wide and for one queue", async () => {
    const { client: t } = await newOrg(mf, "stats");
    const empty = await t.get("/api/v1/jobs/stats");
    assertStatus(empty, 200);
    assert.deepEqual(empty.json, Object.fromEntries([...STATUSES, "total"].map((s) => [s, 0])));
    const [qa, qb] = [queueName("a"), queueName("b")];
    await completed(t, qa);
    await t.enqueue(qa);
    await t.enqueue(qa, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    await deadLettered(t, qb);
    const cancelled = await t.enqueue(qb);
    assert.equal((await t.delete(`/api/v1/jobs/${cancelled}`)).status, 204);
    await claimOne(t, qb, await t.enqueue(qb));

    const all = await t.get("/api/v1/jobs/stats");
    assertStatus(all, 200);
    assert.deepEqual(all.json, { pending: 1, scheduled: 1, processing: 1, completed: 1, failed: 0, deadletter: 1, cancelled: 1, total: 6 });
    const a = await t.get(`/api/v1/jobs/stats?queue_name=${qa}`);
    assert.deepEqual(a.json, { pending: 1, scheduled: 1, processing: 0, completed: 1, failed: 0, deadletter: 0, cancelled: 0, total: 3 });
    const b = await t.get(`/api/v1/jobs/stats?queue=${qb}`);
    assert.deepEqual(b.json, { pending: 0, scheduled: 0, processing: 1, completed: 0, failed: 0, deadletter: 1, cancelled: 1, total: 3 });
    assertError(await t.get("/api/v1/jobs/stats?queue_name=bad%20name"), 400, "VALIDATION_ERROR");
  });

  test("GET /jobs/status?ids= answers for ids of several queues, omits unknown ones, and refuses more than 100", async () => {
    const { client: other } = await newOrg(mf, "other");
    const [qa, qb] = [queueName("a"), queueName("b")];
    const a = await client.enqueue(qa);
    const b = await completed(client, qb);
    const foreign = await other.enqueue(qa);
    const unknown = `${qa}.01ARZ3NDEKTSV4RRFFQ69G5FAV`;
    const res = await client.get(`/api/v1/jobs/status?ids=${[a, unknown, b, "junk", foreign].join(",")}`);
    assertStatus(res, 200);
    const byId = Object.fromEntries(res.json.map((s) => [s.id, s]));
    assert.deepEqual(Object.keys(byId).sort(), [a, b].sort());
    const { id: _id, status, queue_name, retry_count, created_at, completed_at } = byId[a];
    assert.deepEqual([_id, status, queue_name, retry_count, completed_at], [a, "pending", qa, 0, null]);
    assert.match(created_at, RFC3339);
    assert.equal(byId[b].status, "completed");
    assert.equal(byId[b].queue_name, qb);
    assert.match(byId[b].completed_at, RFC3339);
    assert.deepEqual((await client.get("/api/v1/jobs/status?ids=")).json, []);

    const hundred = Array.from({ length: 100 }, (_, i) => (i === 0 ? a : `${qa}.01ARZ3NDEKTSV4RRFFQ69G5F${String(i).padStart(2, "0")}`));
    assert.deepEqual(ids(await client.get(`/api/v1/jobs/status?ids=${hundred.join(",")}`)), [a]);
    assertError(await client.get(`/api/v1/jobs/status?ids=${[...hundred, b].join(",")}`), 400, "BAD_REQUEST");
  });

  test("GET /jobs/dlq without a queue lists the dead letters of every queue, newest first; with one, only that queue's", async () => {
    const { client: t } = await newOrg(mf, "dlq");
    const [qa, qb] = [queueName("a"), queueName("b")];
    const d1 = await deadLettered(t, qa);
    const d2 = await deadLettered(t, qb);
    const d3 = await deadLettered(t, qa);
    await completed(t, qb);
    await t.enqueue(qa);
    const all = await t.get("/api/v1/jobs/dlq");
    assertStatus(all, 200);
    assert.deepEqual(ids(all), [d3, d2, d1]);
    assert.ok(all.json.every((j) => j.status === "deadletter" && j.retry_count === 1 && j.attempt === 1));
    assert.deepEqual(ids(await t.get(`/api/v1/jobs/dlq?queue_name=${qa}`)), [d3, d1]);
    const page = await t.get("/api/v1/jobs/dlq?limit=2");
    assert.deepEqual([ids(page), page.headers.get("x-has-more")], [[d3, d2], "true"]);
    const last = await t.get("/api/v1/jobs/dlq?limit=2&offset=2");
    assert.deepEqual([ids(last), last.headers.get("x-has-more")], [[d1], "false"]);
  });
});

describe("priority changes and batch ack", () => {
  test("PUT /jobs/{id}/priority → {job_id, old_priority, new_priority} and changes claim order; 409 for a processing job", async () => {
    const q = queueName();
    const first = await client.enqueue(q, { priority: 5 });
    const second = await client.enqueue(q, { priority: 1 });
    const third = await client.enqueue(q, { priority: 1 });
    const res = await client.put(`/api/v1/jobs/${third}/priority`, { priority: 50 });
    assertStatus(res, 200);
    assert.deepEqual(res.json, { job_id: third, old_priority: 1, new_priority: 50 });
    assert.equal((await client.job(third)).priority, 50);
    assertError(await client.put(`/api/v1/jobs/${second}/priority`, { priority: 101 }), 400, "VALIDATION_ERROR");
    assertError(await client.put(`/api/v1/jobs/${second}/priority`, {}), 400, "VALIDATION_ERROR");
    assertError(await client.put(`/api/v1/jobs/${q}.01ARZ3NDEKTSV4RRFFQ69G5FAV/priority`, { priority: 1 }), 404, "NOT_FOUND");

    const claimed = await claimOne(client, q, third);
    assert.equal(claimed.priority, 50);
    const conflict = await client.put(`/api/v1/jobs/${third}/priority`, { priority: -5 });
    assertError(conflict, 409, "CONFLICT");
    assert.equal((await client.job(third)).priority, 50, "a refused change changed nothing");
    assert.deepEqual((await client.put(`/api/v1/jobs/${second}/priority`, { priority: 9 })).json, { job_id: second, old_priority: 1, new_priority: 9 });
    assert.deepEqual((await client.claim(q, { limit: 10 })).map((j) => j.id), [second, first]);
  });

  test("POST /jobs/ack completes and fails many leased jobs with per-item outcomes; a wrong lease fails only its item", async () => {
    const q = queueName();
    const made = [];
    for (let i = 0; i < 4; i++) made.push(await client.enqueue(q, { payload: i, max_retries: i === 3 ? 0 : 3 }));
    const unknown = `${q}.01ARZ3NDEKTSV4RRFFQ69G5FAV`;
    const jobs = await client.claim(q, { limit: 4 });
    assert.deepEqual(jobs.map((j) => j.id), made);
    const [j0, j1, j2, j3] = jobs;
    const res = await client.post("/api/v1/jobs/ack", {
      queue_name: q,
      acks: [{ id: j0.id, lease_id: j0.lease_id, result: { n: 0 } }, { id: j1.id, lease_id: "0".repeat(32) }, { id: unknown, lease_id: "x" }],
      fails: [{ id: j2.id, lease_id: j2.lease_id, error: "e2", retry_after_secs: 60 }, { id: j3.id, lease_id: j3.lease_id, error: "e3" }],
    });
    assertStatus(res, 200);
    assert.deepEqual(res.json.results.map(({ message, ...r }) => r), [
      { id: j0.id, success: true, status: "completed" },
      { id: j1.id, success: false, code: "LEASE_EXPIRED" },
      { id: unknown, success: false, code: "NOT_FOUND" },
      { id: j2.id, success: true, status: "pending" },
      { id: j3.id, success: true, status: "deadletter" },
    ]);
    assert.deepEqual([res.json.succeeded, res.json.failed], [3, 2]);
    for (const r of res.json.results.filter((r) => !r.success)) assert.equal(typeof r.message, "string");

    const [s0, s1, s2, s3] = await Promise.all(made.map((id) => client.job(id)));
    assert.deepEqual([s0.status, s0.result], ["completed", { n: 0 }]);
    assert.deepEqual([s1.status, s1.lease_expires_at, s1.retry_count], ["processing", j1.lease_expires_at, 0], "the wrong lease changed nothing");
    assert.deepEqual([s2.status, s2.retry_count, s2.last_error], ["pending", 1, "e2"]);
    assert.ok(Date.parse(s2.scheduled_at) > Date.now() + 50_000, "retry_after_secs applied");
    assert.deepEqual([s3.status, s3.retry_count, s3.last_error], ["deadletter", 1, "e3"]);
    assertStatus(await workerOp(client, j1, "complete"), 200);

    const again = await client.post("/api/v1/jobs/ack", { queue_name: q, acks: [{ id: j0.id, lease_id: j0.lease_id }] });
    assert.deepEqual(again.json.results, [{ id: j0.id, success: true, status: "completed" }], "acking twice with the same lease is fine");
    assertError(await client.post("/api/v1/jobs/ack", { acks: [] }), 400, "VALIDATION_ERROR");
    assertError(await client.post("/api/v1/jobs/ack", { queue_name: q, acks: [{ id: j0.id }] }), 400, "VALIDATION_ERROR");
  });
});
