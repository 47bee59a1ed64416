// Serves the built Worker (build/index.js) over HTTP on a free loopback port for the SDK
// compatibility tests: the Miniflare options of wrangler.toml's production Worker, as the
// end-to-end harness uses them (SQLite-backed Durable Objects, real alarms, in-memory state),
// ADMIN_KEY "test-admin-key"; webhooks may target the suite's receivers on loopback over http, retry
// a failed delivery once after a second, and a tenant may have 3 enabled webhooks (so the suite
// reaches the cap without making dozens).
// Prints one line `READY http://127.0.0.1:PORT` once it accepts requests, then runs until
// stdin closes or it gets SIGTERM/SIGINT.
import { Miniflare } from "miniflare";
import { workerOptions } from "../../scripts/worker-options.mjs";

const bindings = {
  ADMIN_KEY: "test-admin-key",
  ALLOW_HTTP_LOOPBACK_WEBHOOKS: "true",
  WEBHOOK_RETRY_BASE_SECS: "1",
  WEBHOOK_MAX_ATTEMPTS: "2",
  WEBHOOK_LIMIT: "3",
};
const mf = new Miniflare(workerOptions({ bindings, host: "127.0.0.1", port: 0 }));

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
