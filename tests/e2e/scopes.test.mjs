// Issue 11, "scopes hold everywhere" and its smaller items: a key never reaches past its
// scope through workers or the keys it makes, the lease id stays the claimer's, a repeated
// complete cannot drop a result, merged queue settings are checked, stored JSON decodes
// everywhere, and the worker registry is bounded and paged.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  ADMIN_KEY, assertError, assertStatus, claimOne, createKey, newOrg, queueName, startWorker, workerOp,
} from "./harness.mjs";

let mf;
before(async () => {
  mf = await startWorker();
});
after(() => mf?.dispose());

const register = (client, body) => client.post("/api/v1/workers/register", { hostname: "box", ...body });
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

describe("workers stay on their queue", () => {
  test("a key scoped to qx cannot take over qy's worker: 409 naming nothing, the worker and its lease stay", async () => {
    const { client: admin } = await newOrg(mf);
    const [qx, qy] = [queueName("qx"), queueName("qy")];
    const { client: scoped } = await createKey(admin, { name: "x only", queues: [qx] });
    const wid = `wy-${qy}`;
    assertStatus(await register(admin, { queue_name: qy, worker_id: wid, metadata: { owner: "y" } }), 201);
    const id = await admin.enqueue(qy);
    await claimOne(admin, qy, id, { worker_id: wid });

    const takeover = await register(scoped, { queue_name: qx, worker_id: wid });
    assertError(takeover, 409, "CONFLICT");
    assert.ok(!takeover.text.includes(qy) && !takeover.text.includes(wid), `the refusal reveals too much: ${takeover.text}`);
    const kept = assertStatus(await admin.get(`/api/v1/workers/${wid}`), 200);
    assert.deepEqual([kept.queue_name, kept.metadata, kept.hostname], [qy, { owner: "y" }, "box"]);
    assertError(await scoped.post(`/api/v1/workers/${wid}/deregister`), 404, "NOT_FOUND");

    // The owner's deregistration still releases the lease on qy.
    assert.equal((await admin.post(`/api/v1/workers/${wid}/deregister`)).status, 204);
    const released = await admin.job(id);
    assert.deepEqual([released.status, released.assigned_worker_id], ["pending", null]);
  });

  test("a worker id registered again on its own queue upserts; onto another queue it is refused for every key", async () => {
    const { client: admin } = await newOrg(mf);
    const [q1, q2] = [queueName(), queueName()];
    assertStatus(await register(admin, { queue_name: q1, worker_id: "stable" }), 201);
    assertStatus(await register(admin, { queue_name: q1, worker_id: "stable", hostname: "box-2" }), 201);
    assertError(await register(admin, { queue_name: q2, worker_id: "stable" }), 409, "CONFLICT");
    assert.equal((await admin.get("/api/v1/workers/stable")).json.queue_name, q1);
    assert.equal((await admin.post("/api/v1/workers/stable/deregister")).status, 204);
    assertStatus(await register(admin, { queue_name: q2, worker_id: "stable" }), 201);
  });
});

