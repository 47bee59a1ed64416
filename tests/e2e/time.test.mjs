// Alarm-driven behaviour: scheduled jobs come due and leases expire on time with no request in
// between that could trigger the transition (GET /jobs/{id} only reads; only the alarm moves
// jobs). The tests run concurrently: each waits on the clock, not on the others.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  RFC3339, assertError, claimOne, eventually, newTenant, queueName, sleepUntil, startWorker, workerOp,
} from "./harness.mjs";

let mf, client;
before(async () => {
  mf = await startWorker();
  client = await newTenant(mf);
});
after(() => mf?.dispose());

/** Polls GET /jobs/{id} until the job has `status`; returns the job and when it was first seen so. */
async function pollUntilStatus(id, status, timeout = 10_000) {
  const job = await eventually(async () => {
    const j = await client.job(id);
    return j.status === status ? j : undefined;
  }, { timeout, interval: 50 });
  return { job, seenAt: Date.now() };
}

const inMs = (ms) => new Date(Date.now() + ms).toISOString();

describe("alarm-driven transitions", { concurrency: true }, () => {
  test("a job scheduled 1.5 s ahead is `scheduled` and not claimable, then turns `pending` on time via the alarm", async () => {
    const q = queueName();
    const at = inMs(1_500);
    const res = await client.post("/api/v1/jobs", { queue_name: q, payload: { s: 1 }, scheduled_at: at });
    assert.equal(res.status, 201, res.text);
    const id = res.json.id;
    const job = await client.job(id);
    assert.equal(job.status, "scheduled");
    assert.equal(Date.parse(job.scheduled_at), Date.parse(at));
    assert.deepEqual(await client.claim(q), [], "a scheduled job is not claimable before its time");

    const { job: due, seenAt } = await pollUntilStatus(id, "pending");
    assert.ok(seenAt >= Date.parse(at), `promoted ${Date.parse(at) - seenAt} ms early`);
    assert.ok(seenAt - Date.parse(at) < 2_000, `promoted ${seenAt - Date.parse(at)} ms late`);
    assert.equal(due.retry_count, 0);
    assert.deepEqual(due.payload, { s: 1 });
    assert.equal((await claimOne(client, q, id)).id, id);
  });

  test("`scheduled_for` (with a +02:00 offset) is accepted as an alias of scheduled_at, and the alarm alone promotes the job", async () => {
    const q = queueName();
    const due = Date.now() + 1_500;
    const at = new Date(due + 2 * 3_600_000).toISOString().replace("Z", "+02:00");
    assert.equal(Date.parse(at), due);
    const res = await client.post("/api/v1/jobs", { queue: q, payload: {}, scheduled_for: at });
    assert.equal(res.status, 201, res.text);
    const job = await client.job(res.json.id);
    assert.equal(job.queue_name, q);
    assert.equal(job.status, "scheduled");
    assert.match(job.scheduled_at, RFC3339, "rendered in UTC");
    assert.equal(Date.parse(job.scheduled_at), due);
    const { seenAt } = await pollUntilStatus(res.json.id, "pending");
    assert.ok(seenAt >= Date.parse(at), "promoted before its time");
  });

  test("a 5 s lease expires with no request: job back to `pending` with retry_count 1; the old lease gets 409 LEASE_EXPIRED", async () => {
    const q = queueName();
    const id = await client.enqueue(q, { payload: { l: 1 } });
    const claimedAt = Date.now();
    const lease = await claimOne(client, q, id, { lease_duration_secs: 5 });
    const deadline = Date.parse(lease.lease_expires_at);
    assert.ok(Math.abs(deadline - claimedAt - 5_000) < 1_000, "lease_expires_at is claim time + 5 s");

    await sleepUntil(claimedAt, 4_000);
    assert.equal((await client.job(id)).status, "processing", "the lease must not end early");

    const { job, seenAt } = await pollUntilStatus(id, "pending");
    assert.ok(seenAt >= deadline, "requeued before the lease ended");
    assert.ok(seenAt - deadline < 2_000, `requeued ${seenAt - deadline} ms after the deadline`);
    assert.equal(job.retry_count, 1);
    assert.equal(typeof job.last_error, "string");
    assert.equal(job.lease_id, null);
    assert.equal(job.lease_expires_at, null);

    assertError(await workerOp(client, lease, "complete", { result: 1 }), 409, "LEASE_EXPIRED");
    assertError(await workerOp(client, lease, "heartbeat", { lease_duration_secs: 5 }), 409, "LEASE_EXPIRED");
    assertError(await workerOp(client, lease, "fail", { error: "late" }), 409, "LEASE_EXPIRED");
    const after = await client.job(id);
    assert.equal(after.status, "pending");
    assert.equal(after.retry_count, 1);

    // The job runs again at once (no backoff after a lease expiry); the stale lease stays fenced off.
    const again = await claimOne(client, q, id);
    assert.equal(again.retry_count, 1);
    assertError(await workerOp(client, lease, "complete"), 409, "LEASE_EXPIRED");
    assert.equal((await workerOp(client, again, "complete")).status, 200);
    assert.equal((await client.job(id)).status, "completed");
  });

  test("a heartbeat at ~3 s extends a 5 s lease: still `processing` past the first deadline, complete works at ~6 s", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const claimedAt = Date.now();
    const lease = await claimOne(client, q, id, { lease_duration_secs: 5 });
    const firstDeadline = Date.parse(lease.lease_expires_at);

    await sleepUntil(claimedAt, 3_000);
    const beat = await workerOp(client, lease, "heartbeat", { lease_duration_secs: 5 });
    assert.equal(beat.status, 200, beat.text);
    assert.equal(beat.json.success, true);
    assert.match(beat.json.lease_expires_at, RFC3339);
    const extended = Date.parse(beat.json.lease_expires_at);
    assert.ok(extended > firstDeadline + 2_000, "heartbeat moves the deadline to now + 5 s");
    assert.equal((await client.job(id)).lease_expires_at, beat.json.lease_expires_at);

    await sleepUntil(firstDeadline, 700);
    const mid = await client.job(id);
    assert.equal(mid.status, "processing", "the extended lease must survive its first deadline");
    assert.equal(mid.retry_count, 0);
    assert.equal(mid.lease_expires_at, beat.json.lease_expires_at, "still the heartbeated lease");

    await sleepUntil(claimedAt, 6_000);
    const done = await workerOp(client, lease, "complete", { result: "ok" });
    assert.equal(done.status, 200, done.text);
    const job = await client.job(id);
    assert.equal(job.status, "completed");
    assert.equal(job.retry_count, 0);
    assert.equal(job.result, "ok");
  });

  test("a lease expiring on a job with max_retries 0 dead-letters it", async () => {
    const q = queueName();
    const id = await client.enqueue(q, { max_retries: 0 });
    const lease = await claimOne(client, q, id, { lease_duration_secs: 5 });
    const { job, seenAt } = await pollUntilStatus(id, "deadletter");
    assert.ok(seenAt >= Date.parse(lease.lease_expires_at), "dead-lettered before the lease ended");
    assert.equal(job.retry_count, 1);
    assert.equal(typeof job.last_error, "string");
    const dlq = await client.get(`/api/v1/jobs/dlq?queue_name=${q}`);
    assert.equal(dlq.status, 200);
    assert.deepEqual(dlq.json.map((j) => j.id), [id]);
    assertError(await workerOp(client, lease, "complete"), 409, "LEASE_EXPIRED");
    assert.deepEqual(await client.claim(q), []);
  });
  test("one queue's alarm chain: scheduled jobs and a lease expiry each happen at their own time, whatever order they were set in", async () => {
    const q = queueName();
    const leased = await client.enqueue(q);
    const lease = await claimOne(client, q, leased, { lease_duration_secs: 5 });
    const late = inMs(2_500);
    const lateId = await client.enqueue(q, { scheduled_at: late });
    const early = inMs(1_000);
    const earlyId = await client.enqueue(q, { scheduled_at: early });
    const order = [[earlyId, early, "pending"], [lateId, late, "pending"], [leased, lease.lease_expires_at, "pending"]];
    for (const [id, at, status] of order) {
      const { seenAt } = await pollUntilStatus(id, status);
      assert.ok(seenAt >= Date.parse(at), `${id} moved before ${at}`);
      assert.ok(seenAt - Date.parse(at) < 2_000, `${id} moved ${seenAt - Date.parse(at)} ms late`);
    }
    assert.equal((await client.job(leased)).retry_count, 1);
  });

  test("times at the epoch itself are due at once and do not stop the queue's alarm", async () => {
    const q = queueName();
    const epoch = "1970-01-01T00:00:00Z";
    const expired = await client.post("/api/v1/jobs", { queue_name: q, payload: {}, expires_at: epoch });
    assert.equal(expired.status, 201, expired.text);
    const due = await client.post("/api/v1/jobs", { queue_name: q, payload: { due: true }, scheduled_at: epoch });
    assert.equal(due.status, 201, due.text);
    await pollUntilStatus(expired.json.id, "cancelled");
    assert.equal((await claimOne(client, q, due.json.id)).id, due.json.id);
    const later = await client.post("/api/v1/jobs", { queue_name: q, payload: {} });
    assert.equal(later.status, 201, later.text);
  });
});
