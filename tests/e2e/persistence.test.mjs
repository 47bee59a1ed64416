// Durability across a restart: state written by one Miniflare survives into a new one on the
// same storage directory — API keys (verified from storage, the isolate cache being gone),
// every job's state, and the alarm that promotes a scheduled job.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client, assertError, claimOne, eventually, newTenant, queueName, startWorker, workerOp } from "./harness.mjs";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgespool-e2e-"));
const SCHEDULE_AHEAD_MS = 2_000;
let mf;
/** What the first instance wrote: the key, job ids, snapshots, and the scheduled time. */
const seeded = {};

before(async () => {
  const first = await startWorker({ durableObjectsPersist: dir });
  try {
    const client = await newTenant(first, "durable");
    const q = queueName();
    const later = queueName("sched");
    seeded.key = client.key;
    seeded.queue = q;

    seeded.completed = await client.enqueue(q, { payload: { kind: "completed" } });
    const done = await claimOne(client, q, seeded.completed);
    assert.equal((await workerOp(client, done, "complete", { result: { ok: 1 } })).status, 200);

    seeded.claimed = await client.enqueue(q, { payload: { kind: "claimed" }, max_retries: 4 });
    seeded.lease = await claimOne(client, q, seeded.claimed, { lease_duration_secs: 600 });

    seeded.pending = await client.enqueue(q, { payload: { kind: "pending", big: "x".repeat(10_000) }, priority: 3, idempotency_key: "p-1" });

    seeded.at = new Date(Date.now() + SCHEDULE_AHEAD_MS).toISOString();
    seeded.scheduled = await client.enqueue(later, { payload: { kind: "scheduled" }, scheduled_at: seeded.at });

    seeded.snapshots = {};
    for (const id of [seeded.completed, seeded.claimed, seeded.pending, seeded.scheduled]) seeded.snapshots[id] = await client.job(id);
    assert.equal(seeded.snapshots[seeded.scheduled].status, "scheduled");
  } finally {
    await first.dispose();
  }
  mf = await startWorker({ durableObjectsPersist: dir });
});

after(async () => {
  await mf?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("after a restart on the same storage", () => {
  test("the API key still authenticates (verified from storage), and a wrong key still does not", async () => {
    const client = new Client(mf, seeded.key);
    const res = await client.get(`/api/v1/jobs/${seeded.pending}`);
    assert.equal(res.status, 200, res.text);
    const wrong = new Client(mf, seeded.key.slice(0, -1) + (seeded.key.endsWith("a") ? "b" : "a"));
    assertError(await wrong.get(`/api/v1/jobs/${seeded.pending}`), 401, "UNAUTHORIZED");
  });

  test("the scheduled job becomes pending on time, driven only by the persisted alarm (GET polling only)", async (t) => {
    const client = new Client(mf, seeded.key);
    const due = Date.parse(seeded.at);
    const first = await client.job(seeded.scheduled);
    if (Date.now() < due - 100) assert.equal(first.status, "scheduled", "promoted before its time");
    else t.diagnostic(`the restart took until ${Date.now() - due} ms after the due time`);
    const job = await eventually(async () => {
      const j = await client.job(seeded.scheduled);
      return j.status === "pending" ? j : undefined;
    }, { timeout: SCHEDULE_AHEAD_MS + 5_000 });
    const seenAt = Date.now();
    assert.ok(seenAt >= due, "promoted early");
    assert.ok(seenAt - due < 2_000, `promoted ${seenAt - due} ms after its time`);
    assert.deepEqual(job.payload, { kind: "scheduled" });
  });

  test("every job keeps its state, payload, result and lease", async () => {
    const client = new Client(mf, seeded.key);
    for (const id of [seeded.completed, seeded.claimed, seeded.pending]) {
      assert.deepEqual(await client.job(id), seeded.snapshots[id], `job ${id} changed across the restart`);
    }
    const scheduled = await client.job(seeded.scheduled);
    const { status: _s, updated_at: _u, ...rest } = scheduled;
    const { status: _s0, updated_at: _u0, ...before } = seeded.snapshots[seeded.scheduled];
    assert.deepEqual(rest, before);
  });

  test("the restarted queue keeps working: idempotency key held, pending job claimable, old lease completes", async () => {
    const client = new Client(mf, seeded.key);
    const q = seeded.queue;
    const dup = await client.post("/api/v1/jobs", { queue_name: q, payload: "again", idempotency_key: "p-1" });
    assert.equal(dup.status, 200, dup.text);
    assert.deepEqual(dup.json, { id: seeded.pending, created: false });

    const jobs = await client.claim(q, { limit: 10 });
    assert.deepEqual(jobs.map((j) => j.id), [seeded.pending], "only the pending job is claimable");
    assert.equal(jobs[0].payload.big.length, 10_000);

    const done = await workerOp(client, seeded.lease, "complete", { result: "after restart" });
    assert.equal(done.status, 200, done.text);
    const claimed = await client.job(seeded.claimed);
    assert.equal(claimed.status, "completed");
    assert.equal(claimed.result, "after restart");
  });
});
