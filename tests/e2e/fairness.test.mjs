// One tenant cannot slow another (issue 11): a tenant has at most QUEUE_LIMIT queues, a read
// across queues reaches at most 100 queue actors (fewer for a key with a lower rate limit) and
// pages on with X-Next-Cursor, a list merges a bounded number of rows, and the rate limit
// counts a request once per queue it reaches.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADMIN_KEY, assertError, assertStatus, createKey, newOrg, queueName, startWorker } from "./harness.mjs";

let mf;
before(async () => {
  mf = await startWorker();
});
after(async () => {
  await mf?.dispose();
});

/** `count` queue names that sort in creation order, each with one job. */
async function queuesWithAJob(client, count) {
  const prefix = queueName("fan");
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((q) => client.enqueue(q)));
  }
  return names;
}

const remaining = (res) => Number(res.headers.get("x-ratelimit-remaining"));

/**
 * What `send()` counted against the key's rate limit: the drop in X-RateLimit-Remaining from a
 * request that counts one (read first) to `send`'s response, in the same one-minute window.
 */
async function cost(client, send) {
  for (;;) {
    const probe = await client.get("/api/v1/jobs/stats?queue_name=probe");
    const res = await send();
    if (probe.headers.get("x-ratelimit-reset") === res.headers.get("x-ratelimit-reset")) {
      return { res, cost: remaining(probe) - remaining(res) };
    }
  }
}

describe("queues per organization", () => {
  test("past QUEUE_LIMIT a command that would create a queue is 429 QUEUE_LIMIT and stores nothing; deleting a queue frees its place", async () => {
    const small = await startWorker({ bindings: { ADMIN_KEY, QUEUE_LIMIT: "3" } });
    try {
      const { client } = await newOrg(small);
      const [q1, q2, q3, q4] = ["a-jobs", "b-config", "c-paused", "d-new"];
      await client.enqueue(q1);
      assertStatus(await client.put(`/api/v1/queues/${q2}/config`, { max_retries: 1 }), 200);
      assertStatus(await client.post(`/api/v1/queues/${q3}/pause`, {}), 200);

      const refused = [
        await client.post("/api/v1/jobs", { queue_name: q4, payload: { x: 1 } }),
        await client.post("/api/v1/jobs/bulk", { queue_name: q4, jobs: [{ payload: 1 }, { payload: 2 }] }),
        await client.put(`/api/v1/queues/${q4}/config`, { max_retries: 1 }),
        await client.post(`/api/v1/queues/${q4}/pause`, {}),
      ];
      for (const res of refused) {
        assertError(res, 429, "QUEUE_LIMIT");
        assert.deepEqual(res.json.details, { resource: "queues", current: 3, limit: 3 });
        assert.match(res.json.message, /QUEUE_LIMIT/);
      }
      // Nothing of the refused queue exists: no jobs, no settings, not in the catalog.
      assert.deepEqual((await client.get("/api/v1/queues")).json.map((q) => q.queue_name), [q1, q2, q3]);
      assert.deepEqual(assertStatus(await client.get(`/api/v1/jobs?queue_name=${q4}`), 200), []);
      assert.equal(assertStatus(await client.get(`/api/v1/jobs/stats?queue_name=${q4}`), 200).total, 0);
      assertError(await client.get(`/api/v1/queues/${q4}`), 404, "NOT_FOUND");
      assert.equal(assertStatus(await client.get("/api/v1/jobs/stats"), 200).total, 1);

      // The queues it has keep working.
      await client.enqueue(q1);
      assertStatus(await client.put(`/api/v1/queues/${q3}/config`, { max_retries: 2 }), 200);
      // Deleting one frees its place.
      assert.equal((await client.delete(`/api/v1/queues/${q2}`)).status, 204);
      await client.enqueue(q4);
      assert.deepEqual((await client.get("/api/v1/queues")).json.map((q) => q.queue_name), [q1, q3, q4]);
      assertError(await client.post("/api/v1/jobs", { queue_name: "e-more", payload: {} }), 429, "QUEUE_LIMIT");
    } finally {
      await small.dispose();
    }
  });
});