describe("keys never grant more than they have", () => {
  test("queues: [] is refused on create and update, the scope stays; no queues means [\"*\"]", async () => {
    const { client: admin, keyId } = await newOrg(mf);
    const qx = queueName("qx");
    const { created, client: scoped } = await createKey(admin, { name: "x", queues: [qx] });
    assertError(await admin.put(`/api/v1/api-keys/${created.id}`, { queues: [] }), 400, "VALIDATION_ERROR");
    assert.deepEqual((await admin.get(`/api/v1/api-keys/${created.id}`)).json.queues, [qx]);
    assertError(await scoped.post("/api/v1/jobs", { queue_name: queueName(), payload: 1 }), 403, "ACCESS_DENIED");
    assertError(await admin.post("/api/v1/api-keys", { name: "none", queues: [] }), 400, "VALIDATION_ERROR");
    const { created: every } = await createKey(admin, { name: "every" });
    assert.deepEqual(every.queues, ["*"]);
    assert.deepEqual((await admin.get(`/api/v1/api-keys/${keyId}`)).json.queues, ["*"], "the first key reaches every queue");
  });

  test("a key with rate_limit 3 creates keys of at most 3/min, and cannot revoke a wider key", async () => {
    const { client: admin, keyId } = await newOrg(mf);
    const { client: limited } = await createKey(admin, { name: "slow", rate_limit: 3 });
    // Three requests: the key's whole minute.
    const child = await limited.post("/api/v1/api-keys", { name: "child" });
    assertStatus(child, 201);
    assert.equal(child.json.rate_limit, 3, "what the request leaves open is the creator's own limit");
    assertError(await limited.post("/api/v1/api-keys", { name: "faster", rate_limit: 10 }), 403, "ACCESS_DENIED");
    assertError(await limited.delete(`/api/v1/api-keys/${keyId}`), 403, "ACCESS_DENIED");
    assert.equal((await admin.get(`/api/v1/api-keys/${child.json.id}`)).json.rate_limit, 3);
    assert.equal((await admin.get("/api/v1/api-keys")).json.length, 3, "the refused key was not created");
  });

  test("a key that expires creates keys that expire no later, and cannot lift another key's limit", async () => {
    const { client: admin } = await newOrg(mf);
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const { client: mortal } = await createKey(admin, { name: "mortal", expires_at: expires });
    const { created: limited } = await createKey(admin, { name: "limited", rate_limit: 50 });
    const child = assertStatus(await mortal.post("/api/v1/api-keys", { name: "child" }), 201);
    assert.equal(Date.parse(child.expires_at), Date.parse(expires));
    const later = new Date(Date.now() + 7_200_000).toISOString();
    assertError(await mortal.post("/api/v1/api-keys", { name: "later", expires_at: later }), 403, "ACCESS_DENIED");
    assertError(await mortal.put(`/api/v1/api-keys/${limited.id}`, { rate_limit: null }), 403, "ACCESS_DENIED");
    assertError(await mortal.put(`/api/v1/api-keys/${limited.id}`, { name: "renamed" }), 403, "ACCESS_DENIED");
    const unchanged = (await admin.get(`/api/v1/api-keys/${limited.id}`)).json;
    assert.deepEqual([unchanged.name, unchanged.rate_limit], ["limited", 50]);
  });

  test("expires_at past 2100 is refused naming the bound, not as \"in the past\"", async () => {
    const { client: admin } = await newOrg(mf);
    const res = await admin.post("/api/v1/api-keys", { name: "far", expires_at: "2100-12-31T23:59:59Z" });
    assertError(res, 400, "VALIDATION_ERROR");
    assert.match(res.json.message, /2100-01-01T00:00:00Z/);
    assert.doesNotMatch(res.json.message, /future/);
    const job = await admin.post("/api/v1/jobs", { queue_name: queueName(), payload: 1, expires_at: "2100-12-31T23:59:59Z" });
    assertError(job, 400, "VALIDATION_ERROR");
    assert.match(job.json.message, /2100-01-01T00:00:00Z/);
  });
});

describe("the lease id is the claimer's", () => {
  test("GET /jobs/{id}, lists and batch status never show it; require_lease_id refuses worker_id alone", async () => {
    const { client } = await newOrg(mf);
    const q = queueName();
    const id = await client.enqueue(q);
    const job = await claimOne(client, q, id, { worker_id: "w1" });
    for (const path of [`/api/v1/jobs/${id}`, `/api/v1/jobs?queue_name=${q}`, `/api/v1/jobs/status?ids=${id}`, "/api/v1/jobs"]) {
      const res = await client.get(path);
      assertStatus(res, 200);
      assert.ok(!res.text.includes(job.lease_id), `${path} shows the lease id`);
    }
    assert.equal((await client.job(id)).lease_id, null);

    // By default worker_id alone still fences (Spooled's clients); the queue can refuse it.
    assertStatus(await client.post(`/api/v1/jobs/${id}/heartbeat`, { worker_id: "w1" }), 200);
    const config = assertStatus(await client.put(`/api/v1/queues/${q}/config`, { require_lease_id: true }), 200);
    assert.equal(config.require_lease_id, true);
    assert.equal((await client.get(`/api/v1/queues/${q}`)).json.require_lease_id, true);
    for (const [op, body] of [["heartbeat", {}], ["fail", { error: "x" }], ["complete", { result: 1 }]]) {
      const refused = await client.post(`/api/v1/jobs/${id}/${op}`, { worker_id: "w1", ...body });
      assertError(refused, 400, "VALIDATION_ERROR");
      assert.match(refused.json.message, /require_lease_id/);
    }
    const after = await client.job(id);
    assert.deepEqual([after.status, after.retry_count, after.result], ["processing", 0, null]);
    assertStatus(await workerOp(client, job, "complete", { worker_id: "w1", result: 2 }), 200);
  });
});

