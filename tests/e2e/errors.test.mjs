// Error contract: every rejection is JSON `{code, message}` with the right status, carries
// X-Request-Id, and changes nothing. "Nothing stored" is shown by re-sending a valid enqueue
// with the rejected request's idempotency key (it must create a new job) and by claiming.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_KEY, Client, assertError, claimOne, newTenant, queueName, startWorker, workerOp } from "./harness.mjs";

let mf, client, anon;
before(async () => {
  mf = await startWorker();
  client = await newTenant(mf);
  anon = new Client(mf);
});
after(() => mf?.dispose());

const MiB = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const enqueue = (body, opts) => client.post("/api/v1/jobs", body, opts);

/** Proves a rejected enqueue stored nothing: its key is still free and the queue is empty. */
async function assertNothingStored(q, key) {
  assert.deepEqual(await client.claim(q, { limit: 100 }), [], `queue ${q} should be empty`);
  if (key) {
    const res = await enqueue({ queue_name: q, payload: "probe", idempotency_key: key });
    assert.equal(res.status, 201, `idempotency key ${key} was taken by a rejected request: ${res.text}`);
  }
}

/** Sends `body` as a stream, so the request has no Content-Length. */
async function postStreamed(path, text) {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream({
    start(ctl) {
      for (let i = 0; i < bytes.length; i += 64 * 1024) ctl.enqueue(bytes.slice(i, i + 64 * 1024));
      ctl.close();
    },
  });
  const res = await mf.dispatchFetch(`http://localhost${path}`, {
    method: "POST", body, duplex: "half", headers: { Authorization: `Bearer ${client.key}`, "Content-Type": "application/json" },
  });
  const raw = await res.text();
  return { status: res.status, text: raw, json: JSON.parse(raw), headers: res.headers };
}