describe("reads across queues", () => {
  test("over 105 queues each read reaches 100, counts 100, and X-Next-Cursor pages on to the rest", async (t) => {
    const { client } = await newOrg(mf, "wide");
    const names = await queuesWithAJob(client, 105);

    const first = await cost(client, () => client.get("/api/v1/queues"));
    assert.deepEqual(assertStatus(first.res, 200).map((q) => q.queue_name), names.slice(0, 100));
    assert.equal(first.res.headers.get("x-next-cursor"), names[99]);
    assert.equal(first.cost, 100);
    const rest = await cost(client, () => client.get(`/api/v1/queues?cursor=${first.res.headers.get("x-next-cursor")}`));
    assert.deepEqual(assertStatus(rest.res, 200).map((q) => q.queue_name), names.slice(100));
    assert.equal(rest.res.headers.get("x-next-cursor"), null);
    assert.equal(rest.cost, 5);

    const stats = await cost(client, () => client.get("/api/v1/jobs/stats"));
    assert.equal(assertStatus(stats.res, 200).total, 100);
    assert.equal(stats.cost, 100);
    const cursor = stats.res.headers.get("x-next-cursor");
    assert.equal(cursor, names[99]);
    assert.equal(assertStatus(await client.get(`/api/v1/jobs/stats?cursor=${cursor}`), 200).total, 5);

    const jobs = await cost(client, () => client.get("/api/v1/jobs?limit=100"));
    assert.equal(assertStatus(jobs.res, 200).length, 100);
    assert.ok(jobs.res.json.every((j) => names.slice(0, 100).includes(j.queue_name)));
    assert.equal(jobs.res.headers.get("x-has-more"), "false");
    assert.equal(jobs.res.headers.get("x-next-cursor"), names[99]);
    assert.equal(jobs.cost, 100);
    const later = await client.get(`/api/v1/jobs?limit=100&cursor=${cursor}`);
    assert.deepEqual(assertStatus(later, 200).map((j) => j.queue_name).sort(), names.slice(100));

    // A key confined to some queues pages over those alone, and counts only those.
    const { client: scoped } = await createKey(client, { name: "three", queues: [names[0], names[50], names[104]] });
    const mine = await cost(scoped, () => scoped.get("/api/v1/queues"));
    assert.deepEqual(assertStatus(mine.res, 200).map((q) => q.queue_name), [names[0], names[50], names[104]]);
    assert.equal(mine.res.headers.get("x-next-cursor"), null);
    assert.equal(mine.cost, 3);

    for (const bad of ["", "no%20such", "..%2Fx"]) {
      assertError(await client.get(`/api/v1/jobs/stats?cursor=${bad}`), 400, "VALIDATION_ERROR");
    }
    // Printed, not asserted: what one read over 100 of the 105 queues takes here.
    for (const path of ["/api/v1/jobs/stats", "/api/v1/queues", "/api/v1/jobs?limit=100"]) {
      const start = performance.now();
      assertStatus(await client.get(path), 200);
      t.diagnostic(`${path} over 105 queues: ${(performance.now() - start).toFixed(1)} ms`);
    }
  });

  test("a key's rate limit bounds its fan-out and counts each queue: it exhausts its own budget", async () => {
    const { client: admin } = await newOrg(mf, "limited");
    const names = await queuesWithAJob(admin, 8);
    const { client: five } = await createKey(admin, { name: "five", rate_limit: 5 });
    const stats = await five.get("/api/v1/jobs/stats");
    assert.equal(assertStatus(stats, 200).total, 5);
    assert.equal(stats.headers.get("x-next-cursor"), names[4]);
    assert.equal(stats.headers.get("x-ratelimit-remaining"), "0");
    const next = await five.get(`/api/v1/jobs/stats?cursor=${names[4]}`);
    assertError(next, 429, "RATE_LIMIT_EXCEEDED");
    assert.ok(Number(next.headers.get("retry-after")) >= 1);

    // A fan-out that its remaining budget cannot cover is refused whole, saying what it needs.
    const { client: ten } = await createKey(admin, { name: "ten", rate_limit: 10 });
    for (let i = 0; i < 5; i++) assertStatus(await ten.get(`/api/v1/queues/${names[i]}/stats`), 200);
    const wide = await ten.get("/api/v1/jobs/stats");
    assertError(wide, 429, "RATE_LIMIT_EXCEEDED");
    assert.equal(wide.headers.get("x-ratelimit-remaining"), "4");
    assert.equal(wide.json.details.remaining, 4);
    assert.match(wide.json.message, /4 left; a request counts one per queue it reaches/);
    // What is left still serves single-queue requests; another tenant never noticed.
    assertStatus(await ten.get(`/api/v1/queues/${names[0]}/stats`), 200);
    const { client: bystander } = await newOrg(mf, "bystander");
    assertStatus(await bystander.get("/api/v1/jobs/stats"), 200);
  });

  test("lists over several queues merge a bounded number of rows: deeper offsets are a clear 400", async () => {
    const { client } = await newOrg(mf, "deep");
    const names = await queuesWithAJob(client, 8);
    const deep = await client.get("/api/v1/jobs?limit=100&offset=10000");
    assertError(deep, 400, "VALIDATION_ERROR");
    assert.match(deep.json.message, /over 8 queues, offset \+ limit may be at most 1261/);
    assertError(await client.get("/api/v1/jobs/dlq?limit=100&offset=1162"), 400, "VALIDATION_ERROR");
    assert.deepEqual(assertStatus(await client.get("/api/v1/jobs?limit=100&offset=1161"), 200), []);
    // One queue pages as deep as ever.
    assert.deepEqual(assertStatus(await client.get(`/api/v1/jobs?queue_name=${names[0]}&limit=100&offset=10000`), 200), []);
  });
});
