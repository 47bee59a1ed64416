// How much a tenant with many queues costs itself and others: one tenant with N queues (one
// job each) reads across them (`GET /jobs/stats`, `/queues`, `/jobs`), and another tenant's
// `GET /jobs/stats` over its one queue is timed alone and while eight such reads run.
// Prints medians; asserts nothing.
//
//   node bench/fanout.mjs [--queues=200] [--rate-limit=0] [--script=build/index.js]
//
// `--rate-limit` is the `rate_limit` per minute of the key the eight readers share (0: none);
// `--script` serves another build of the Worker (an older one, to compare).
import { Miniflare } from "miniflare";
import { workerOptions } from "../scripts/worker-options.mjs";

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const QUEUES = Number(arg("queues", "200"));
const RATE_LIMIT = Number(arg("rate-limit", "0"));
const ADMIN_KEY = "bench-admin-key";

const mf = new Miniflare(workerOptions({ script: arg("script", undefined), bindings: { ADMIN_KEY, DEFAULT_RATE_LIMIT: "0" } }));
await mf.ready;

async function send(method, path, key, body, { refusable = false } = {}) {
  const headers = key ? { Authorization: `Bearer ${key}` } : { "X-Admin-Key": ADMIN_KEY };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await mf.dispatchFetch(`http://localhost${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300 && !(refusable && res.status === 429)) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return { res, text };
}

async function tenant(name) {
  const { text } = await send("POST", "/api/v1/organizations", undefined, { name });
  return JSON.parse(text).api_key.key;
}

/** Median milliseconds of `runs` sequential calls of `f`. */
async function median(runs, f) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

try {
  await send("GET", "/health");
  const wide = await tenant("wide");
  const small = await tenant("small");
  await send("POST", "/api/v1/jobs", small, { queue_name: "mine", payload: {} });
  for (let i = 0; i < QUEUES; i += 25) {
    const batch = Array.from({ length: Math.min(25, QUEUES - i) }, (_, j) => `q-${String(i + j).padStart(4, "0")}`);
    await Promise.all(batch.map((q) => send("POST", "/api/v1/jobs", wide, { queue_name: q, payload: {} })));
  }
  const reads = ["/api/v1/jobs/stats", "/api/v1/queues", "/api/v1/jobs?limit=100"];
  for (const path of reads) await send("GET", path, wide); // warm every actor once
  const results = {};
  for (const path of reads) results[`tenant with ${QUEUES} queues: GET ${path}`] = await median(15, () => send("GET", path, wide));
  const bystander = () => send("GET", "/api/v1/jobs/stats", small);
  results["other tenant: GET /api/v1/jobs/stats alone"] = await median(30, bystander);
  const limited = RATE_LIMIT > 0 ? { name: "readers", rate_limit: RATE_LIMIT } : { name: "readers" };
  const readers = JSON.parse((await send("POST", "/api/v1/api-keys", wide, limited)).text).key;
  let stop = false;
  const hogged = { served: 0, refused: 0 };
  const hog = async () => {
    while (!stop) {
      const { res } = await send("GET", "/api/v1/jobs/stats", readers, undefined, { refusable: true });
      hogged[res.status === 429 ? "refused" : "served"]++;
    }
  };
  const hogs = Array.from({ length: 8 }, hog);
  results["other tenant: GET /api/v1/jobs/stats beside 8 wide reads"] = await median(30, bystander);
  stop = true;
  await Promise.all(hogs);
  console.log(`readers' rate limit ${RATE_LIMIT || "none"}/min; the 8 wide readers: ${hogged.served} served, ${hogged.refused} refused (429)`);
  for (const [what, ms] of Object.entries(results)) console.log(`${what}: median ${ms.toFixed(1)} ms`);
} finally {
  await mf.dispose();
}