describe("request validation", () => {
  test("malformed JSON (syntax, truncation, invalid UTF-8) → 400 INVALID_JSON and nothing stored", async () => {
    const q = queueName();
    for (const body of ["{bad", `{"queue_name":"${q}","payload":`, new Uint8Array([0x7b, 0xff, 0x7d])]) {
      assertError(await enqueue(body), 400, "INVALID_JSON");
    }
    await assertNothingStored(q);
  });

  test("an empty or blank body → 400 INVALID_JSON on enqueue, bulk and claim", async () => {
    for (const path of ["/api/v1/jobs", "/api/v1/jobs/bulk", "/api/v1/jobs/claim"]) {
      for (const body of ["", "  \n"]) assertError(await client.post(path, body), 400, "INVALID_JSON");
    }
  });

  test("JSON of the wrong shape (array, missing payload, string priority) → 400 VALIDATION_ERROR", async () => {
    const q = queueName();
    for (const body of ["[]", { queue_name: q, idempotency_key: "k" }, { queue_name: q, payload: 1, priority: "5", idempotency_key: "k" }, { payload: 1 }]) {
      assertError(await enqueue(body), 400, "VALIDATION_ERROR");
    }
    await assertNothingStored(q, "k");
  });

  test("bad queue names ('', 'a b', '-x', '_x', '.a', 65 chars) → 400 VALIDATION_ERROR on enqueue and claim; 64 chars is fine", async () => {
    for (const name of ["", "a b", "-x", "_x", ".a", "..", "é", "a".repeat(65)]) {
      const res = await enqueue({ queue_name: name, payload: 1 });
      assertError(res, 400, "VALIDATION_ERROR");
      assert.equal(res.json.details?.[0]?.field, "queue_name");
      assertError(await client.post("/api/v1/jobs/claim", { queue_name: name }), 400, "VALIDATION_ERROR");
    }
    const longest = `${"a".repeat(56)}${queueName("").slice(1)}`;
    assert.equal(longest.length, 64);
    assert.equal((await enqueue({ queue_name: longest, payload: 1 })).status, 201);
  });

  test("out-of-range enqueue fields (priority ±101, max_retries 101/-1, timeout 0) → 400 VALIDATION_ERROR, nothing stored", async () => {
    const q = queueName();
    for (const [field, value] of [["priority", 101], ["priority", -101], ["max_retries", 101], ["max_retries", -1], ["timeout_seconds", 0]]) {
      const res = await enqueue({ queue_name: q, payload: 1, idempotency_key: "k", [field]: value });
      assertError(res, 400, "VALIDATION_ERROR");
      assert.equal(res.json.details?.[0]?.field, field);
    }
    await assertNothingStored(q, "k");
  });

  test("bad scheduled_at (not a time, no offset, month 13) → 400 VALIDATION_ERROR, nothing stored", async () => {
    const q = queueName();
    for (const scheduled_at of ["tomorrow", "2030-01-01T00:00:00", "2030-13-01T00:00:00Z", ""]) {
      assertError(await enqueue({ queue_name: q, payload: 1, scheduled_at, idempotency_key: "k" }), 400, "VALIDATION_ERROR");
    }
    await assertNothingStored(q, "k");
  });

  test("bad claims (lease 4, visibility 4, lease 43201, limit 0/101/\"5\", unknown filter op) → 400 and lease nothing", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const bad = [{ lease_duration_secs: 4 }, { visibility: 4 }, { lease_duration_secs: 43_201 }, { limit: 0 }, { limit: 101 }, { limit: "5" }, { filter: { priority: { ge: 1 } } }];
    for (const extra of bad) {
      assertError(await client.post("/api/v1/jobs/claim", { queue_name: q, ...extra }), 400, "VALIDATION_ERROR");
    }
    const job = await client.job(id);
    assert.equal(job.status, "pending");
    assert.equal(job.retry_count, 0);
    await claimOne(client, q, id, { lease_duration_secs: 5 });
  });

  test("rejected worker ops (fail without error, heartbeat lease 4, result over 1 MiB) leave the lease as it was", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const job = await claimOne(client, q, id);
    assertError(await workerOp(client, job, "fail", {}), 400, "VALIDATION_ERROR");
    assertError(await workerOp(client, job, "heartbeat", { lease_duration_secs: 4 }), 400, "VALIDATION_ERROR");
    assertError(await workerOp(client, job, "complete", { result: "x".repeat(MiB) }), 413, "PAYLOAD_TOO_LARGE");
    const after = await client.job(id);
    assert.equal(after.status, "processing");
    assert.equal(after.lease_expires_at, job.lease_expires_at);
    assert.equal(after.retry_count, 0);
    assert.equal((await workerOp(client, job, "complete")).status, 200);
  });

  test("a payload over 1 MiB → 413 PAYLOAD_TOO_LARGE (nothing stored); exactly 1 MiB is accepted", async () => {
    const q = queueName();
    assertError(await enqueue({ queue_name: q, payload: "x".repeat(MiB - 1), idempotency_key: "k" }), 413, "PAYLOAD_TOO_LARGE");
    assertError(await client.post("/api/v1/jobs/bulk", { queue_name: q, jobs: [{ payload: 1 }, { payload: "x".repeat(MiB) }] }), 413, "PAYLOAD_TOO_LARGE");
    await assertNothingStored(q, "k");
    const ok = await enqueue({ queue_name: q, payload: "x".repeat(MiB - 2) });
    assert.equal(ok.status, 201, ok.text);
  });

  test("a body over 2 MiB → 413 PAYLOAD_TOO_LARGE, with or without Content-Length; nothing stored", async () => {
    const q = queueName();
    const text = JSON.stringify({ queue_name: q, payload: { a: "x".repeat(MiB), b: "y".repeat(MiB) }, idempotency_key: "k" });
    assert.ok(text.length > 2 * MiB);
    assertError(await enqueue(text), 413, "PAYLOAD_TOO_LARGE");
    assertError(await postStreamed("/api/v1/jobs", text), 413, "PAYLOAD_TOO_LARGE");
    await assertNothingStored(q, "k");
  });
});

