// Reliability under faults the runtime itself can produce: an alarm that throws midway
// (rolled back, then retried by the runtime), and storage that returns to its baseline once
// a burst of finished jobs has been pruned.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_KEY, BENCH_ENV, eventually, newTenant, queueName, startWorker } from "./harness.mjs";

describe("an alarm that fails midway", () => {
  let mf, client;
  before(async () => {
    // Every queue actor's first alarm throws after doing its work. Fault injection exists
    // only in the bench build.
    mf = await startWorker({ env: BENCH_ENV, bindings: { ADMIN_KEY, FAULT_ALARM: "once" } });
    client = await newTenant(mf);
  });
  after(() => mf.dispose());

  test("is rolled back whole and the runtime's retry finishes the work exactly once", async () => {
    const queue = queueName("fault");
    const id = await client.enqueue(queue, { max_retries: 3 });
    const [job] = await client.claim(queue, { lease_duration_secs: 5 });
    assert.equal(job.id, id);
    const deadline = Date.parse(job.lease_expires_at);
    const seen = await eventually(async () => {
      const now = await client.job(id);
      return now.status !== "processing" && now;
    }, { timeout: 30_000, interval: 100 });
    // The failed run's lease expiry was rolled back, so the attempt is counted once, by the
    // retried run, and the job is claimable again.
    assert.equal(seen.status, "pending");
    assert.equal(seen.retry_count, 1);
    const lag = Date.now() - deadline;
    console.log(`lease expiry handled ${lag} ms after its deadline (first alarm failed, retried)`);
    // Without the fault the alarm ends the lease within milliseconds; the runtime waits about
    // two seconds before retrying a failed alarm, so a short lag means no fault was injected.
    assert.ok(lag >= 1_000, `expected the retried alarm, got lag ${lag} ms`);
    const [again] = await client.claim(queue);
    assert.equal(again.id, id);
  });

  test("still promotes a scheduled job once the retried alarm runs", async () => {
    const queue = queueName("fault-sched");
    const id = await client.enqueue(queue, { scheduled_at: new Date(Date.now() + 1_000).toISOString() });
    const job = await eventually(async () => {
      const now = await client.job(id);
      return now.status === "pending" && now;
    }, { timeout: 30_000, interval: 100 });
    assert.equal(job.retry_count, 0);
  });
});

describe("bounded storage", () => {
  let mf, client;
  before(async () => {
    mf = await startWorker();
    client = await newTenant(mf);
  });
  after(() => mf.dispose());

  test("retention pruning brings rows and database size back to baseline after a burst", async () => {
    const queue = queueName("burst");
    // Finished jobs are kept for an hour during the burst, so the peak is exact however slow
    // the machine; shortening the retention afterwards re-arms the alarm to prune them.
    await client.put(`/api/v1/queues/${queue}/config`, { retention_secs: 3600 });
    const stats = async () => (await client.get(`/api/v1/queues/${queue}/stats`)).json;
    const baseline = await stats();
    for (let batch = 0; batch < 5; batch++) {
      const jobs = Array.from({ length: 100 }, (_, i) => ({ payload: { pad: "x".repeat(500), i } }));
      assert.equal((await client.post("/api/v1/jobs/bulk", { queue_name: queue, jobs })).status, 200);
      const claimed = await client.claim(queue, { limit: 100 });
      const acks = claimed.map((j) => ({ id: j.id, lease_id: j.lease_id }));
      const acked = await client.post("/api/v1/jobs/ack", { queue_name: queue, acks });
      assert.equal(acked.json.succeeded, 100);
    }
    const peak = await stats();
    assert.equal(peak.total_jobs, 500);
    assert.ok(peak.database_bytes > baseline.database_bytes * 3, `peak ${peak.database_bytes}`);
    await client.put(`/api/v1/queues/${queue}/config`, { retention_secs: 1 });
    const settled = await eventually(async () => {
      const now = await stats();
      return now.total_jobs === 0 && now;
    }, { timeout: 15_000, interval: 200 });
    console.log(`storage: baseline=${baseline.database_bytes} peak=${peak.database_bytes} after=${settled.database_bytes}`);
    assert.ok(settled.database_bytes <= baseline.database_bytes + 16 * 1024, `after ${settled.database_bytes}`);
  });

  test("a full queue answers 429 QUEUE_FULL and stores nothing", async () => {
    const queue = queueName("full");
    await client.put(`/api/v1/queues/${queue}/config`, { max_jobs: 3 });
    for (let i = 0; i < 3; i++) await client.enqueue(queue);
    const refused = await client.post("/api/v1/jobs", { queue_name: queue, payload: {} });
    assert.equal(refused.status, 429);
    assert.equal(refused.json.code, "QUEUE_FULL");
    const bulk = await client.post("/api/v1/jobs/bulk", { queue_name: queue, jobs: [{ payload: 1 }] });
    assert.equal(bulk.status, 429);
    assert.equal((await client.get(`/api/v1/jobs/stats?queue_name=${queue}`)).json.total, 3);
  });
});