describe("a repeated complete keeps its result", () => {
  test("the same result (any layout) or none → 200; another result → 409 ALREADY_COMPLETED with the stored digest", async () => {
    const { client } = await newOrg(mf);
    const q = queueName();
    const id = await client.enqueue(q);
    const job = await claimOne(client, q, id);
    const done = await client.post(`/api/v1/jobs/${id}/complete`, `{"lease_id":"${job.lease_id}","result":{"n": [1, 2]}}`);
    assertStatus(done, 200);
    assertStatus(await client.post(`/api/v1/jobs/${id}/complete`, `{"lease_id":"${job.lease_id}","result":{"n":[1,2]}}`), 200);
    assertStatus(await workerOp(client, job, "complete"), 200);
    const other = await workerOp(client, job, "complete", { result: { n: [2, 1] } });
    assertError(other, 409, "ALREADY_COMPLETED");
    assert.equal(other.json.details.result_sha256, sha256('{"n":[1,2]}'));
    assert.deepEqual((await client.job(id)).result, { n: [1, 2] });
  });

  test("a result over 256 KiB (stored in a row of its own) is compared the same way", async () => {
    const { client } = await newOrg(mf);
    const q = queueName();
    const id = await client.enqueue(q);
    const job = await claimOne(client, q, id);
    const big = "a".repeat(300 * 1024);
    assertStatus(await workerOp(client, job, "complete", { result: big }), 200);
    assertStatus(await workerOp(client, job, "complete", { result: big }), 200);
    const other = await workerOp(client, job, "complete", { result: `${big}b` });
    assertError(other, 409, "ALREADY_COMPLETED");
    assert.equal(other.json.details.result_sha256, sha256(JSON.stringify(big)));
  });
});

