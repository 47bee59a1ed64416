// Security (issue 3): API key management, revocation, queue-scoped keys, per-key rate limits,
// hostile inputs that must be refused with 4xx and store nothing, and the admin key.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN_KEY, Client, RFC3339, assertError, assertStatus, claimOne, createKey, newOrg, queueName, rawRequest, startWorker,
} from "./harness.mjs";

let mf, anon;
before(async () => {
  mf = await startWorker();
  anon = new Client(mf);
});
after(() => mf?.dispose());

const MiB = 1024 * 1024;
const KEY_FIELDS = ["created_at", "expires_at", "id", "is_active", "key_prefix", "last_used", "name", "queues", "rate_limit"];

describe("API key management", () => {
  test("POST /api-keys → 201 with the raw key shown once; GET lists and reads keys without any secret", async () => {
    const { client: admin, keyId: defaultId } = await newOrg(mf);
    const res = await admin.post("/api/v1/api-keys", { name: "ci", queues: ["alpha"], rate_limit: 100 });
    assertStatus(res, 201);
    const { id, key, name, created_at, expires_at } = res.json;
    assert.match(id, /^key_/);
    assert.match(key, /^sp_live_[0-9a-z]{20}_[0-9a-z]{40}$/);
    assert.equal(name, "ci");
    assert.match(created_at, RFC3339);
    assert.equal(expires_at, null);

    const list = await admin.get("/api/v1/api-keys");
    assertStatus(list, 200);
    assert.deepEqual(list.json.map((k) => k.id).sort(), [defaultId, id].sort());
    for (const k of list.json) assert.deepEqual(Object.keys(k).sort(), KEY_FIELDS, "list exposes only public fields");
    assert.ok(!list.text.includes(key) && !list.text.includes(key.slice(-40)), "the list leaks the raw key");
    const mine = list.json.find((k) => k.id === id);
    assert.deepEqual(
      { ...mine, last_used: undefined },
      { id, name: "ci", key_prefix: key.slice(0, 16), queues: ["alpha"], rate_limit: 100, is_active: true, created_at, last_used: undefined, expires_at: null },
    );

    const one = await admin.get(`/api/v1/api-keys/${id}`);
    assertStatus(one, 200);
    assert.deepEqual(Object.keys(one.json).sort(), KEY_FIELDS);
    assert.equal(one.json.key, undefined);
    assert.ok(!one.text.includes(key.slice(-40)));
    assertError(await admin.get("/api/v1/api-keys/key_doesnotexist0000000"), 404, "NOT_FOUND");

    // The new key works and records its use.
    assertStatus(await new Client(mf, key).get("/api/v1/jobs?queue_name=alpha"), 200);
    assert.match((await admin.get(`/api/v1/api-keys/${id}`)).json.last_used, RFC3339);
  });

  test("PUT /api-keys/{id} changes name, queues and rate_limit; is_active:false → that key gets 401 at once, true revives it", async () => {
    const { client: admin } = await newOrg(mf);
    const { created, client: user } = await createKey(admin, { name: "before" });
    const q = queueName();
    assertStatus(await user.post("/api/v1/jobs", { queue_name: q, payload: 1 }), 201);

    const put = await admin.put(`/api/v1/api-keys/${created.id}`, { name: "after", queues: [q], rate_limit: 1000 });
    assertStatus(put, 200);
    assert.deepEqual([put.json.name, put.json.queues, put.json.rate_limit, put.json.is_active], ["after", [q], 1000, true]);
    assert.deepEqual((await admin.get(`/api/v1/api-keys/${created.id}`)).json.queues, [q]);
    // The new scope applies at once.
    assertError(await user.post("/api/v1/jobs", { queue_name: queueName(), payload: 1 }), 403, "ACCESS_DENIED");
    assert.equal((await user.get("/api/v1/jobs")).headers.get("x-ratelimit-limit"), "1000");

    const off = await admin.put(`/api/v1/api-keys/${created.id}`, { is_active: false });
    assertStatus(off, 200);
    assert.equal(off.json.is_active, false);
    assertError(await user.get("/api/v1/jobs"), 401, "UNAUTHORIZED");
    assertError(await user.post("/api/v1/jobs", { queue_name: q, payload: 2 }), 401, "UNAUTHORIZED");

    assertStatus(await admin.put(`/api/v1/api-keys/${created.id}`, { is_active: true }), 200);
    assertStatus(await user.get("/api/v1/jobs"), 200);
    assertError(await admin.put("/api/v1/api-keys/key_doesnotexist0000000", { name: "x" }), 404, "NOT_FOUND");
    assertError(await admin.put(`/api/v1/api-keys/${created.id}`, { rate_limit: 0 }), 400, "VALIDATION_ERROR");
  });

  test("PUT /api-keys/{id} with rate_limit: null removes the key's limit", async () => {
    const { client: admin } = await newOrg(mf);
    const { created, client: user } = await createKey(admin, { name: "limited", rate_limit: 5 });
    assert.equal((await user.get("/api/v1/jobs")).headers.get("x-ratelimit-limit"), "5");
    const put = await admin.put(`/api/v1/api-keys/${created.id}`, { rate_limit: null });
    assertStatus(put, 200);
    assert.equal(put.json.rate_limit, null);
    assert.equal((await admin.get(`/api/v1/api-keys/${created.id}`)).json.rate_limit, null);
    for (let i = 0; i < 6; i++) assertStatus(await user.get("/api/v1/jobs"), 200);
  });

  test("DELETE /api-keys/{id} → 204 and the revoked key gets 401 immediately; a key cannot revoke itself (409)", async () => {
    const { client: admin, keyId } = await newOrg(mf);
    const { created, client: victim } = await createKey(admin, { name: "temp" });
    assertStatus(await victim.get("/api/v1/jobs/stats"), 200); // verified and cached in this isolate

    assertError(await admin.delete(`/api/v1/api-keys/${keyId}`), 409, "CONFLICT");
    assertError(await victim.delete(`/api/v1/api-keys/${created.id}`), 409, "CONFLICT");
    assertStatus(await victim.get("/api/v1/jobs/stats"), 200);

    const del = await admin.delete(`/api/v1/api-keys/${created.id}`);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, "");
    assertError(await victim.get("/api/v1/jobs/stats"), 401, "UNAUTHORIZED");
    assertError(await victim.post("/api/v1/jobs", { queue_name: queueName(), payload: 1 }), 401, "UNAUTHORIZED");
    assertError(await admin.get(`/api/v1/api-keys/${created.id}`), 404, "NOT_FOUND");
    assertError(await admin.delete(`/api/v1/api-keys/${created.id}`), 404, "NOT_FOUND");
    assert.deepEqual((await admin.get("/api/v1/api-keys")).json.map((k) => k.id), [keyId]);
    assertStatus(await admin.get("/api/v1/jobs/stats"), 200);
  });

  test("a key created with expires_at stops working once that time has passed", async () => {
    const { client: admin } = await newOrg(mf);
    const expiresAt = Date.now() + 1_500;
    const { created, client: user } = await createKey(admin, { name: "short", expires_at: new Date(expiresAt).toISOString() });
    assert.equal(Date.parse(created.expires_at), expiresAt);
    // Timing an action, not waiting for a state: the key is first presented after it expired.
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt + 300 - Date.now())));
    assertError(await user.get("/api/v1/jobs"), 401, "UNAUTHORIZED");
  });
});

