// Workers and long polling (issue 4): registration (upsert by client-chosen id), heartbeats,
// deregistration releasing the worker's leases, and claims that wait for a job.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RFC3339, assertError, assertStatus, claimOne, newOrg, queueName, startWorker, workerOp } from "./harness.mjs";

let mf, client;
before(async () => {
  mf = await startWorker();
  ({ client } = await newOrg(mf, "workers"));
});
after(() => mf?.dispose());

const register = (body) => client.post("/api/v1/workers/register", { hostname: "box-1", ...body });
const claimReq = (q, fields = {}) => client.post("/api/v1/jobs/claim", { queue_name: q, worker_id: "poller", ...fields });
const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

describe("worker registry", () => {
  test("POST /workers/register → 201 {id, queue_name, lease_duration_secs, heartbeat_interval_secs}; the lease is the queue's default", async () => {
    const q = queueName();
    const res = await register({ queue_name: q });
    assertStatus(res, 201);
    for (const field of ["heartbeat_interval_secs", "id", "lease_duration_secs", "queue_name"]) assert.ok(field in res.json, `reply lacks ${field}`);
    assert.match(res.json.id, /^wkr_[0-9a-z]+$/);
    assert.deepEqual([res.json.queue_name, res.json.lease_duration_secs, res.json.heartbeat_interval_secs], [q, 30, 10]);

    const configured = queueName();
    assertStatus(await client.put(`/api/v1/queues/${configured}/config`, { lease_duration_secs: 45 }), 200);
    const other = await register({ queue: configured, worker_type: "nodejs", max_concurrency: 3 });
    assertStatus(other, 201);
    assert.equal(other.json.lease_duration_secs, 45);
    assert.notEqual(other.json.id, res.json.id);

    for (const bad of [{ queue_name: q, hostname: undefined }, { hostname: "h" }, { queue_name: q, worker_id: "a/b" }, { queue_name: q, max_concurrency: 0 }, { queue_name: "bad name" }]) {
      assertError(await client.post("/api/v1/workers/register", { hostname: "h", ...bad }), 400, "VALIDATION_ERROR");
    }
  });

  test("a client-chosen worker_id registered twice upserts: same id, one entry, the new details", async () => {
    const q = queueName();
    const id = `w-${q}`;
    const first = await register({ queue_name: q, worker_id: id, version: "1.0" });
    assertStatus(first, 201);
    assert.equal(first.json.id, id);
    const second = await register({ queue_name: q, worker_id: id, hostname: "box-2", version: "2.0", metadata: { zone: "eu" } });
    assertStatus(second, 201);
    assert.equal(second.json.id, id);
    const list = await client.get("/api/v1/workers");
    assertStatus(list, 200);
    const mine = list.json.filter((w) => w.id === id);
    assert.equal(mine.length, 1);
    assert.deepEqual([mine[0].hostname, mine[0].version, mine[0].status], ["box-2", "2.0", "healthy"]);
    // The list leaves metadata out; the worker itself carries it.
    assert.equal(mine[0].metadata, undefined);
    assert.deepEqual((await client.get(`/api/v1/workers/${id}`)).json.metadata, { zone: "eu" });
  });

  test("heartbeat → 200; GET /workers/{id} shows the worker and its last beat; unknown workers → 404", async () => {
    const q = queueName();
    const { id } = (await register({ queue_name: q, worker_type: "python", max_concurrency: 4 })).json;
    const before = (await client.get(`/api/v1/workers/${id}`)).json;
    const beat = await client.post(`/api/v1/workers/${id}/heartbeat`, { current_jobs: 2, status: "draining", metadata: { load: 0.5 } });
    assertStatus(beat, 200);
    assert.deepEqual(beat.json, { acknowledged: true, next_heartbeat_seconds: 10 });
    assertStatus(await client.post(`/api/v1/workers/${id}/heartbeat`), 200);

    const got = await client.get(`/api/v1/workers/${id}`);
    assertStatus(got, 200);
    const w = got.json;
    assert.deepEqual(
      [w.id, w.queue_name, w.queue_names, w.hostname, w.worker_type, w.max_concurrency, w.metadata],
      [id, q, [q], "box-1", "python", 4, { load: 0.5 }],
    );
    assert.deepEqual([w.status, w.current_jobs], ["healthy", 0], "the bare heartbeat reports healthy with no jobs");
    for (const field of ["last_heartbeat", "registered_at", "updated_at"]) assert.match(w[field], RFC3339, field);
    assert.ok(w.last_heartbeat >= before.last_heartbeat);
    assert.equal(w.registered_at, before.registered_at);
    assertError(await client.post(`/api/v1/workers/${id}/heartbeat`, { status: "sleepy" }), 400, "VALIDATION_ERROR");

    for (const res of [
      await client.get("/api/v1/workers/wkr_nobody"),
      await client.post("/api/v1/workers/wkr_nobody/heartbeat", {}),
      await client.post("/api/v1/workers/wkr_nobody/deregister"),
    ]) assertError(res, 404, "NOT_FOUND");
  });

  test("deregister → 204; the worker's leased jobs are pending again at once, other workers' leases stay", async () => {
    const q = queueName();
    const { id } = (await register({ queue_name: q })).json;
    const mine = [await client.enqueue(q), await client.enqueue(q)];
    const theirs = await client.enqueue(q);
    const leased = await client.claim(q, { worker_id: id, limit: 2, lease_duration_secs: 300 });
    assert.deepEqual(leased.map((j) => j.id), mine);
    const other = await claimOne(client, q, theirs, { worker_id: "someone-else" });

    const res = await client.post(`/api/v1/workers/${id}/deregister`);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, "");
    for (const jobId of mine) {
      const job = await client.job(jobId);
      assert.deepEqual([job.status, job.retry_count, job.lease_id, job.lease_expires_at], ["pending", 0, null, null]);
    }
    assert.equal((await client.job(theirs)).status, "processing");
    assertError(await workerOp(client, leased[0], "complete"), 409, "LEASE_EXPIRED");
    assertStatus(await workerOp(client, other, "complete"), 200);
    assert.deepEqual((await client.claim(q, { limit: 10 })).map((j) => j.id), mine, "released jobs are claimable");

    assertError(await client.get(`/api/v1/workers/${id}`), 404, "NOT_FOUND");
    assert.ok(!(await client.get("/api/v1/workers")).json.some((w) => w.id === id));
    assertError(await client.post(`/api/v1/workers/${id}/deregister`), 404, "NOT_FOUND");
  });
});

