// `node bench/profile.mjs [enqueue_single|enqueue_bulk100|claim_complete_single|multi_queue_8|actor_insert|actor_bulk_insert] [seconds]`:
// a V8 CPU profile of the Worker's isolate (Worker entry and actors alike) while one workload
// runs at 8 connections. Writes bench/results/<workload>.cpuprofile (open it in Chrome DevTools)
// and prints the functions with the most self and inclusive time. Build the bench build first
// (`bash scripts/build.sh --bench`).
import { Miniflare } from "miniflare";
import { mkdirSync, writeFileSync } from "node:fs";
import { ADMIN_KEY, benchOptions, freePort } from "./server.mjs";
import { Api, CEILINGS, claimCompleteSingle, enqueueBulk100, enqueueSingle, multiQueue8, runCeiling } from "./workloads.mjs";

/** The ceiling routes, profiled the same way, so a workload's profile can be set beside its ceiling's. */
const ceiling = (name) => (args) => runCeiling(CEILINGS.find((c) => c.name === name), args);
const WORKLOADS = {
  enqueue_single: enqueueSingle,
  enqueue_bulk100: enqueueBulk100,
  claim_complete_single: claimCompleteSingle,
  multi_queue_8: (args) => multiQueue8({ ...args, queuePrefix: args.queue }),
  actor_insert: ceiling("actor_insert_rps"),
  actor_bulk_insert: ceiling("actor_bulk_insert_rps"),
};
const workload = process.argv[2] ?? "enqueue_bulk100";
const seconds = Math.min(30, Number(process.argv[3] ?? 3));
if (!WORKLOADS[workload]) throw new Error(`unknown workload ${workload}; one of ${Object.keys(WORKLOADS).join(", ")}`);

/** A minimal CDP client over the inspector's WebSocket. */
async function inspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.id === "core:user:");
  if (!target) throw new Error("the Worker's isolate is not among the inspector's targets");
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", reject);
  });
  let next = 0;
  const waiting = new Map();
  ws.addEventListener("message", (m) => {
    const msg = JSON.parse(m.data);
    waiting.get(msg.id)?.(msg);
    waiting.delete(msg.id);
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

function summarise(profile, top = 25) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map();
  profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const label = (n) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop()}`;
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  for (const [id, t] of time) {
    total += t;
    self.set(label(nodes.get(id)), (self.get(label(nodes.get(id))) ?? 0) + t);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = label(nodes.get(cur));
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + t);
      seen.add(key);
    }
  }
  const show = (title, map) => {
    console.log(`--- ${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .forEach(([k, t]) => console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`));
  };
  show("self time", self);
  show("inclusive time", inclusive);
}

const [port, inspectorPort] = [await freePort(), await freePort()];
const mf = new Miniflare({ ...benchOptions(port), inspectorPort });
try {
  const url = new URL(await mf.ready).origin;
  const res = await fetch(`${url}/api/v1/organizations`, {
    method: "POST",
    headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
    body: JSON.stringify({ name: "profile" }),
  });
  const key = (await res.json()).api_key.key;
  const api = new Api(url, key);
  const queue = "profiled";
  await api.touch(workload === "multi_queue_8" ? Array.from({ length: 8 }, (_, i) => `${queue}-${i}`) : [queue]);
  if (workload === "claim_complete_single") await api.preload(queue, 2_000 * seconds);
  const args = { url, key, connections: 8, queue };
  await WORKLOADS[workload]({ ...args, duration: 1 }); // warm-up, not profiled
  const cdp = await inspector(inspectorPort);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  const run = await WORKLOADS[workload]({ ...args, duration: seconds });
  const { result } = await cdp.send("Profiler.stop");
  cdp.close();
  console.log(`${workload}: ${run.requests_per_sec} requests/s, ${run.jobs_per_sec} jobs/s while profiled`);
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${workload}.cpuprofile`;
  writeFileSync(file, JSON.stringify(result.profile));
  console.log(`wrote ${file}`);
  summarise(result.profile);
} finally {
  await mf.dispose();
}
