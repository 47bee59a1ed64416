// Outgoing webhooks end to end: a real HTTP receiver on loopback gets signed envelopes of the
// job events a webhook subscribes to; failed deliveries come back with higher attempt numbers
// on the (shortened) retry curve; deliveries are listed with their fields; URL rules, scopes
// and tenants are respected.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import {
  ADMIN_KEY, assertError, assertStatus, claimOne, createKey, eventually, newOrg, queueName, RFC3339, startWorker, workerOp,
} from "./harness.mjs";

/** A receiver: records every request; `answer(req)` picks the status (default 200). */
async function receiver(answer = () => 200) {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const entry = { headers: req.headers, body, json: JSON.parse(body), at: Date.now() };
      received.push(entry);
      const status = answer(entry);
      res.writeHead(status, { "Content-Type": "text/plain" });
      res.end(status < 300 ? "thanks" : "not now");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Verifies a delivery's signature independently of the server's code. */
function verify(entry, secret) {
  const timestamp = entry.headers["x-spooled-timestamp"];
  const expected = `sha256=${createHmac("sha256", secret).update(`${timestamp}.${entry.body}`).digest("hex")}`;
  return entry.headers["x-spooled-signature"] === expected;
}

const SECRET = "a-secret-of-sixteen-plus";

let mf;
before(async () => {
  mf = await startWorker({
    bindings: { ADMIN_KEY, ALLOW_HTTP_LOOPBACK_WEBHOOKS: "true", WEBHOOK_RETRY_BASE_SECS: "1", WEBHOOK_MAX_ATTEMPTS: "3" },
  });
});
after(() => mf?.dispose());

describe("outgoing webhooks", () => {
  test("a completed job reaches the receiver signed, once per event, with the envelope's fields", async () => {
    const { client, org } = await newOrg(mf);
    const hook = await receiver();
    try {
      const created = assertStatus(
        await client.post("/api/v1/outgoing-webhooks", { name: "done", url: hook.url, events: ["job.completed"], secret: SECRET }),
        201,
      );
      assert.equal(created.secret, undefined, "a secret the caller chose is not echoed");
      assert.equal(created.enabled, true);
      assert.equal(created.organization_id, org.id);
      const queue = queueName();
      const id = await client.enqueue(queue, {});
      const job = await claimOne(client, queue, id);
      assertStatus(await workerOp(client, job, "complete", { result: { invoice: 42 } }), 200);
      await eventually(() => hook.received.length >= 1);
      const [entry] = hook.received;
      assert.ok(verify(entry, SECRET), "the signature verifies with the secret");
      assert.equal(entry.headers["x-spooled-event"], "job.completed");
      assert.equal(entry.headers["x-spooled-delivery-attempt"], "1");
      assert.equal(entry.headers["user-agent"], "Spooled-OutgoingWebhook/1.0");
      assert.match(entry.headers["content-type"], /application\/json/);
      assert.equal(entry.json.event, "job.completed");
      assert.match(entry.json.created_at, RFC3339);
      assert.equal(entry.json.data.job_id, id);
      assert.equal(entry.json.data.queue_name, queue);
      assert.equal(entry.json.data.status, "completed");
      assert.deepEqual(entry.json.data.result, { invoice: 42 });
      assert.equal(typeof entry.json.id, "string");
      // Not subscribed: created and started events never arrive.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(hook.received.length, 1);
      const deliveries = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}/deliveries`), 200);
      assert.equal(deliveries.length, 1);
      const [delivery] = deliveries;
      assert.equal(delivery.id, entry.json.id);
      assert.equal(delivery.webhook_id, created.id);
      assert.equal(delivery.status, "success");
      assert.equal(delivery.status_code, 200);
      assert.equal(delivery.attempts, 1);
      assert.equal(delivery.response_body, "thanks");
      assert.deepEqual(delivery.payload, entry.json);
      assert.match(delivery.delivered_at, RFC3339);
      const webhook = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}`), 200);
      assert.equal(webhook.last_status, "success");
      assert.equal(webhook.failure_count, 0);
      assert.match(webhook.last_triggered_at, RFC3339);
    } finally {
      await hook.close();
    }
  });

  test("a queue that existed before the webhook is told to record its events", async () => {
    const { client } = await newOrg(mf);
    const queue = queueName();
    await client.enqueue(queue, {});
    const hook = await receiver();
    try {
      assertStatus(
        await client.post("/api/v1/outgoing-webhooks", { name: "late", url: hook.url, events: ["job.created", "queue.paused"], secret: SECRET }),
        201,
      );
      const id = await client.enqueue(queue, {});
      assertStatus(await client.post(`/api/v1/queues/${queue}/pause`, { reason: "maintenance" }), 200);
      await eventually(() => hook.received.length >= 2);
      assert.deepEqual(hook.received.map((e) => e.json.event), ["job.created", "queue.paused"]);
      assert.equal(hook.received[0].json.data.job_id, id);
      assert.equal(hook.received[1].json.data.queue_name, queue);
    } finally {
      await hook.close();
    }
  });

  test("a receiver that fails the first attempts gets the delivery later, with a higher attempt number", async () => {
    const { client } = await newOrg(mf);
    let calls = 0;
    const hook = await receiver(() => (++calls <= 2 ? 503 : 200));
    try {
      const created = assertStatus(await client.post("/api/v1/outgoing-webhooks", { name: "flaky", url: hook.url, events: ["job.created"] }), 201);
      assert.match(created.secret, /^whsec_[0-9a-z]{32}$/, "a generated secret is returned once");
      const again = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}`), 200);
      assert.equal(again.secret, undefined, "and never after");
      const id = await client.enqueue(queueName(), {});
      await eventually(() => hook.received.length >= 3, { timeout: 15_000 });
      const attempts = hook.received.map((e) => e.headers["x-spooled-delivery-attempt"]);
      assert.deepEqual(attempts, ["1", "2", "3"]);
      assert.ok(hook.received.every((e) => verify(e, created.secret)), "every attempt is signed");
      assert.ok(hook.received.every((e) => e.body === hook.received[0].body), "the envelope is the same on every attempt");
      assert.equal(hook.received[0].json.data.job_id, id);
      assert.ok(hook.received[1].at - hook.received[0].at >= 900, "the retry waited its backoff");
      const [delivery] = await eventually(async () => {
        const list = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}/deliveries`), 200);
        return list[0]?.status === "success" ? list : undefined;
      });
      assert.equal(delivery.attempts, 3);
      const failed = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}/deliveries?status=failed`), 200);
      assert.deepEqual(failed, []);
    } finally {
      await hook.close();
    }
  });

  test("a delivery that fails every attempt ends failed, counts against the webhook, and can be retried by hand", async () => {
    const { client } = await newOrg(mf);
    let healthy = false;
    const hook = await receiver(() => (healthy ? 200 : 500));
    try {
      const created = assertStatus(
        await client.post("/api/v1/outgoing-webhooks", { name: "down", url: hook.url, events: ["job.created"], secret: SECRET }),
        201,
      );
      await client.enqueue(queueName(), {});
      const [delivery] = await eventually(async () => {
        const list = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}/deliveries?status=failed`), 200);
        return list.length ? list : undefined;
      }, { timeout: 20_000 });
      assert.equal(delivery.attempts, 3);
      assert.equal(delivery.status_code, 500);
      assert.equal(delivery.error, "HTTP 500");
      assert.equal(delivery.next_attempt_at, null);
      const webhook = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}`), 200);
      assert.equal(webhook.failure_count, 1);
      assert.equal(webhook.last_status, "failed");
      healthy = true;
      const retried = assertStatus(await client.post(`/api/v1/outgoing-webhooks/${created.id}/retry/${delivery.id}`), 200);
      assert.deepEqual(retried, { success: true, message: "Delivery retried successfully" });
      assert.equal(hook.received.at(-1).headers["x-spooled-delivery-attempt"], "4");
      const after = assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}`), 200);
      assert.equal(after.failure_count, 0);
      assertError(await client.post(`/api/v1/outgoing-webhooks/${created.id}/retry/${delivery.id}`), 400, "VALIDATION_ERROR");
      assertError(await client.post(`/api/v1/outgoing-webhooks/${created.id}/retry/nope`), 404, "NOT_FOUND");
    } finally {
      await hook.close();
    }
  });

  test("test sends a real signed envelope of webhook.test and stores nothing", async () => {
    const { client, org } = await newOrg(mf);
    const hook = await receiver();
    try {
      const created = assertStatus(
        await client.post("/api/v1/outgoing-webhooks", { name: "t", url: hook.url, events: ["job.failed"], secret: SECRET, enabled: false }),
        201,
      );
      const result = assertStatus(await client.post(`/api/v1/outgoing-webhooks/${created.id}/test`), 200);
      assert.equal(result.success, true);
      assert.equal(result.status_code, 200);
      assert.equal(result.error, null);
      assert.ok(result.response_time_ms >= 0);
      const [entry] = hook.received;
      assert.ok(verify(entry, SECRET));
      assert.equal(entry.json.event, "webhook.test");
      assert.equal(entry.json.data.webhook_id, created.id);
      assert.equal(entry.json.data.organization_id, org.id);
      assert.deepEqual(assertStatus(await client.get(`/api/v1/outgoing-webhooks/${created.id}/deliveries`), 200), []);
    } finally {
      await hook.close();
    }
  });

  test("CRUD: list newest first, update, delete; a disabled webhook receives nothing", async () => {
    const { client } = await newOrg(mf);
    const hook = await receiver();
    try {
      const first = assertStatus(await client.post("/api/v1/outgoing-webhooks", { name: "one", url: hook.url, events: ["job.created"], secret: SECRET }), 201);
      const second = assertStatus(await client.post("/api/v1/outgoing-webhooks", { name: "two", url: hook.url, events: ["job.cancelled"], secret: SECRET }), 201);
      const list = assertStatus(await client.get("/api/v1/outgoing-webhooks"), 200);
      assert.deepEqual(list.map((w) => w.id), [second.id, first.id]);
      const updated = assertStatus(await client.put(`/api/v1/outgoing-webhooks/${first.id}`, { enabled: false, name: "uno" }), 200);
      assert.equal(updated.enabled, false);
      assert.equal(updated.name, "uno");
      assert.deepEqual(updated.events, ["job.created"]);
      const queue = queueName();
      const id = await client.enqueue(queue, {});
      assert.ok([200, 204].includes((await client.delete(`/api/v1/jobs/${id}`)).status));
      await eventually(() => hook.received.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(hook.received.map((e) => e.json.event), ["job.cancelled"]);
      // `secret: null` clears the secret: deliveries go out unsigned from then on.
      assertStatus(await client.put(`/api/v1/outgoing-webhooks/${first.id}`, { secret: null }), 200);
      assertStatus(await client.post(`/api/v1/outgoing-webhooks/${first.id}/test`), 200);
      assert.equal(hook.received.at(-1).json.event, "webhook.test");
      assert.equal(hook.received.at(-1).headers["x-spooled-signature"], undefined);
      assert.equal((await client.delete(`/api/v1/outgoing-webhooks/${second.id}`)).status, 204);
      assertError(await client.get(`/api/v1/outgoing-webhooks/${second.id}`), 404, "NOT_FOUND");
      assertError(await client.delete(`/api/v1/outgoing-webhooks/${second.id}`), 404, "NOT_FOUND");
    } finally {
      await hook.close();
    }
  });

  test("bad input is refused with a clear error and stores nothing", async () => {
    const { client } = await newOrg(mf);
    const base = { name: "x", url: "https://example.com/hook", events: ["job.completed"] };
    for (const [body, field] of [
      [{ ...base, events: ["job.exploded"] }, "events"],
      [{ ...base, events: [] }, "events"],
      [{ ...base, url: "ftp://example.com/" }, "url"],
      [{ ...base, url: "https://10.0.0.1/hook" }, "url"],
      [{ ...base, url: "http://example.com/hook" }, "url"],
      [{ ...base, url: "https://user:pw@example.com/" }, "url"],
      [{ ...base, name: "" }, "name"],
      [{ ...base, secret: "short" }, "secret"],
      [{ ...base, format: "slack" }, "format"],
      [{ name: "x", events: ["job.completed"] }, "url"],
    ]) {
      const res = await client.post("/api/v1/outgoing-webhooks", body);
      assertError(res, 400, "VALIDATION_ERROR");
      assert.match(res.text, new RegExp(field), `${JSON.stringify(body)} names ${field}`);
    }
    assert.match((await client.post("/api/v1/outgoing-webhooks", { ...base, events: ["job.exploded"] })).json.message, /Invalid event type: 'job.exploded'/);
    assert.deepEqual(assertStatus(await client.get("/api/v1/outgoing-webhooks"), 200), []);
  });

  test("only keys reaching every queue manage webhooks, and tenants see only their own", async () => {
    const { client } = await newOrg(mf, "a");
    const { client: other } = await newOrg(mf, "b");
    const { client: scoped } = await createKey(client, { name: "scoped", queues: ["only"] });
    const hook = await receiver();
    try {
      assertError(await scoped.get("/api/v1/outgoing-webhooks"), 403, "ACCESS_DENIED");
      assertError(await scoped.post("/api/v1/outgoing-webhooks", { name: "x", url: hook.url, events: ["job.created"] }), 403, "ACCESS_DENIED");
      const created = assertStatus(await client.post("/api/v1/outgoing-webhooks", { name: "mine", url: hook.url, events: ["job.created"], secret: SECRET }), 201);
      assertError(await other.get(`/api/v1/outgoing-webhooks/${created.id}`), 404, "NOT_FOUND");
      assert.deepEqual(assertStatus(await other.get("/api/v1/outgoing-webhooks"), 200), []);
      // The other tenant's jobs never reach this tenant's receiver.
      await other.enqueue(queueName(), {});
      const mine = await client.enqueue(queueName(), {});
      await eventually(() => hook.received.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(hook.received.map((e) => e.json.data.job_id), [mine]);
    } finally {
      await hook.close();
    }
  });

  test("a job's own completion webhook fires on complete and on a terminal failure, signed when it has a secret", async () => {
    const { client } = await newOrg(mf);
    const { client: scoped } = await createKey(client, { name: "other-queue", queues: ["elsewhere"] });
    const hook = await receiver();
    try {
      const queue = queueName();
      const signed = await client.enqueue(queue, { completion_webhook: hook.url, completion_webhook_secret: SECRET });
      const unsigned = await client.enqueue(queue, { completion_webhook: hook.url, max_retries: 0 });
      const plain = await client.enqueue(queue, {});
      assert.equal((await client.job(signed)).completion_webhook, hook.url);
      assert.equal((await client.job(plain)).completion_webhook, null);
      for (let n = 0; n < 3; n++) {
        const [job] = await client.claim(queue, { limit: 1 });
        if (job.id === unsigned) assertStatus(await workerOp(client, job, "fail", { error: "boom" }), 200);
        else assertStatus(await workerOp(client, job, "complete", { result: { n } }), 200);
      }
      await eventually(() => hook.received.length >= 2);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(hook.received.length, 2, "the job without a hook sends nothing");
      const byJob = Object.fromEntries(hook.received.map((e) => [e.json.data.job_id, e]));
      assert.equal(byJob[signed].json.event, "job.completed");
      assert.equal(byJob[signed].headers["user-agent"], "Spooled-CompletionWebhook/1.0");
      assert.ok(verify(byJob[signed], SECRET));
      assert.equal(byJob[unsigned].json.event, "job.failed");
      assert.equal(byJob[unsigned].json.data.status, "deadletter");
      assert.equal(byJob[unsigned].headers["x-spooled-signature"], undefined, "no secret, no signature");
      const deliveries = assertStatus(await client.get(`/api/v1/jobs/${signed}/webhook-deliveries`), 200);
      assert.equal(deliveries.length, 1);
      assert.equal(deliveries[0].status, "success");
      assert.equal(deliveries[0].webhook_id, `job:${signed}`);
      assert.deepEqual(assertStatus(await client.get(`/api/v1/jobs/${plain}/webhook-deliveries`), 200), []);
      assertError(await scoped.get(`/api/v1/jobs/${signed}/webhook-deliveries`), 404, "NOT_FOUND");
      assertError(await client.post("/api/v1/jobs", { queue_name: queue, payload: {}, completion_webhook: "http://example.com/" }), 400, "VALIDATION_ERROR");
      assertError(await client.post("/api/v1/jobs", { queue_name: queue, payload: {}, completion_webhook_secret: SECRET }), 400, "VALIDATION_ERROR");
      assertError(
        await client.post("/api/v1/jobs/bulk", { queue_name: queue, jobs: [{ payload: {}, completion_webhook: hook.url }] }),
        400,
        "VALIDATION_ERROR",
      );
    } finally {
      await hook.close();
    }
  });
});
