// Serves the built Worker (build/index.js) over HTTP on a free loopback port for the SDK
// compatibility tests: the Miniflare options of wrangler.toml's production Worker, as the
// end-to-end harness uses them (SQLite-backed Durable Objects, real alarms, in-memory state),
// ADMIN_KEY "test-admin-key".
// Prints one line `READY http://127.0.0.1:PORT` once it accepts requests, then runs until
// stdin closes or it gets SIGTERM/SIGINT.
import { Miniflare } from "miniflare";
import { workerOptions } from "../../scripts/worker-options.mjs";

const mf = new Miniflare(workerOptions({ bindings: { ADMIN_KEY: "test-admin-key" }, host: "127.0.0.1", port: 0 }));

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } catch (error) {
    console.error(`serve.mjs: dispose failed: ${error}`);
  }
  process.exit(code);
}

process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));
process.stdin.on("end", () => stop(0));
process.stdin.on("close", () => stop(0));
process.stdin.resume();

try {
  const url = await mf.ready;
  // `url` is a URL object ending in "/"; print the origin only.
  process.stdout.write(`READY ${new URL(url).origin}\n`);
} catch (error) {
  console.error(`serve.mjs: Miniflare failed to start: ${error?.stack ?? error}`);
  await stop(1);
}
