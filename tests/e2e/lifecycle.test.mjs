// Job lifecycle over the wire: enqueue, read, claim, complete, priority order, claim filters,
// cancel, fail with backoff, dead letters and their replay and purge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  RFC3339, assertError, claimOne, deadLettered, eventually, newOrg, queueName, startWorker, workerOp,
} from "./harness.mjs";

let mf, client, organization;
before(async () => {
  mf = await startWorker();
  ({ client, org: organization } = await newOrg(mf));
});
after(() => mf?.dispose());

/** Every field of Spooled's full `Job` object (spooled-api.md §4.2). */
const FULL_JOB_FIELDS = [
  "id", "organization_id", "queue_name", "status", "payload", "result", "retry_count", "max_retries",
  "last_error", "created_at", "scheduled_at", "started_at", "completed_at", "expires_at", "priority", "tags",
  "timeout_seconds", "parent_job_id", "completion_webhook", "assigned_worker_id", "lease_id",
  "lease_expires_at", "idempotency_key", "updated_at", "workflow_id", "dependency_mode", "dependencies_met",
];

/** Bulk-enqueues one job per priority (in order) and returns their ids. */
async function seedPriorities(q, priorities) {
  const res = await client.post("/api/v1/jobs/bulk", { queue_name: q, jobs: priorities.map((priority, i) => ({ payload: { i }, priority })) });
  assert.equal(res.status, 200, res.text);
  return res.json.succeeded.map((s) => s.job_id);
}

const dlq = async (q) => {
  const res = await client.get(`/api/v1/jobs/dlq?queue_name=${q}`);
  assert.equal(res.status, 200, res.text);
  return res.json;
};