describe("queue-scoped keys", () => {
  test("a key with queues:[a] is denied writes in b (403), cannot read b's jobs (404) and sees only a in lists and stats", async () => {
    const { client: admin } = await newOrg(mf);
    const [qa, qb] = [queueName("a"), queueName("b")];
    const { client: scoped } = await createKey(admin, { name: "scoped", queues: [qa] });
    const inB = await admin.enqueue(qb, { payload: "b-secret" });
    await admin.enqueue(qb);
    const inA = await scoped.enqueue(qa, { payload: "a" });

    assertError(await scoped.post("/api/v1/jobs", { queue_name: qb, payload: 1 }), 403, "ACCESS_DENIED");
    assertError(await scoped.post("/api/v1/jobs/claim", { queue_name: qb }), 403, "ACCESS_DENIED");
    assertError(await scoped.post("/api/v1/jobs/bulk", { queue_name: qb, jobs: [{ payload: 1 }] }), 403, "ACCESS_DENIED");
    assertError(await scoped.post("/api/v1/jobs/ack", { queue_name: qb, acks: [] }), 403, "ACCESS_DENIED");
    assertError(await scoped.put(`/api/v1/queues/${qb}/config`, { max_retries: 0 }), 403, "ACCESS_DENIED");
    assertError(await scoped.post(`/api/v1/queues/${qb}/pause`), 403, "ACCESS_DENIED");
    assertError(await scoped.get(`/api/v1/jobs/${inB}`), 404, "NOT_FOUND");
    assertError(await scoped.delete(`/api/v1/jobs/${inB}`), 404, "NOT_FOUND");
    assertError(await scoped.put(`/api/v1/jobs/${inB}/priority`, { priority: 9 }), 404, "NOT_FOUND");
    assertError(await scoped.get(`/api/v1/jobs?queue_name=${qb}`), 404, "NOT_FOUND");
    assertError(await scoped.get(`/api/v1/queues/${qb}`), 404, "NOT_FOUND");

    const list = await scoped.get("/api/v1/jobs");
    assertStatus(list, 200);
    assert.deepEqual(list.json.map((j) => j.id), [inA]);
    const status = await scoped.get(`/api/v1/jobs/status?ids=${inA},${inB}`);
    assert.deepEqual(status.json.map((j) => j.id), [inA]);
    const stats = await scoped.get("/api/v1/jobs/stats");
    assertStatus(stats, 200);
    assert.equal(stats.json.total, 1);
    assert.equal(stats.json.pending, 1);
    assert.equal((await admin.get("/api/v1/jobs/stats")).json.total, 3);
    assert.deepEqual((await scoped.get("/api/v1/queues")).json.map((q) => q.queue_name), [qa]);

    for (const [method, path] of [["GET", "/api/v1/api-keys"], ["POST", "/api/v1/api-keys"], ["GET", "/api/v1/api-keys/key_x"]]) {
      assertError(await scoped.request(method, path, { body: method === "POST" ? { name: "wider" } : undefined }), 403, "ACCESS_DENIED");
    }
    // Nothing in b changed; a works normally.
    assert.equal((await admin.job(inB)).status, "pending");
    assert.equal((await admin.job(inB)).priority, 0);
    await claimOne(scoped, qa, inA);
  });

  test("a key with queues:[a] neither lists nor deregisters workers of queue b", async () => {
    const { client: admin } = await newOrg(mf);
    const [qa, qb] = [queueName("a"), queueName("b")];
    const { client: scoped } = await createKey(admin, { name: "scoped", queues: [qa] });
    assertStatus(await admin.post("/api/v1/workers/register", { queue_name: qb, hostname: "h", worker_id: "wb" }), 201);
    const id = await admin.enqueue(qb);
    await claimOne(admin, qb, id, { worker_id: "wb" });
    assertError(await scoped.post("/api/v1/workers/register", { queue_name: qb, hostname: "h" }), 403, "ACCESS_DENIED");
    assert.deepEqual((await scoped.get("/api/v1/workers")).json, []);
    assertError(await scoped.get("/api/v1/workers/wb"), 404, "NOT_FOUND");
    const dereg = await scoped.post("/api/v1/workers/wb/deregister");
    assert.ok([403, 404].includes(dereg.status), `scoped key deregistered b's worker: ${dereg.status}`);
    assert.equal((await admin.job(id)).status, "processing");
  });
});

