// Helpers for the security, queue, API-surface and worker e2e files (kept apart from
// harness.mjs, which only provides the Miniflare, the Client and the basic helpers).
import assert from "node:assert/strict";
import http from "node:http";
import { ADMIN_KEY, Client } from "./harness.mjs";

export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Asserts an error response: status and JSON `{code, message}`. */
export function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.equal(res.json?.code, code, `wrong error body: ${res.text}`);
  assert.equal(typeof res.json.message, "string");
  assert.ok(res.json.message.length > 0);
}

/** Asserts a 2xx status with the given code, showing the body on failure. */
export function assertStatus(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  return res.json;
}

/** Creates an organization; returns its client and organization. */
export async function newOrg(mf, name = "org") {
  const res = await new Client(mf).post("/api/v1/organizations", { name }, { headers: { "X-Admin-Key": ADMIN_KEY } });
  assertStatus(res, 201);
  return { client: new Client(mf, res.json.api_key.key), org: res.json.organization, keyId: res.json.api_key.id };
}

/** Creates an API key with `client`; returns the 201 body and a client holding the new key. */
export async function createKey(client, body) {
  const res = await client.post("/api/v1/api-keys", body);
  assertStatus(res, 201);
  return { created: res.json, client: new Client(client.mf, res.json.key) };
}

/** Claims exactly one job (asserting it is `id` when given) and returns it. */
export async function claimOne(client, queue, id, fields = {}) {
  const jobs = await client.claim(queue, { limit: 1, ...fields });
  assert.equal(jobs.length, 1, `expected one claimable job in ${queue}, got ${JSON.stringify(jobs)}`);
  if (id !== undefined) assert.equal(jobs[0].id, id);
  return jobs[0];
}

/** POSTs complete/fail/heartbeat for a claimed job under its lease. */
export function workerOp(client, job, op, body = {}) {
  return client.post(`/api/v1/jobs/${job.id}/${op}`, { lease_id: job.lease_id, ...body });
}

/** Enqueues a job with no retries, claims and fails it: returns its id, dead-lettered. */
export async function deadLettered(client, queue, fields = {}) {
  const id = await client.enqueue(queue, { max_retries: 0, ...fields });
  const job = await claimOne(client, queue, id);
  const res = await workerOp(client, job, "fail", { error: "boom" });
  assertStatus(res, 200);
  assert.equal(res.json.status, "deadletter");
  return id;
}

/** Enqueues, claims and completes a job: returns its id. */
export async function completed(client, queue, fields = {}) {
  const id = await client.enqueue(queue, fields);
  const job = await claimOne(client, queue, id);
  assertStatus(await workerOp(client, job, "complete", { result: { ok: true } }), 200);
  return id;
}

/** Asserts an RFC 3339 time lies within [lo, hi] epoch ms. */
export function assertTimeWithin(text, lo, hi, what = "time") {
  assert.match(text ?? "", RFC3339, `${what} is not RFC 3339: ${text}`);
  const t = Date.parse(text);
  assert.ok(t >= lo && t <= hi, `${what} ${text} is outside [${new Date(lo).toISOString()}, ${new Date(hi).toISOString()}]`);
}

/**
 * Sends a request over a raw socket, so the path reaches the server exactly as written (no
 * client-side normalisation of `..` or percent escapes).
 */
export async function rawRequest(mf, method, path, { key, body, headers = {} } = {}) {
  const url = await mf.ready;
  const all = { ...headers };
  if (key) all.Authorization = `Bearer ${key}`;
  if (body !== undefined) all["Content-Type"] ??= "application/json";
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers: all }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, text, json, headers: new Headers(res.headers) });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