describe("routing, auth and headers", () => {
  test("unknown routes → 404 NOT_FOUND", async () => {
    for (const path of ["/", "/nope", "/api/v1/nope", "/api/v2/jobs", "/api/v1/jobs/a/b/c"]) {
      assertError(await client.get(path), 404, "NOT_FOUND");
    }
  });

  test("a known path with the wrong method → 405 METHOD_NOT_ALLOWED", async () => {
    const id = await client.enqueue(queueName());
    for (const [method, path] of [["PATCH", "/api/v1/jobs"], ["GET", "/api/v1/jobs/claim"], ["DELETE", "/api/v1/jobs/dlq"], ["PUT", `/api/v1/jobs/${id}`], ["POST", "/health"], ["GET", `/api/v1/jobs/${id}/complete`]]) {
      assertError(await client.request(method, path), 405, "METHOD_NOT_ALLOWED");
    }
  });

  test("missing or invalid credentials → 401 UNAUTHORIZED, and the write is not stored", async () => {
    const q = queueName();
    const tampered = client.key.slice(0, -1) + (client.key.endsWith("a") ? "b" : "a");
    const unknownTenant = `sp_live_${"a".repeat(20)}_${"b".repeat(40)}`;
    const body = { queue_name: q, payload: 1, idempotency_key: "k" };
    const attempts = [
      {}, { Authorization: "" }, { Authorization: "Bearer " }, { Authorization: `Basic ${client.key}` }, { Authorization: "Bearer garbage" },
      { Authorization: `Bearer ${tampered}` }, { Authorization: `Bearer ${unknownTenant}` }, { "X-API-Key": client.key },
    ];
    for (const headers of attempts) {
      const res = await anon.post("/api/v1/jobs", body, { headers });
      assertError(res, 401, "UNAUTHORIZED");
    }
    assertError(await anon.post("/api/v1/jobs/claim", { queue_name: q }), 401, "UNAUTHORIZED");
    await assertNothingStored(q, "k");
  });

  test("a non-existent or malformed job id → 404 NOT_FOUND on every job route", async () => {
    const q = queueName();
    await client.enqueue(q);
    const ids = [`${q}.01ARZ3NDEKTSV4RRFFQ69G5FAV`, "nope", `${q}.123`, `${q}.01ARZ3NDEKTSV4RRFFQ69G5FAU`, "-x.01ARZ3NDEKTSV4RRFFQ69G5FAV"];
    const fence = { lease_id: "x", worker_id: "w1" };
    for (const id of ids) {
      assertError(await client.get(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
      assertError(await client.delete(`/api/v1/jobs/${id}`), 404, "NOT_FOUND");
      assertError(await client.post(`/api/v1/jobs/${id}/retry`), 404, "NOT_FOUND");
      assertError(await client.post(`/api/v1/jobs/${id}/complete`, fence), 404, "NOT_FOUND");
      assertError(await client.post(`/api/v1/jobs/${id}/fail`, { ...fence, error: "e" }), 404, "NOT_FOUND");
      assertError(await client.post(`/api/v1/jobs/${id}/heartbeat`, fence), 404, "NOT_FOUND");
    }
  });

  test("every response carries X-Request-Id: a fresh UUID, or the client's own echoed back", async () => {
    const q = queueName();
    const id = await client.enqueue(q);
    const responses = [
      await anon.get("/health"), await client.get(`/api/v1/jobs/${id}`), await enqueue({ queue_name: q, payload: 1 }),
      await client.delete(`/api/v1/jobs/${id}`), await client.get("/nope"), await anon.post("/api/v1/jobs", {}), await enqueue("{"),
      await client.request("PATCH", "/api/v1/jobs"), await enqueue({ queue_name: q, payload: "x".repeat(MiB) }),
    ];
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 201, 204, 404, 401, 400, 405, 413]);
    for (const r of responses) assert.match(r.headers.get("x-request-id") ?? "", UUID, `status ${r.status}`);
    assert.equal(new Set(responses.map((r) => r.headers.get("x-request-id"))).size, responses.length, "ids are unique");

    for (const [res, sent] of [
      [await anon.get("/health", { headers: { "X-Request-Id": "trace-123_a.b" } }), "trace-123_a.b"],
      [await client.get(`/api/v1/jobs/${id}`, { headers: { "X-Request-Id": "req-2" } }), "req-2"],
      [await client.get("/nope", { headers: { "X-Request-Id": "req-3" } }), "req-3"],
    ]) {
      assert.equal(res.headers.get("x-request-id"), sent);
    }
    const unsafe = await anon.get("/health", { headers: { "X-Request-Id": "bad id\twith spaces" } });
    assert.match(unsafe.headers.get("x-request-id"), UUID, "an unsafe id is replaced, not echoed");
  });

  test("/health answers 200 without credentials", async () => {
    for (const path of ["/health", "/health/live", "/health/ready"]) {
      const res = await anon.get(path);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.status, "healthy");
    }
  });

  test("POST /api/v1/organizations without, or with a wrong, X-Admin-Key → 401 UNAUTHORIZED", async () => {
    for (const headers of [{}, { "X-Admin-Key": "" }, { "X-Admin-Key": "wrong" }, { "X-Admin-Key": `${ADMIN_KEY}x` }, { Authorization: `Bearer ${ADMIN_KEY}` }]) {
      assertError(await anon.post("/api/v1/organizations", { name: "evil" }, { headers }), 401, "UNAUTHORIZED");
    }
    assertError(await anon.post("/api/v1/organizations", { name: "" }, { headers: { "X-Admin-Key": ADMIN_KEY } }), 400, "VALIDATION_ERROR");
    const ok = await anon.post("/api/v1/organizations", { name: "Good Co" }, { headers: { "X-Admin-Key": ADMIN_KEY } });
    assert.equal(ok.status, 201, ok.text);
    assert.match(ok.json.api_key.key, /^sp_live_/);
  });
});
