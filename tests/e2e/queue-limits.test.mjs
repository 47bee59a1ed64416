// A queue's claim rate limit (`rate_limit`, jobs per second across all workers).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { eventually, newTenant, queueName, startWorker } from "./harness.mjs";

let mf, client;
before(async () => {
  mf = await startWorker();
  client = await newTenant(mf);
});
after(() => mf.dispose());

test("a queue with rate_limit 1 hands out one job per second however many are asked for", async () => {
  const queue = queueName("rate");
  const config = await client.put(`/api/v1/queues/${queue}/config`, { rate_limit: 1 });
  assert.equal(config.json.rate_limit, 1);
  const jobs = Array.from({ length: 10 }, (_, i) => ({ payload: { i } }));
  await client.post("/api/v1/jobs/bulk", { queue_name: queue, jobs });
  const started = Date.now();
  assert.equal((await client.claim(queue, { limit: 100 })).length, 1);
  const second = await client.claim(queue, { limit: 100 });
  if (Date.now() - started < 1_000) assert.equal(second.length, 0);
  const third = await eventually(async () => {
    const got = await client.claim(queue, { limit: 100 });
    return got.length > 0 && got;
  }, { timeout: 5_000, interval: 100 });
  assert.equal(third.length, 1);
  assert.ok(Date.now() - started >= 900, "the next token comes a second later");
});

test("removing the rate limit lets claims take every ready job again", async () => {
  const queue = queueName("unrate");
  await client.put(`/api/v1/queues/${queue}/config`, { rate_limit: 1 });
  await client.put(`/api/v1/queues/${queue}/config`, { rate_limit: null });
  const jobs = Array.from({ length: 10 }, (_, i) => ({ payload: { i } }));
  await client.post("/api/v1/jobs/bulk", { queue_name: queue, jobs });
  assert.equal((await client.claim(queue, { limit: 100 })).length, 10);
});

test("times past 2100 are refused before anything is stored", async () => {
  const queue = queueName("far");
  for (const field of ["scheduled_at", "expires_at"]) {
    const res = await client.post("/api/v1/jobs", { queue_name: queue, payload: {}, [field]: "3000-01-01T00:00:00Z" });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.code, "VALIDATION_ERROR");
  }
  assert.equal((await client.get(`/api/v1/jobs/stats?queue_name=${queue}`)).json.total, 0);
  assert.equal((await client.get(`/api/v1/jobs?queue_name=${queue}&q=${"a".repeat(200)}`)).status, 200);
});

test("an unknown HTTP method is 405, not read as GET", async () => {
  const res = await client.request("QUERY", "/api/v1/jobs");
  assert.equal(res.status, 405);
});
