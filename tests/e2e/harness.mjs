// The end-to-end helper library: the built Worker on Miniflare with real SQLite-backed
// Durable Objects and real alarms (options from wrangler.toml, see scripts/worker-options.mjs),
// an API client that validates every response against the OpenAPI document, and the
// assertion and flow helpers the test files share.
import { Miniflare } from "miniflare";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import http from "node:http";
import { BENCH_ENV, workerOptions } from "../../scripts/worker-options.mjs";
import { validateResponse } from "./openapi.mjs";

export { BENCH_ENV };
export const ADMIN_KEY = "test-admin-key";

/**
 * Starts the Worker: the production build, or with `{ env: BENCH_ENV }` the bench build (for
 * the fault tests). Pass `{ durableObjectsPersist: dir }` to keep state on disk; `bindings`
 * replace the default ones (ADMIN_KEY), any other option goes to Miniflare.
 */
export async function startWorker({ bindings = { ADMIN_KEY }, ...extra } = {}) {
  const mf = new Miniflare(workerOptions({ bindings, ...extra }));
  await mf.ready;
  return mf;
}

/** A client bound to one Miniflare instance and (optionally) one API key. */
export class Client {
  constructor(mf, key) {
    this.mf = mf;
    this.key = key;
  }

  /** Sends a request; `body` objects are sent as JSON, strings and buffers as they are. */
  async request(method, path, { body, headers = {}, key = this.key } = {}) {
    const init = { method, headers: { ...headers } };
    if (key) init.headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) {
      init.body = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
      init.headers["Content-Type"] ??= "application/json";
    }
    const res = await this.mf.dispatchFetch(`http://localhost${path}`, init);
    const text = await res.text();
    // Every response must be one the OpenAPI document describes (throws otherwise).
    validateResponse({ method, path, status: res.status, headers: res.headers, text });
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  get(path, opts) { return this.request("GET", path, opts); }
  post(path, body, opts = {}) { return this.request("POST", path, { ...opts, body }); }
  put(path, body, opts = {}) { return this.request("PUT", path, { ...opts, body }); }
  delete(path, opts) { return this.request("DELETE", path, opts); }

  /** Enqueues one job and returns its id (asserting success). */
  async enqueue(queue_name, fields = {}) {
    const res = await this.post("/api/v1/jobs", { queue_name, payload: {}, ...fields });
    if (res.status !== 201 && res.status !== 200) throw new Error(`enqueue failed: ${res.status} ${res.text}`);
    return res.json.id;
  }

  /** Claims up to `limit` jobs and returns them. */
  async claim(queue_name, fields = {}) {
    const res = await this.post("/api/v1/jobs/claim", { queue_name, worker_id: "w1", ...fields });
    if (res.status !== 200) throw new Error(`claim failed: ${res.status} ${res.text}`);
    return res.json.jobs;
  }

  async job(id) {
    const res = await this.get(`/api/v1/jobs/${id}`);
    if (res.status !== 200) throw new Error(`get failed: ${res.status} ${res.text}`);
    return res.json;
  }
}

/** Creates an organization; returns a client holding its first key, the organization and that key's id. */
export async function newOrg(mf, name = "acme") {
  const res = await new Client(mf).post("/api/v1/organizations", { name }, { headers: { "X-Admin-Key": ADMIN_KEY } });
  assertStatus(res, 201);
  return { client: new Client(mf, res.json.api_key.key), org: res.json.organization, keyId: res.json.api_key.id };
}

/** Creates an organization and returns a client holding its API key. */
export async function newTenant(mf, name = "acme") {
  return (await newOrg(mf, name)).client;
}

/** Creates an API key with `client`; returns the 201 body and a client holding the new key. */
export async function createKey(client, body) {
  const res = await client.post("/api/v1/api-keys", body);
  assertStatus(res, 201);
  return { created: res.json, client: new Client(client.mf, res.json.key) };
}

/** A queue name no other test uses. */
export function queueName(prefix = "q") {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Polls `check` until it returns a truthy value or `timeout` ms pass (then throws). */
export async function eventually(check, { timeout = 10_000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`condition not met within ${timeout} ms (last: ${JSON.stringify(last)})`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Assertion and flow helpers.

/** RFC 3339 UTC timestamp with a `Z` suffix, as the API renders every time. */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Asserts an error response: status, JSON `{code, message}`, and the X-Request-Id header. */
export function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.ok(res.json && typeof res.json === "object", `error body is not JSON: ${res.text}`);
  assert.equal(res.json.code, code, `wrong code in ${res.text}`);
  assert.equal(typeof res.json.message, "string");
  assert.ok(res.json.message.length > 0, "error message is empty");
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.ok(res.headers.get("x-request-id"), "error response without X-Request-Id");
}

/** Asserts a 2xx status with the given code, showing the body on failure; returns the JSON body. */
export function assertStatus(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  return res.json;
}

/** Asserts an RFC 3339 time lies within [lo, hi] epoch ms. */
export function assertTimeWithin(text, lo, hi, what = "time") {
  assert.match(text ?? "", RFC3339, `${what} is not RFC 3339: ${text}`);
  const t = Date.parse(text);
  assert.ok(t >= lo && t <= hi, `${what} ${text} is outside [${new Date(lo).toISOString()}, ${new Date(hi).toISOString()}]`);
}

/** Sleeps until `start + ms` (for timing an action, never to wait for a state). */
export const sleepUntil = (start, ms) => sleep(Math.max(0, start + ms - Date.now()));

/** Claims exactly one job from `queue` (asserting it is `id` when given) and returns it. */
export async function claimOne(client, queue, id, fields = {}) {
  const jobs = await client.claim(queue, { limit: 1, ...fields });
  assert.equal(jobs.length, 1, `expected one claimable job in ${queue}, got ${JSON.stringify(jobs)}`);
  if (id !== undefined) assert.equal(jobs[0].id, id);
  return jobs[0];
}

/** POSTs a worker operation (`complete`, `fail`, `heartbeat`) for a claimed job with its lease. */
export function workerOp(client, job, op, body = {}) {
  return client.post(`/api/v1/jobs/${job.id}/${op}`, { lease_id: job.lease_id, worker_id: "w1", ...body });
}

/** Enqueues a job with `max_retries: 0`, claims it and fails it: returns its id, dead-lettered. */
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