describe("rate limits", () => {
  test("a key with rate_limit 20 gets 429 with Retry-After and X-RateLimit-* in a burst of 60; another key and tenant keep working", async () => {
    const { client: admin } = await newOrg(mf);
    const { client: other } = await newOrg(mf, "other");
    const { client: limited } = await createKey(admin, { name: "slow", rate_limit: 20 });
    const q = queueName();
    const burst = Array.from({ length: 60 }, (_, i) => limited.post("/api/v1/jobs", { queue_name: q, payload: i }));
    const bystanders = Array.from({ length: 10 }, (_, i) => [
      admin.post("/api/v1/jobs", { queue_name: q, payload: `admin-${i}` }),
      other.post("/api/v1/jobs", { queue_name: q, payload: `other-${i}` }),
    ]).flat();
    const [limitedRes, bystanderRes] = [await Promise.all(burst), await Promise.all(bystanders)];

    const ok = limitedRes.filter((r) => r.status === 201);
    const refused = limitedRes.filter((r) => r.status === 429);
    assert.equal(ok.length + refused.length, 60, `unexpected statuses ${limitedRes.map((r) => r.status)}`);
    assert.ok(refused.length >= 20, `only ${refused.length} of 60 refused`);
    for (const r of refused) {
      assertError(r, 429, "RATE_LIMIT_EXCEEDED");
      const retryAfter = Number(r.headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${r.headers.get("retry-after")}`);
      assert.equal(r.headers.get("x-ratelimit-limit"), "20");
      assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
      const reset = Number(r.headers.get("x-ratelimit-reset"));
      assert.ok(reset * 1000 > Date.now() - 1000 && reset * 1000 <= Date.now() + 61_000, `X-RateLimit-Reset ${reset}`);
    }
    for (const r of ok) {
      assert.equal(r.headers.get("x-ratelimit-limit"), "20");
      assert.ok(Number(r.headers.get("x-ratelimit-remaining")) < 20);
    }
    for (const r of bystanderRes) assert.equal(r.status, 201, r.text);
    // After the burst: the limited key is still refused, the others are not.
    assertError(await limited.get("/api/v1/jobs/stats"), 429, "RATE_LIMIT_EXCEEDED");
    assertStatus(await admin.get("/api/v1/jobs/stats"), 200);
    assertStatus(await other.get("/api/v1/jobs/stats"), 200);
    // Refused enqueues stored nothing: the queue holds exactly the accepted jobs plus admin's.
    const stats = await admin.get(`/api/v1/jobs/stats?queue_name=${q}`);
    assert.equal(stats.json.total, ok.length + 10);
    assert.equal((await other.get(`/api/v1/jobs/stats?queue_name=${q}`)).json.total, 10);
  });
});

describe("hostile inputs get 4xx and store nothing", () => {
  let client, snapshot;
  before(async () => {
    ({ client } = await newOrg(mf, "hostile"));
    await client.enqueue(queueName("seed"));
    snapshot = { stats: (await client.get("/api/v1/jobs/stats")).json, queues: (await client.get("/api/v1/queues")).json };
  });
  async function assertNothingStored() {
    assert.deepEqual((await client.get("/api/v1/jobs/stats")).json, snapshot.stats, "job totals changed");
    assert.deepEqual((await client.get("/api/v1/queues")).json, snapshot.queues, "queue catalog changed");
  }

  test("a JSON depth bomb (100 nested arrays in the payload) → 400 INVALID_JSON", async () => {
    const q = queueName();
    const bomb = `{"queue_name":"${q}","payload":${"[".repeat(100)}${"]".repeat(100)}}`;
    assertError(await client.post("/api/v1/jobs", bomb), 400, "INVALID_JSON");
    const bulk = `{"queue_name":"${q}","jobs":[{"payload":${"[".repeat(100)}1${"]".repeat(100)}}]}`;
    assertError(await client.post("/api/v1/jobs/bulk", bulk), 400, "INVALID_JSON");
    await assertNothingStored();
  });

  test("a 3 MiB body → 413 PAYLOAD_TOO_LARGE", async () => {
    const q = queueName();
    const body = JSON.stringify({ queue_name: q, payload: "x".repeat(3 * MiB) });
    assertError(await client.post("/api/v1/jobs", body), 413, "PAYLOAD_TOO_LARGE");
    assertError(await client.post("/api/v1/jobs/bulk", JSON.stringify({ queue_name: q, jobs: [{ payload: "y".repeat(3 * MiB) }] })), 413, "PAYLOAD_TOO_LARGE");
    await assertNothingStored();
  });

  test("invalid UTF-8 bytes in the body → 400 INVALID_JSON", async () => {
    const q = queueName();
    const enc = new TextEncoder();
    const bytes = new Uint8Array([...enc.encode(`{"queue_name":"${q}","payload":"`), 0xc3, 0x28, 0xff, ...enc.encode('"}')]);
    assertError(await client.post("/api/v1/jobs", bytes), 400, "INVALID_JSON");
    assertError(await client.put(`/api/v1/queues/${q}/config`, new Uint8Array([0x7b, 0xfe, 0x7d])), 400, "INVALID_JSON");
    await assertNothingStored();
  });

  test("path tricks (encoded ../, %00, dot segments, a 10 KB id) → 4xx, never 5xx", async () => {
    const key = client.key;
    const q = snapshot.queues[0].queue_name;
    const tricks = [
      ["GET", "/api/v1/jobs/..%2F..%2Fetc", 404],
      ["DELETE", "/api/v1/jobs/..%2F..%2Fetc", 404],
      ["GET", "/api/v1/jobs/%00", 404],
      ["POST", "/api/v1/jobs/%00/complete", 404],
      ["GET", `/api/v1/jobs/${q}.%00`, 404],
      ["GET", "/api/v1/jobs/../../../etc/passwd", 404],
      ["DELETE", "/api/v1/../v1/jobs", 405],
      ["GET", `/api/v1/jobs/${"a".repeat(10 * 1024)}`, 404],
      ["DELETE", `/api/v1/jobs/${q}.${"0".repeat(10 * 1024)}`, 404],
      ["PUT", "/api/v1/queues/..%2F..%2Fetc/config", 400],
      ["GET", `/api/v1/queues/${"q".repeat(10 * 1024)}`, 400],
      ["POST", "/api/v1/workers/%00/heartbeat", 404],
      ["GET", "/api/v1/api-keys/..%2F..", 404],
    ];
    for (const [method, path, status] of tricks) {
      const body = ["POST", "PUT"].includes(method) ? JSON.stringify({ lease_id: "x", max_retries: 1 }) : undefined;
      const res = await rawRequest(mf, method, path, { key, body });
      assert.equal(res.status, status, `${method} ${path.slice(0, 60)} → ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(typeof res.json?.code, "string", `${method} ${path.slice(0, 60)}: ${res.text.slice(0, 200)}`);
    }
    // Dot segments are resolved before routing: /api/v1/../v1/jobs is this tenant's own list.
    const dotted = await rawRequest(mf, "GET", "/api/v1/../v1/jobs", { key });
    assert.equal(dotted.status, 200);
    assert.deepEqual(dotted.json, (await client.get("/api/v1/jobs")).json);
    await assertNothingStored();
  });

  test("unknown methods (PATCH, PUT on /jobs, DELETE on /queues) → 405 METHOD_NOT_ALLOWED", async () => {
    const q = queueName();
    assertError(await client.request("PATCH", "/api/v1/jobs", { body: { queue_name: q, payload: 1 } }), 405, "METHOD_NOT_ALLOWED");
    assertError(await client.request("PUT", "/api/v1/jobs", { body: { queue_name: q, payload: 1 } }), 405, "METHOD_NOT_ALLOWED");
    assertError(await client.request("PATCH", "/api/v1/api-keys"), 405, "METHOD_NOT_ALLOWED");
    assertError(await client.request("DELETE", "/api/v1/queues"), 405, "METHOD_NOT_ALLOWED");
    await assertNothingStored();
  });
});

describe("admin key", () => {
  test("POST /organizations with a wrong or missing X-Admin-Key → 401", async () => {
    for (const headers of [{}, { "X-Admin-Key": "nope" }, { "X-Admin-Key": ADMIN_KEY.slice(0, -1) }, { "X-Admin-Key": `${ADMIN_KEY}x` }]) {
      const res = await anon.post("/api/v1/organizations", { name: "evil" }, { headers });
      assertError(res, 401, "UNAUTHORIZED");
      assert.equal(res.json.api_key, undefined);
    }
  });

  test("a Worker started without ADMIN_KEY refuses POST /organizations (403), whatever key is presented", async () => {
    const bare = await startWorker({ bindings: {} });
    try {
      const client = new Client(bare);
      for (const headers of [{}, { "X-Admin-Key": "" }, { "X-Admin-Key": ADMIN_KEY }, { "X-Admin-Key": "undefined" }]) {
        const res = await client.post("/api/v1/organizations", { name: "evil" }, { headers });
        assertError(res, 403, "ACCESS_DENIED");
        assert.equal(res.json.api_key, undefined);
      }
      assertStatus(await client.get("/health"), 200);
    } finally {
      await bare.dispose();
    }
  });
});