describe("lifecycle", { concurrency: true }, () => {
  test("enqueue → GET full Job → claim with a lease → complete with result → GET shows completed", async () => {
    const q = queueName();
    const res = await client.post("/api/v1/jobs", { queue_name: q, payload: { to: "a@b.c", n: [1, 2] }, priority: 7, max_retries: 2, tags: ["x"] });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.created, true);
    assert.equal(typeof res.json.id, "string");
    const id = res.json.id;

    const job = await client.job(id);
    for (const field of FULL_JOB_FIELDS) assert.ok(field in job, `GET /jobs/{id} lacks ${field}`);
    assert.equal(job.id, id);
    assert.equal(job.organization_id, organization.id);
    assert.equal(job.queue_name, q);
    assert.equal(job.status, "pending");
    assert.deepEqual(job.payload, { to: "a@b.c", n: [1, 2] });
    assert.equal(job.result, null);
    assert.equal(job.retry_count, 0);
    assert.equal(job.max_retries, 2);
    assert.equal(job.priority, 7);
    assert.deepEqual(job.tags, ["x"]);
    assert.equal(job.timeout_seconds, 300);
    assert.match(job.created_at, RFC3339);
    assert.match(job.updated_at, RFC3339);
    assert.ok(Math.abs(Date.parse(job.created_at) - Date.now()) < 5_000, "created_at is not now");
    for (const f of ["scheduled_at", "started_at", "completed_at", "lease_id", "lease_expires_at", "last_error"]) {
      assert.equal(job[f], null, f);
    }

    const claimed = await client.post("/api/v1/jobs/claim", { queue_name: q, worker_id: "w1" });
    assert.equal(claimed.status, 200, claimed.text);
    assert.deepEqual(Object.keys(claimed.json), ["jobs"]);
    assert.equal(claimed.json.jobs.length, 1);
    const c = claimed.json.jobs[0];
    assert.equal(c.id, id);
    assert.equal(c.queue_name, q);
    assert.deepEqual(c.payload, { to: "a@b.c", n: [1, 2] });
    assert.equal(c.retry_count, 0);
    assert.equal(c.max_retries, 2);
    assert.equal(typeof c.lease_id, "string");
    assert.ok(c.lease_id.length > 0);
    assert.match(c.lease_expires_at, RFC3339);
    const leaseLeft = Date.parse(c.lease_expires_at) - Date.now();
    assert.ok(leaseLeft > 25_000 && leaseLeft <= 30_000, `default lease is 30 s, ${leaseLeft} ms left`);

    const processing = await client.job(id);
    assert.equal(processing.status, "processing");
    assert.equal(processing.lease_id, null, "only the claimer sees the lease id");
    assert.equal(processing.lease_expires_at, c.lease_expires_at);
    assert.equal(processing.assigned_worker_id, "w1");
    assert.match(processing.started_at, RFC3339);
    assert.deepEqual(await client.claim(q), [], "a leased job is not claimable again");

    const done = await workerOp(client, c, "complete", { result: { sent: true, at: [3] } });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json.success, true);

    const completed = await client.job(id);
    assert.equal(completed.status, "completed");
    assert.deepEqual(completed.result, { sent: true, at: [3] });
    assert.match(completed.completed_at, RFC3339);
    assert.equal(completed.lease_expires_at, null);
    assert.deepEqual(completed.payload, { to: "a@b.c", n: [1, 2] });
  });

  test("claims run in priority order (highest first), FIFO within a priority, across several claims", async () => {
    const q = queueName();
    const priorities = [0, 5, -3, 5, 10, 0, -3, 10, 0, 5];
    const ids = [];
    for (const [i, priority] of priorities.entries()) ids.push(await client.enqueue(q, { payload: { i }, priority }));
    const expected = ids.map((id, i) => ({ id, i, p: priorities[i] })).sort((a, b) => b.p - a.p || a.i - b.i).map((x) => x.id);
    const first = await client.claim(q, { limit: 4 });
    const rest = await client.claim(q, { limit: 10 });
    assert.deepEqual([...first, ...rest].map((j) => j.id), expected);
    assert.deepEqual([...first, ...rest].map((j) => j.priority), [...priorities].sort((a, b) => b - a));
    assert.deepEqual(await client.claim(q, { limit: 10 }), []);
  });

  for (const [filter, wanted] of [
    [{ gte: 5 }, [10, 5]], [{ gt: 5 }, [10]], [{ lte: 0 }, [0, -5]], [{ lt: 0 }, [-5]], [{ eq: 5 }, [5]], [{ gt: 0, lt: 10 }, [5]],
  ]) {
    test(`claim filter priority ${JSON.stringify(filter)} takes only priorities ${wanted}`, async () => {
      const q = queueName();
      await seedPriorities(q, [-5, 0, 5, 10]);
      const jobs = await client.claim(q, { limit: 10, filter: { priority: filter } });
      assert.deepEqual(jobs.map((j) => j.priority), wanted);
      const left = await client.claim(q, { limit: 10 });
      assert.equal(left.length + jobs.length, 4, "filtered-out jobs stay claimable");
    });
  }

  test("cancel: pending and scheduled → 204 cancelled and never claimed; processing, completed, cancelled → 409 CONFLICT", async () => {
    const q = queueName();
    const pending = await client.enqueue(q);
    const scheduled = await client.enqueue(q, { scheduled_at: new Date(Date.now() + 60_000).toISOString() });
    for (const id of [pending, scheduled]) {
      const res = await client.delete(`/api/v1/jobs/${id}`);
      assert.equal(res.status, 204, res.text);
      assert.equal(res.text, "");
      const job = await client.job(id);
      assert.equal(job.status, "cancelled");
      assert.match(job.completed_at, RFC3339);
    }
    assert.deepEqual(await client.claim(q, { limit: 10 }), []);
    assertError(await client.delete(`/api/v1/jobs/${pending}`), 409, "CONFLICT");

    const running = await client.enqueue(q);
    const job = await claimOne(client, q, running);
    assertError(await client.delete(`/api/v1/jobs/${running}`), 409, "CONFLICT");
    assert.equal((await client.job(running)).status, "processing");
    assert.equal((await workerOp(client, job, "complete")).status, 200);
    assertError(await client.delete(`/api/v1/jobs/${running}`), 409, "CONFLICT");
    assert.equal((await client.job(running)).status, "completed");
  });

  test("fail backs off 1 s then 2 s (pending, not claimable meanwhile), then dead-letters; DLQ lists it; retry replays it to completion", async () => {
    const q = queueName();
    const id = await client.enqueue(q, { max_retries: 2, payload: { k: 1 } });
    let job = await claimOne(client, q, id);
    for (const [attempt, backoff] of [[1, 1_000], [2, 2_000]]) {
      const failedAt = Date.now();
      const fail = await workerOp(client, job, "fail", { error: `down ${attempt}` });
      const answeredAt = Date.now();
      assert.equal(fail.status, 200, fail.text);
      assert.equal(fail.json.success, true);
      assert.equal(fail.json.status, "pending");
      assert.equal(fail.json.retry_count, attempt);

      const retrying = await client.job(id);
      assert.equal(retrying.status, "pending");
      assert.equal(retrying.retry_count, attempt);
      assert.equal(retrying.last_error, `down ${attempt}`);
      assert.equal(retrying.lease_id, null);
      assert.equal(retrying.scheduled_at, fail.json.retry_at);
      // The server read its clock between failedAt and answeredAt.
      const retryAt = Date.parse(retrying.scheduled_at);
      assert.ok(retryAt - failedAt >= backoff && retryAt - answeredAt <= backoff * 1.1,
        `backoff ${attempt} should be ${backoff} ms + ≤10 % jitter, was ${retryAt - failedAt}…${retryAt - answeredAt} ms`);
      // A claim answered before the retry time must come back empty (on a loaded machine
      // the answer may come later, and then it proves nothing).
      const early = await client.claim(q);
      if (Date.now() < retryAt) assert.deepEqual(early, [], "not claimable during the backoff");
      else if (early.length) job = early[0];

      job = early.length ? job : await eventually(async () => (await client.claim(q))[0], { interval: 100 });
      assert.equal(job.id, id);
      assert.equal(job.retry_count, attempt);
      assert.ok(Date.now() >= Date.parse(retrying.scheduled_at) - 50, "claimed before its retry time");
    }

    const last = await workerOp(client, job, "fail", { error: "still down" });
    assert.equal(last.status, 200, last.text);
    assert.equal(last.json.status, "deadletter");
    assert.equal(last.json.retry_count, 3);
    const dead = await client.job(id);
    assert.equal(dead.status, "deadletter");
    assert.equal(dead.retry_count, 3, "a job runs at most max_retries + 1 times");
    assert.equal(dead.last_error, "still down");
    assert.deepEqual(await client.claim(q), []);

    const listed = await dlq(q);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].id, id);
    assert.equal(listed[0].status, "deadletter");
    assert.equal(listed[0].queue_name, q);
    assert.equal(listed[0].retry_count, 3);

    const replay = await client.post(`/api/v1/jobs/${id}/retry`);
    assert.equal(replay.status, 200, replay.text);
    for (const field of FULL_JOB_FIELDS) assert.ok(field in replay.json, `retry reply lacks ${field}`);
    assert.equal(replay.json.id, id);
    assert.equal(replay.json.status, "pending");
    assert.equal(replay.json.last_error, null);
    assert.deepEqual(replay.json.payload, { k: 1 });
    assert.deepEqual(await dlq(q), []);
    assertError(await client.post(`/api/v1/jobs/${id}/retry`), 409, "CONFLICT");

    const again = await claimOne(client, q, id);
    assert.equal((await workerOp(client, again, "complete", { result: 1 })).status, 200);
    assert.equal((await client.job(id)).status, "completed");
  });

  test("max_retries 0 dead-letters on the first failure", async () => {
    const q = queueName();
    const id = await deadLettered(client, q);
    const job = await client.job(id);
    assert.equal(job.status, "deadletter");
    assert.equal(job.retry_count, 1);
    assert.equal(job.max_retries, 0);
    assert.deepEqual((await dlq(q)).map((j) => j.id), [id]);
  });

  test("fail with retry_after_secs 0 makes the job claimable again immediately", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const job = await claimOne(client, q, id);
    const res = await workerOp(client, job, "fail", { error: "transient", retry_after_secs: 0 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, "pending");
    const again = await claimOne(client, q, id);
    assert.equal(again.retry_count, 1);
    assert.notEqual(again.lease_id, job.lease_id, "a new claim gets a new lease");
  });

  test("DLQ retry by queue_name replays every dead letter of the queue", async () => {
    const q = queueName();
    const ids = [await deadLettered(client, q), await deadLettered(client, q), await deadLettered(client, q)];
    const res = await client.post("/api/v1/jobs/dlq/retry", { queue_name: q });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.retried_count, 3);
    assert.deepEqual([...res.json.retried_jobs].sort(), [...ids].sort());
    assert.deepEqual(await dlq(q), []);
    for (const id of ids) {
      const job = await client.job(id);
      assert.equal(job.status, "pending");
      assert.equal(job.retry_count, 0);
    }
    assert.deepEqual((await client.claim(q, { limit: 10 })).map((j) => j.id).sort(), [...ids].sort());
  });

  test("DLQ retry by job_ids replays only the named dead letters, across queues", async () => {
    const [q, other] = [queueName(), queueName()];
    const ids = [await deadLettered(client, q), await deadLettered(client, q), await deadLettered(client, q)];
    const elsewhere = await deadLettered(client, other);
    const res = await client.post("/api/v1/jobs/dlq/retry", { job_ids: [ids[0], ids[2], elsewhere] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.retried_count, 3);
    assert.deepEqual([...res.json.retried_jobs].sort(), [ids[0], ids[2], elsewhere].sort());
    assert.equal((await client.job(elsewhere)).status, "pending");
    assert.equal((await client.job(ids[0])).status, "pending");
    assert.equal((await client.job(ids[1])).status, "deadletter");
    assert.equal((await client.job(ids[2])).status, "pending");
    assert.deepEqual((await dlq(q)).map((j) => j.id), [ids[1]]);
  });

  test("DLQ purge needs confirm:true (400 without, nothing deleted) and then deletes the dead letters", async () => {
    const q = queueName();
    const ids = [await deadLettered(client, q), await deadLettered(client, q)];
    const live = await client.enqueue(q);
    for (const body of [{ queue_name: q }, { queue_name: q, confirm: false }]) {
      assertError(await client.post("/api/v1/jobs/dlq/purge", body), 400, "BAD_REQUEST");
    }
    assert.equal((await dlq(q)).length, 2, "a refused purge deletes nothing");

    const res = await client.post("/api/v1/jobs/dlq/purge", { queue_name: q, confirm: true });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.purged_count, 2);
    assert.deepEqual(await dlq(q), []);
    for (const id of ids) assertError(await client.get(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
    assert.equal((await client.job(live)).status, "pending", "purge leaves live jobs alone");
  });

  test("a job that is not dead-lettered cannot be retried (409) and stays as it was", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    assertError(await client.post(`/api/v1/jobs/${id}/retry`), 409, "CONFLICT");
    assert.equal((await client.job(id)).status, "pending");
  });
  test("payload and result round-trip exactly (big integers, number spelling, escapes, non-ASCII)", async () => {
    const q = queueName();
    const payload = '{"big":12345678901234567890123,"f":1.50,"e":1e5,"s":"a\\"b\\u00e9😀","n":[null,true,{}]}';
    const res = await client.post("/api/v1/jobs", `{"queue_name":"${q}","payload":${payload}}`);
    assert.equal(res.status, 201, res.text);
    const id = res.json.id;
    assert.ok((await client.get(`/api/v1/jobs/${id}`)).text.includes(`"payload":${payload},`), "GET altered the payload");
    const claim = await client.post("/api/v1/jobs/claim", { queue_name: q, worker_id: "w1" });
    assert.ok(claim.text.includes(`"payload":${payload},`), "claim altered the payload");
    const lease_id = claim.json.jobs[0].lease_id;
    const result = '[9007199254740993,-0.0]';
    const done = await client.post(`/api/v1/jobs/${id}/complete`, `{"lease_id":"${lease_id}","result":${result}}`);
    assert.equal(done.status, 200, done.text);
    assert.ok((await client.get(`/api/v1/jobs/${id}`)).text.includes(`"result":${result},`), "the result was altered");
  });

  test("scheduled_at in the past enqueues a pending, immediately claimable job", async () => {
    const q = queueName();
    const at = new Date(Date.now() - 60_000).toISOString();
    const id = await client.enqueue(q, { scheduled_at: at });
    const job = await client.job(id);
    assert.equal(job.status, "pending");
    assert.equal(job.scheduled_at, at);
    await claimOne(client, q, id);
  });
  test("worker ops are fenced by lease_id: a wrong lease → 409 LEASE_EXPIRED; a repeated complete is a no-op success, with another result 409 ALREADY_COMPLETED", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const job = await claimOne(client, q, id);
    const forged = { ...job, lease_id: "0".repeat(32) };
    assertError(await workerOp(client, forged, "complete", { result: "forged" }), 409, "LEASE_EXPIRED");
    assertError(await workerOp(client, forged, "fail", { error: "forged" }), 409, "LEASE_EXPIRED");
    assertError(await workerOp(client, forged, "heartbeat", {}), 409, "LEASE_EXPIRED");
    assert.equal((await client.job(id)).status, "processing");

    assert.equal((await workerOp(client, job, "complete", { result: "first" })).status, 200);
    const again = await workerOp(client, job, "complete", { result: "first" });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.success, true);
    assertError(await workerOp(client, job, "complete", { result: "second" }), 409, "ALREADY_COMPLETED");
    assert.equal((await client.job(id)).result, "first", "a repeated complete changes nothing");
    assertError(await workerOp(client, job, "fail", { error: "late" }), 409, "LEASE_EXPIRED");
    assertError(await workerOp(client, job, "heartbeat", {}), 409, "LEASE_EXPIRED");
    assert.equal((await client.job(id)).status, "completed");
  });

  test("the DLQ lists newest first and pages with limit and offset", async () => {
    const q = queueName();
    const ids = [await deadLettered(client, q), await deadLettered(client, q), await deadLettered(client, q)];
    const page = async (query) => (await client.get(`/api/v1/jobs/dlq?queue_name=${q}&${query}`)).json.map((j) => j.id);
    assert.deepEqual(await page("limit=2"), [ids[2], ids[1]]);
    assert.deepEqual(await page("limit=2&offset=2"), [ids[0]]);
    assert.deepEqual((await dlq(q)).map((j) => j.id), [...ids].reverse());
  });
});