describe("queue settings are checked merged", () => {
  test("backoff_base_secs above the stored cap → 400 that stores nothing, on a new and on a configured queue", async () => {
    const { client } = await newOrg(mf);
    const fresh = queueName();
    const res = await client.put(`/api/v1/queues/${fresh}/config`, { backoff_base_secs: 100 });
    assertError(res, 400, "VALIDATION_ERROR");
    assert.match(res.json.message, /backoff_cap_secs \(60(\.0)? s/);
    assertError(await client.get(`/api/v1/queues/${fresh}`), 404, "NOT_FOUND");
    assert.ok(!(await client.get("/api/v1/queues")).json.some((c) => c.queue_name === fresh), "the refused queue is listed");

    const q = queueName();
    const before = assertStatus(await client.put(`/api/v1/queues/${q}/config`, { backoff_cap_secs: 30 }), 200);
    assertError(await client.put(`/api/v1/queues/${q}/config`, { backoff_base_secs: 31, max_retries: 9 }), 400, "VALIDATION_ERROR");
    assertError(await client.put(`/api/v1/queues/${q}/config`, { backoff_cap_secs: 0.5 }), 400, "VALIDATION_ERROR");
    assert.deepEqual((await client.get(`/api/v1/queues/${q}`)).json, before, "nothing changed");
    assertStatus(await client.put(`/api/v1/queues/${q}/config`, { backoff_base_secs: 100, backoff_cap_secs: 200 }), 200);
  });
});

describe("stored JSON decodes everywhere", () => {
  const lone = '{"s":"\\ud800"}';
  test("lone surrogates and numbers beyond a double are refused at enqueue, bulk, tags and complete; nothing is stored", async () => {
    const { client } = await newOrg(mf);
    const q = queueName();
    for (const payload of [lone, '"x\\udc00"', '{"n":1e400}', "[-2E+308]"]) {
      const res = await client.post("/api/v1/jobs", `{"queue_name":"${q}","payload":${payload}}`);
      assertError(res, 400, "VALIDATION_ERROR");
      assert.match(res.json.message, /^payload: /);
    }
    assertError(await client.post("/api/v1/jobs", `{"queue_name":"${q}","payload":1,"tags":["\\udfff"]}`), 400, "VALIDATION_ERROR");
    const bulk = await client.post("/api/v1/jobs/bulk", `{"queue_name":"${q}","jobs":[{"payload":1},{"payload":${lone}}]}`);
    assertError(bulk, 400, "VALIDATION_ERROR");
    assert.match(bulk.json.message, /jobs\[1\]\.payload/);
    assert.deepEqual((await client.get(`/api/v1/jobs?queue_name=${q}`)).json, [], "nothing was stored");

    // A real pair, big integers and tiny numbers are fine and come back byte for byte.
    const fine = '{"e":"\\ud83d\\ude00","big":123456789012345678901234567890,"tiny":1e-400}';
    const id = (await client.post("/api/v1/jobs", `{"queue_name":"${q}","payload":${fine}}`)).json.id;
    const claimed = await client.post("/api/v1/jobs/claim", { queue_name: q, worker_id: "w" });
    assert.ok(claimed.text.includes(`"payload":${fine}`), claimed.text);
    const lease_id = claimed.json.jobs[0].lease_id;
    for (const result of [lone, "1e999"]) {
      const res = await client.post(`/api/v1/jobs/${id}/complete`, `{"lease_id":"${lease_id}","result":${result}}`);
      assertError(res, 400, "VALIDATION_ERROR");
      assert.match(res.json.message, /^result: /);
    }
    const ack = await client.post("/api/v1/jobs/ack", `{"queue_name":"${q}","acks":[{"id":"${id}","lease_id":"${lease_id}","result":${lone}}]}`);
    assertError(ack, 400, "VALIDATION_ERROR");
    assert.equal((await client.job(id)).status, "processing");
  });
});

describe("the worker registry is bounded and paged", () => {
  test("GET /workers pages by id (default 100, X-Has-More), leaves metadata out, and keeps to the key's queues", async () => {
    const { client: admin } = await newOrg(mf);
    const [qa, qb] = [queueName("a"), queueName("b")];
    const metadata = { blob: "m".repeat(16 * 1024 - 20) };
    const ids = Array.from({ length: 120 }, (_, i) => `w${String(i).padStart(3, "0")}`);
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(ids.slice(i, i + 20).map((worker_id, j) =>
        register(admin, { queue_name: (i + j) % 2 ? qb : qa, worker_id, metadata }).then((r) => assertStatus(r, 201))));
    }
    const first = await admin.get("/api/v1/workers");
    assertStatus(first, 200);
    assert.equal(first.json.length, 100);
    assert.equal(first.headers.get("x-has-more"), "true");
    assert.deepEqual(first.json.map((w) => w.id), ids.slice(0, 100));
    assert.ok(first.json.every((w) => !("metadata" in w)));
    assert.ok(first.text.length < 60_000, `the page is ${first.text.length} bytes`);
    const rest = await admin.get("/api/v1/workers?limit=50&offset=100");
    assert.deepEqual([rest.json.map((w) => w.id), rest.headers.get("x-has-more")], [ids.slice(100), "false"]);
    assert.equal((await admin.get(`/api/v1/workers/${ids[0]}`)).json.metadata.blob, metadata.blob);
    for (const bad of ["limit=0", "limit=101", "offset=-1"]) assertError(await admin.get(`/api/v1/workers?${bad}`), 400, "VALIDATION_ERROR");

    const { client: scoped } = await createKey(admin, { name: "a only", queues: [qa] });
    const mine = await scoped.get("/api/v1/workers?limit=100");
    assert.deepEqual(mine.json.map((w) => w.id), ids.filter((_, i) => i % 2 === 0));
    assert.equal(mine.headers.get("x-has-more"), "false");
    const tooBig = await register(admin, { queue_name: qa, metadata: { blob: "m".repeat(16 * 1024) } });
    assertError(tooBig, 400, "VALIDATION_ERROR");
    assert.match(tooBig.json.message, /16 KiB/);
  });

  test("past WORKER_LIMIT a new worker replaces an offline one, else 429 WORKER_LIMIT; re-registering still works", async () => {
    const small = await startWorker({ bindings: { ADMIN_KEY, WORKER_LIMIT: "3" } });
    try {
      const { client } = await newOrg(small);
      const q = queueName();
      for (const worker_id of ["a", "b", "c"]) assertStatus(await register(client, { queue_name: q, worker_id }), 201);
      const full = await register(client, { queue_name: q, worker_id: "d" });
      assertError(full, 429, "WORKER_LIMIT");
      assert.deepEqual(full.json.details, { resource: "workers", current: 3, limit: 3 });
      assertError(await register(client, { queue_name: q }), 429, "WORKER_LIMIT");
      assertStatus(await register(client, { queue_name: q, worker_id: "a", hostname: "again" }), 201);
      assertStatus(await client.post("/api/v1/workers/b/heartbeat", { status: "offline" }), 200);
      assertStatus(await register(client, { queue_name: q, worker_id: "d" }), 201);
      assert.deepEqual((await client.get("/api/v1/workers")).json.map((w) => w.id), ["a", "c", "d"]);
    } finally {
      await small.dispose();
    }
  });
});
