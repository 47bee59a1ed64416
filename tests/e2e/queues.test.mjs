// Queues (issue 4): settings that enqueue, claim, fail and the alarm really apply; pause and
// resume; the queue list, queue stats and queue deletion.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  RFC3339, assertError, assertStatus, assertTimeWithin, claimOne, completed, deadLettered, eventually, newOrg, queueName,
  startWorker, workerOp,
} from "./harness.mjs";

let mf, client, org;
before(async () => {
  mf = await startWorker();
  ({ client, org } = await newOrg(mf, "queues"));
});
after(() => mf?.dispose());

const configure = (q, body) => client.put(`/api/v1/queues/${q}/config`, body);

describe("queue configuration", () => {
  test("PUT /queues/{name}/config → 200 with the config; GET /queues/{name} shows it; absent fields are kept", async () => {
    const q = queueName();
    const body = {
      max_retries: 5, default_timeout: 120, lease_duration_secs: 45, backoff_base_secs: 2, backoff_cap_secs: 10,
      retention_secs: 3600, settings: { team: "billing" },
    };
    const put = await configure(q, body);
    assertStatus(put, 200);
    const expected = {
      ...body, id: q, queue_name: q, organization_id: org.id, rate_limit: null, enabled: true, paused_at: null, paused_reason: null,
    };
    for (const [field, value] of Object.entries(expected)) assert.deepEqual(put.json[field], value, field);
    assert.match(put.json.created_at, RFC3339);
    assert.match(put.json.updated_at, RFC3339);
    const get = await client.get(`/api/v1/queues/${q}`);
    assertStatus(get, 200);
    assert.deepEqual(get.json, put.json);

    const second = await configure(q, { max_retries: 7 });
    assertStatus(second, 200);
    assert.deepEqual({ ...second.json, updated_at: null }, { ...put.json, max_retries: 7, updated_at: null });
    assert.equal(second.json.created_at, put.json.created_at);

    for (const bad of [{ max_retries: 101 }, { lease_duration_secs: 4 }, { retention_secs: 0 }, { backoff_base_secs: 5, backoff_cap_secs: 1 }, { queue_name: "other" }, { settings: [1] }]) {
      assertError(await configure(q, bad), 400, "VALIDATION_ERROR");
    }
    assert.equal((await client.get(`/api/v1/queues/${q}`)).json.max_retries, 7, "a rejected config changed nothing");
    assertError(await client.get(`/api/v1/queues/${queueName("never")}`), 404, "NOT_FOUND");
  });

  test("a queue known only through its jobs answers GET /queues/{name} with real timestamps: its first job's", async () => {
    const q = queueName();
    const first = await client.job(await client.enqueue(q));
    await client.enqueue(q);
    const get = await client.get(`/api/v1/queues/${q}`);
    assertStatus(get, 200);
    assert.equal(get.json.queue_name, q);
    assert.equal(get.json.created_at, first.created_at);
    assert.equal(get.json.updated_at, first.created_at, "settings never changed since the queue appeared");
    const listed = (await client.get("/api/v1/queues")).json.find((row) => row.queue_name === q);
    assert.ok(listed, "the queue is listed");

    // Its first setting keeps the queue's creation time and dates only the change.
    const put = await configure(q, { max_retries: 2 });
    assertStatus(put, 200);
    assert.equal(put.json.created_at, first.created_at);
    assert.ok(put.json.updated_at >= first.created_at);
    assert.deepEqual((await client.get(`/api/v1/queues/${q}`)).json, put.json);
  });

  test("max_retries and default_timeout become the defaults of new jobs; a job's own values win", async () => {
    const q = queueName();
    const before = await client.job(await client.enqueue(q));
    assert.deepEqual([before.max_retries, before.timeout_seconds], [3, 300], "built-in defaults");
    assertStatus(await configure(q, { max_retries: 1, default_timeout: 42 }), 200);
    const id = await client.enqueue(q);
    const job = await client.job(id);
    assert.deepEqual([job.max_retries, job.timeout_seconds], [1, 42]);
    const own = await client.job(await client.enqueue(q, { max_retries: 9, timeout_seconds: 7 }));
    assert.deepEqual([own.max_retries, own.timeout_seconds], [9, 7]);
    assert.equal((await client.job(before.id)).max_retries, 3, "existing jobs keep their values");

    const bulk = await client.post("/api/v1/jobs/bulk", { queue_name: q, jobs: [{ payload: 1 }] });
    assertStatus(bulk, 200);
    const fromBulk = await client.job(bulk.json.succeeded[0].job_id);
    assert.deepEqual([fromBulk.max_retries, fromBulk.timeout_seconds], [1, 42]);

    // max_retries 1: two attempts, then the dead-letter queue.
    await claimOne(client, q, before.id);
    const claimed = await claimOne(client, q, id, { lease_duration_secs: 5 });
    assert.deepEqual([claimed.max_retries, claimed.timeout_seconds], [1, 42]);
    const first = await workerOp(client, claimed, "fail", { error: "e1", retry_after_secs: 0 });
    assert.deepEqual([first.json.status, first.json.retry_count], ["pending", 1]);
    const again = await claimOne(client, q, id);
    const second = await workerOp(client, again, "fail", { error: "e2" });
    assert.deepEqual([second.json.status, second.json.retry_count], ["deadletter", 2]);
  });

  test("lease_duration_secs is the lease of claims that name none", async () => {
    const q = queueName();
    assertStatus(await configure(q, { lease_duration_secs: 90 }), 200);
    await client.enqueue(q);
    await client.enqueue(q);
    const t0 = Date.now();
    const job = await claimOne(client, q);
    assertTimeWithin(job.lease_expires_at, t0 + 90_000, Date.now() + 90_000, "lease_expires_at");
    const t1 = Date.now();
    const own = await claimOne(client, q, undefined, { lease_duration_secs: 10 });
    assertTimeWithin(own.lease_expires_at, t1 + 10_000, Date.now() + 10_000, "explicit lease");
    // A heartbeat without a length extends by the length the job was claimed with.
    const t2 = Date.now();
    const beat = await workerOp(client, job, "heartbeat");
    assertStatus(beat, 200);
    assertTimeWithin(beat.json.lease_expires_at, t2 + 90_000, Date.now() + 90_000, "heartbeat");
  });

  test("backoff_base_secs and backoff_cap_secs shape the retry delay after fail", async () => {
    const q = queueName();
    assertStatus(await configure(q, { backoff_base_secs: 0.5, backoff_cap_secs: 0.8, max_retries: 5 }), 200);
    const id = await client.enqueue(q);
    let job = await claimOne(client, q, id);
    const t0 = Date.now();
    const first = await workerOp(client, job, "fail", { error: "e1" });
    const t1 = Date.now();
    assertStatus(first, 200);
    assertTimeWithin(first.json.retry_at, t0 + 500, t1 + 550, "first retry_at (base 0.5 s + ≤10 %)");
    assert.equal((await client.job(id)).scheduled_at, first.json.retry_at);
    assert.deepEqual(await client.claim(q), [], "not claimable during the delay");

    job = await eventually(async () => (await client.claim(q))[0]);
    const t2 = Date.now();
    const second = await workerOp(client, job, "fail", { error: "e2" });
    assertTimeWithin(second.json.retry_at, t2 + 800, Date.now() + 880, "second retry_at (2 × base, capped at 0.8 s)");
  });

  test("retention_secs: 1 → a completed job is deleted by the alarm within seconds, with no write in between", async () => {
    const q = queueName();
    assertStatus(await configure(q, { retention_secs: 1 }), 200);
    const id = await completed(client, q);
    const cancelled = await client.enqueue(q);
    assert.equal((await client.delete(`/api/v1/jobs/${cancelled}`)).status, 204);
    const doneAt = Date.now();
    assert.equal((await client.job(id)).status, "completed");
    await eventually(async () => (await client.get(`/api/v1/jobs/${id}`)).status === 404, { timeout: 5_000 });
    assert.ok(Date.now() - doneAt >= 900, "deleted before its retention ended");
    assertError(await client.get(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
    await eventually(async () => (await client.get(`/api/v1/jobs/${cancelled}`)).status === 404, { timeout: 5_000 });
  });

  test("lowering retention_secs also prunes jobs that completed before the change", async () => {
    const q = queueName();
    const id = await completed(client, q);
    assertStatus(await configure(q, { retention_secs: 1 }), 200);
    await eventually(async () => (await client.get(`/api/v1/jobs/${id}`)).status === 404, { timeout: 5_000 });
  });
});

describe("pause and resume", () => {
  test("pause → claims return {jobs:[]} while enqueue still works; resume → claims work again", async () => {
    const q = queueName();
    const early = await client.enqueue(q);
    const pause = await client.post(`/api/v1/queues/${q}/pause`, { reason: "deploy" });
    assertStatus(pause, 200);
    for (const field of ["paused", "paused_at", "queue_name", "reason"]) assert.ok(field in pause.json, `pause reply lacks ${field}`);
    assert.deepEqual([pause.json.queue_name, pause.json.paused, pause.json.reason], [q, true, "deploy"]);
    assert.match(pause.json.paused_at, RFC3339);

    const late = await client.post("/api/v1/jobs", { queue_name: q, payload: "while paused" });
    assertStatus(late, 201);
    const claim = await client.post("/api/v1/jobs/claim", { queue_name: q, limit: 10 });
    assertStatus(claim, 200);
    assert.deepEqual(claim.json, { jobs: [] });
    const config = (await client.get(`/api/v1/queues/${q}`)).json;
    assert.deepEqual([config.enabled, config.paused_at, config.paused_reason], [false, pause.json.paused_at, "deploy"]);
    assert.equal((await client.job(early)).status, "pending");

    const again = await client.post(`/api/v1/queues/${q}/pause`);
    assert.equal(again.json.paused_at, pause.json.paused_at, "pausing twice keeps the first pause time");

    const resume = await client.post(`/api/v1/queues/${q}/resume`);
    assertStatus(resume, 200);
    for (const field of ["paused_duration_secs", "queue_name", "resumed"]) assert.ok(field in resume.json, `resume reply lacks ${field}`);
    assert.deepEqual([resume.json.queue_name, resume.json.resumed], [q, true]);
    assert.ok(Number.isInteger(resume.json.paused_duration_secs) && resume.json.paused_duration_secs >= 0);
    const after = (await client.get(`/api/v1/queues/${q}`)).json;
    assert.deepEqual([after.enabled, after.paused_at, after.paused_reason], [true, null, null]);
    assert.deepEqual((await client.claim(q, { limit: 10 })).map((j) => j.id), [early, late.json.id]);
  });

  test("config enabled:false pauses claims and enabled:true resumes them", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const off = await configure(q, { enabled: false });
    assert.equal(off.json.enabled, false);
    assert.match(off.json.paused_at, RFC3339);
    assert.deepEqual(await client.claim(q), []);
    assert.equal((await configure(q, { enabled: true })).json.enabled, true);
    await claimOne(client, q, id);
  });
});

describe("queue listing, stats and deletion", () => {
  test("GET /queues lists exactly the tenant's queues, by name, with their settings", async () => {
    const { client: t } = await newOrg(mf, "lister");
    const { client: other } = await newOrg(mf, "other");
    assert.deepEqual((await t.get("/api/v1/queues")).json, []);
    const [qa, qb, qc] = [queueName("a"), queueName("b"), queueName("c")];
    await t.enqueue(qb);
    assertStatus(await t.put(`/api/v1/queues/${qa}/config`, { max_retries: 8, default_timeout: 60 }), 200);
    assertStatus(await t.post(`/api/v1/queues/${qc}/pause`), 200);
    await other.enqueue(queueName("foreign"));
    const list = await t.get("/api/v1/queues");
    assertStatus(list, 200);
    assert.deepEqual(list.json, [
      { queue_name: qa, max_retries: 8, default_timeout: 60, rate_limit: null, enabled: true },
      { queue_name: qb, max_retries: 3, default_timeout: 300, rate_limit: null, enabled: true },
      { queue_name: qc, max_retries: 3, default_timeout: 300, rate_limit: null, enabled: false },
    ]);
  });

  test("resuming or deleting a never-used queue is 404 and creates nothing", async () => {
    const q = queueName("unused");
    assertStatus(await client.post(`/api/v1/queues/${q}/resume`), 404);
    assertStatus(await client.delete(`/api/v1/queues/${q}`), 404);
    assertStatus(await client.get(`/api/v1/queues/${q}`), 404);
    assert.ok(!(await client.get("/api/v1/queues")).json.some((x) => x.queue_name === q));
  });

  test("GET /queues/{name}/stats → Spooled's QueueStats shape with the right counts", async () => {
    const q = queueName();
    await completed(client, q);
    await deadLettered(client, q);
    const processing = await client.enqueue(q, { priority: 9 });
    await claimOne(client, q, processing, { worker_id: "w-stats" });
    await client.enqueue(q);
    await client.enqueue(q, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    const res = await client.get(`/api/v1/queues/${q}/stats`);
    assertStatus(res, 200);
    const s = res.json;
    for (const field of [
      "active_workers", "avg_processing_time_ms", "completed_jobs_24h", "failed_jobs_24h", "max_job_age_seconds",
      "pending_jobs", "processing_jobs", "queue_name",
    ]) assert.ok(field in s, `QueueStats lacks ${field}: ${res.text}`);
    assert.deepEqual(
      [s.queue_name, s.pending_jobs, s.processing_jobs, s.completed_jobs_24h, s.failed_jobs_24h, s.active_workers],
      [q, 2, 1, 1, 1, 1],
    );
    assert.ok(typeof s.avg_processing_time_ms === "number" && s.avg_processing_time_ms >= 0, `avg ${s.avg_processing_time_ms}`);
    assert.ok(Number.isInteger(s.max_job_age_seconds) && s.max_job_age_seconds >= 0 && s.max_job_age_seconds < 60);
    const tally = (await client.get(`/api/v1/jobs/stats?queue_name=${q}`)).json;
    assert.deepEqual([tally.pending, tally.scheduled, tally.processing, tally.completed, tally.deadletter, tally.total], [1, 1, 1, 1, 1, 5]);
  });

  test("DELETE /queues/{name} → 409 while jobs are live, 204 once none are; then 404 and gone from the list", async () => {
    const q = queueName();
    const done = await completed(client, q);
    const dead = await deadLettered(client, q);
    const pending = await client.enqueue(q);
    assertStatus(await configure(q, { max_retries: 9 }), 200);
    assertError(await client.delete(`/api/v1/queues/${q}`), 409, "CONFLICT");
    const job = await claimOne(client, q, pending);
    assertError(await client.delete(`/api/v1/queues/${q}`), 409, "CONFLICT");
    assert.equal((await client.job(pending)).status, "processing", "a refused delete changed nothing");
    assert.ok((await client.get("/api/v1/queues")).json.some((x) => x.queue_name === q));

    assertStatus(await workerOp(client, job, "complete"), 200);
    const del = await client.delete(`/api/v1/queues/${q}`);
    assert.equal(del.status, 204, del.text);
    assertError(await client.get(`/api/v1/queues/${q}`), 404, "NOT_FOUND");
    assert.ok(!(await client.get("/api/v1/queues")).json.some((x) => x.queue_name === q), "still listed");
    for (const id of [done, dead, pending]) assertError(await client.get(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
    assert.equal((await client.get(`/api/v1/jobs/stats?queue_name=${q}`)).json.total, 0);

    // The name can be used again, with fresh settings, and is listed again.
    const fresh = await client.job(await client.enqueue(q));
    assert.equal(fresh.max_retries, 3);
    assert.ok((await client.get("/api/v1/queues")).json.some((x) => x.queue_name === q), "re-created queue not listed");
  });
});
