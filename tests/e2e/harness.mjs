// Shared end-to-end harness: the built Worker (build/index.js) on Miniflare with real
// SQLite-backed Durable Objects and real alarms, plus small API helpers.
import { Miniflare } from "miniflare";
import { randomUUID } from "node:crypto";

export const ADMIN_KEY = "test-admin-key";

/** Miniflare options mirroring wrangler.toml. */
export function workerOptions(extra = {}) {
  return {
    modules: true,
    scriptPath: "build/index.js",
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-07-01",
    durableObjects: {
      QUEUE: { className: "QueueActor", useSQLite: true },
      TENANT: { className: "TenantActor", useSQLite: true },
    },
    bindings: { ADMIN_KEY },
    ...extra,
  };
}

/** Starts the Worker; pass `{ durableObjectsPersist: dir }` to keep state on disk. */
export async function startWorker(extra = {}) {
  const mf = new Miniflare(workerOptions(extra));
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

/** Creates an organization and returns a client holding its API key. */
export async function newTenant(mf, name = "acme") {
  const admin = new Client(mf);
  const res = await admin.post("/api/v1/organizations", { name }, { headers: { "X-Admin-Key": ADMIN_KEY } });
  if (res.status !== 201) throw new Error(`organization failed: ${res.status} ${res.text}`);
  return new Client(mf, res.json.api_key.key);
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