describe("long-poll claim", () => {
  test("a claim waiting on an empty queue returns the job within 1 s of an enqueue made 300 ms after it started", async () => {
    const q = queueName();
    const started = Date.now();
    const pending = claimReq(q, { wait_secs: 5 });
    await sleepUntil(started + 300);
    const enqueuedAt = Date.now();
    const id = await client.enqueue(q, { payload: "wake" });
    const res = await pending;
    const elapsed = Date.now() - enqueuedAt;
    assertStatus(res, 200);
    assert.deepEqual(res.json.jobs.map((j) => [j.id, j.payload]), [[id, "wake"]]);
    assert.match(res.json.jobs[0].lease_id, /^[0-9a-f]{32}$/);
    assert.ok(elapsed < 1_000, `claim returned ${elapsed} ms after the enqueue`);
    assert.equal((await client.job(id)).status, "processing");
  });

  test("a claim with wait_secs 1 on an empty queue returns {jobs: []} at its deadline", async () => {
    const q = queueName();
    const started = Date.now();
    const res = await claimReq(q, { wait_secs: 1 });
    const elapsed = Date.now() - started;
    assertStatus(res, 200);
    assert.deepEqual(res.json, { jobs: [] });
    assert.ok(elapsed >= 900 && elapsed < 3_000, `returned after ${elapsed} ms`);
    const quick = Date.now();
    assert.deepEqual((await claimReq(q, { wait_secs: 0 })).json, { jobs: [] });
    assert.ok(Date.now() - quick < 900, "wait_secs 0 answers at once");
  });

  test("a claim waiting on a paused queue returns no job even when one is enqueued; a resume wakes a waiting claim", async () => {
    const q = queueName();
    assertStatus(await client.post(`/api/v1/queues/${q}/pause`), 200);
    const started = Date.now();
    const pending = claimReq(q, { wait_secs: 2 });
    await sleepUntil(started + 300);
    const id = await client.enqueue(q);
    const res = await pending;
    assertStatus(res, 200);
    assert.deepEqual(res.json, { jobs: [] });
    assert.ok(Date.now() - started >= 1_900, "returned before its deadline");
    assert.equal((await client.job(id)).status, "pending");

    const again = Date.now();
    const waiting = claimReq(q, { wait_secs: 5 });
    await sleepUntil(again + 300);
    const resumedAt = Date.now();
    assertStatus(await client.post(`/api/v1/queues/${q}/resume`), 200);
    const woken = await waiting;
    assert.deepEqual(woken.json.jobs.map((j) => j.id), [id]);
    assert.ok(Date.now() - resumedAt < 1_000, `claim returned ${Date.now() - resumedAt} ms after the resume`);
  });

  test("the alarm wakes a waiting claim when a scheduled job comes due", async () => {
    const q = queueName();
    const due = Date.now() + 1_000;
    const id = await client.enqueue(q, { scheduled_at: new Date(due).toISOString() });
    const res = await claimReq(q, { wait_secs: 5 });
    const returned = Date.now();
    assert.deepEqual(res.json.jobs.map((j) => j.id), [id]);
    assert.ok(returned >= due - 50 && returned - due < 1_000, `returned ${returned - due} ms after the job came due`);
  });

  test("two waiting claims and one job: exactly one gets it; the next enqueue goes to the other", async () => {
    const q = queueName();
    const started = Date.now();
    const claims = [claimReq(q, { wait_secs: 5, worker_id: "p1" }), claimReq(q, { wait_secs: 5, worker_id: "p2" })];
    await sleepUntil(started + 300);
    const first = await client.enqueue(q);
    const winner = await Promise.race(claims.map((c, i) => c.then(() => i)));
    await sleepUntil(Date.now() + 200);
    const second = await client.enqueue(q);
    const results = await Promise.all(claims);
    assert.deepEqual(results.map((r) => r.json.jobs.length), [1, 1]);
    assert.equal(results[winner].json.jobs[0].id, first);
    assert.equal(results[1 - winner].json.jobs[0].id, second);
    assert.ok(Date.now() - started < 2_500, "the second claim waited for its deadline instead of being woken");
  });

  test("wait_secs outside 0–20 → 400 VALIDATION_ERROR", async () => {
    const q = queueName();
    for (const wait_secs of [21, -1, "5", 1.5]) {
      const res = await claimReq(q, { wait_secs });
      assertError(res, 400, "VALIDATION_ERROR");
    }
    assert.equal((await claimReq(q, { wait_secs: 21 })).json.details?.[0]?.field, "wait_secs");
  });
});
