// `node scripts/check-bundle.mjs` (in `npm test`): builds what `wrangler deploy` would upload
// for the production Worker and for the `bench` environment (`wrangler deploy --dry-run
// --outdir`, which runs each environment's build command), and checks that nothing of the
// bench is in production:
// - wrangler binds no bench class, and no file of the bundle (JS, source map, wasm) names
//   `BenchActor` (the wasm's exports call it `benchactor_*`);
// - served by Miniflare, the production bundle answers every ceiling route of the bench 404,
//   while its API answers.
// The bench bundle must show all of these (else the probes would prove nothing), so the
// check also leaves build/ and build-bench/ freshly built.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { CEILINGS } from "../bench/workloads.mjs";
import { BENCH_ENV, ROOT, workerOptions } from "./worker-options.mjs";

const BENCH_CLASS = /benchactor/i;

/** Runs `wrangler deploy --dry-run` for `env` into a fresh directory; returns it and wrangler's output. */
function dryRun(env) {
  const outdir = mkdtempSync(path.join(os.tmpdir(), "edgespool-bundle-"));
  const args = ["deploy", "--dry-run", "--outdir", outdir, ...(env ? ["--env", env] : [])];
  // On the Node running this check, whatever is first on PATH.
  const wrangler = path.join(ROOT, "node_modules/wrangler/bin/wrangler.js");
  const run = spawnSync(process.execPath, [wrangler, ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) {
    console.log(output);
    throw new Error(`wrangler ${args.join(" ")} failed (${run.error ?? `exit ${run.status}`})`);
  }
  return { outdir, output };
}

/** What of the bench a dry-run bundle shows: bound classes, files naming BenchActor, ceiling routes answered. */
async function benchTraces(env, { outdir, output }) {
  const bindingLines = output.split("\n").filter((line) => /^env\.\w+ \(/.test(line.trim()));
  const boundBench = bindingLines.filter((line) => BENCH_CLASS.test(line)).map((line) => line.trim());
  const files = readdirSync(outdir).filter((name) => BENCH_CLASS.test(readFileSync(path.join(outdir, name)).toString("latin1")));
  const script = readdirSync(outdir).find((name) => name.endsWith(".js"));
  const mf = new Miniflare(
    // Module names are relative to modulesRoot, which must hold the whole bundle.
    workerOptions({ env, script: path.join(outdir, script), modulesRoot: outdir, bindings: { ADMIN_KEY: "bundle-check" } }),
  );
  try {
    const health = await mf.dispatchFetch("http://localhost/health");
    await health.arrayBuffer();
    if (health.status !== 200) throw new Error(`${env ?? "production"} bundle: GET /health answered ${health.status}`);
    const answered = [];
    for (const { request } of CEILINGS) {
      const res = await mf.dispatchFetch(`http://localhost${request.path}`, { method: request.method, body: request.body });
      await res.arrayBuffer();
      if (res.status !== 404) answered.push(`${request.method} ${request.path} → ${res.status}`);
    }
    return { boundBench, files, answered, bindings: bindingLines.length };
  } finally {
    await mf.dispose();
  }
}

const results = {};
for (const env of [undefined, BENCH_ENV]) {
  const name = env ?? "production";
  console.log(`bundle check: wrangler deploy --dry-run${env ? ` --env ${env}` : ""}`);
  const bundle = dryRun(env);
  try {
    results[name] = await benchTraces(env, bundle);
  } finally {
    rmSync(bundle.outdir, { recursive: true, force: true });
  }
  const r = results[name];
  console.log(
    `bundle check: ${name}: ${r.bindings} bindings, bench classes bound [${r.boundBench.join("; ")}], ` +
      `files naming BenchActor [${r.files.join(", ")}], ceiling routes answered [${r.answered.join("; ")}]`,
  );
}

const failures = [];
const prod = results.production;
if (prod.bindings === 0) failures.push("wrangler listed no binding for production: the probe of its output is broken");
if (prod.boundBench.length) failures.push(`production binds a bench class: ${prod.boundBench.join("; ")}`);
if (prod.files.length) failures.push(`production bundle files name BenchActor: ${prod.files.join(", ")}`);
if (prod.answered.length) failures.push(`production answers ceiling routes: ${prod.answered.join("; ")}`);
const bench = results[BENCH_ENV];
if (!bench.boundBench.length || !bench.files.length || bench.answered.length !== CEILINGS.length) {
  failures.push("the bench bundle does not show the bench code: the probes would miss it in production too");
}
if (failures.length) {
  for (const failure of failures) console.log(`bundle check: FAILED: ${failure}`);
  process.exit(1);
}
console.log("bundle check: ok: production has no bench class and no ceiling route; the bench bundle has both");
