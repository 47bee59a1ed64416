// The system under test for the crash test: the built Worker (build/index.js) on Miniflare's
// workerd with its Durable Objects persisted to a directory on disk, served over HTTP on
// loopback — and the means to kill that runtime with SIGKILL and start it again on the same
// state.
import { Miniflare } from "miniflare";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { workerOptions } from "../scripts/worker-options.mjs";

export const ADMIN_KEY = "chaos-admin-key";
export const HOST = "127.0.0.1";

/** A port that was free a moment ago on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Miniflare options of wrangler.toml's production Worker (the build that ships: a crash must
 * lose nothing there), on disk and on a port.
 */
function options(persistDir, port, onOutput) {
  return workerOptions({
    // DEFAULT_RATE_LIMIT 0 lifts the per-key request limit. The webhook receiver is on
    // loopback over http, and a 1 s base of the retry curve (1, 2, 4 s…) brings the retries
    // of deliveries cut off by a kill, or answered 500, within the run.
    bindings: { ADMIN_KEY, DEFAULT_RATE_LIMIT: "0", ALLOW_HTTP_LOOPBACK_WEBHOOKS: "true", WEBHOOK_RETRY_BASE_SECS: "1" },
    durableObjectsPersist: persistDir,
    host: HOST,
    port,
    // The runtime's own output is kept (the last lines are shown if the run fails), not printed.
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (chunk) => onOutput(String(chunk)));
      stderr.on("data", (chunk) => onOutput(String(chunk)));
    },
  });
}

/** Parent pid, command name and command line of every process, from /proc. */
export function processTable() {
  const table = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may contain spaces: parse around the last ')'.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const [state, ppid] = stat.slice(close + 2).split(" ");
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      } catch {
        // Unreadable: the command name alone decides.
      }
      table.set(Number(entry), { ppid: Number(ppid), comm, cmdline, state });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/**
 * The runtime: every live workerd process descended from this Node process (Miniflare spawns
 * workerd as its child), with all of their own descendants. Other sessions' workerd processes
 * are never touched: only this process's tree is searched.
 */
export function runtimePids() {
  const table = processTable();
  const children = new Map();
  for (const [pid, { ppid }] of table) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const isWorkerd = ({ comm, cmdline }) => comm.startsWith("workerd") || /(^|\/)workerd(\s|$)/.test(cmdline.split(" ")[0]);
  const pids = [];
  const walk = (pid, inside, depth) => {
    if (depth > 32) return;
    for (const child of children.get(pid) ?? []) {
      const info = table.get(child);
      const inRuntime = inside || isWorkerd(info);
      // A zombie is already dead; it only waits for Node to reap it.
      if (inRuntime && info.state !== "Z") pids.push(child);
      walk(child, inRuntime, depth + 1);
    }
  };
  walk(process.pid, false, 0);
  return pids;
}

/**
 * One runtime at a time on one persistence directory. `start()` serves it (on the same port as
 * before when it can), `kill()` SIGKILLs the whole runtime process tree.
 */
export class Runtime {
  constructor(persistDir) {
    this.persistDir = persistDir;
    this.mf = undefined;
    this.port = undefined;
    this.base = undefined;
    this.portChanges = 0;
    this.output = [];
  }

  #keepOutput(text) {
    for (const line of text.split("\n")) if (line.trim()) this.output.push(line);
    if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
  }

  /** Starts Miniflare (and so workerd) on the persistence directory; returns the start time in ms. */
  async start() {
    const t0 = Date.now();
    this.port ??= await freePort();
    for (let attempt = 1; attempt <= 8; attempt++) {
      const mf = new Miniflare(options(this.persistDir, this.port, (t) => this.#keepOutput(t)));
      try {
        const url = new URL(await mf.ready);
        if (url.hostname !== HOST) throw new Error(`Miniflare listens on ${url.hostname}, expected ${HOST}`);
        this.mf = mf;
        this.base = url.origin;
        return Date.now() - t0;
      } catch (error) {
        await mf.dispose().catch(() => {});
        if (error?.code !== "ERR_ADDRESS_IN_USE") throw error;
        // The old port is still held: wait a little, and after a few tries move to another one
        // (the clients read `base` on every request).
        if (attempt >= 4) {
          this.port = await freePort();
          this.portChanges += 1;
        } else {
          await new Promise((r) => setTimeout(r, 250 * attempt));
        }
      }
    }
    throw new Error(`the runtime did not start on the persistence directory after 8 tries`);
  }

  /**
   * SIGKILLs every workerd process of this runtime (and their descendants), then lets go of the
   * dead Miniflare instance. Returns the pids killed.
   */
  async kill() {
    const pids = runtimePids();
    if (pids.length === 0) throw new Error("no workerd process found among this process's descendants");
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch (error) {
        if (error.code !== "ESRCH") throw error;
      }
    }
    // Miniflare restarts a workerd that exits unexpectedly; dispose() first (and synchronously)
    // aborts that, before the exit is even noticed, then frees the Node-side resources. The
    // runtime itself is already dead: this is the cleanup of the instance, not the kill.
    const mf = this.mf;
    this.mf = undefined;
    await mf?.dispose().catch(() => {});
    const deadline = Date.now() + 5_000;
    while (runtimePids().length > 0) {
      if (Date.now() > deadline) throw new Error(`workerd still running after SIGKILL: ${runtimePids().join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return pids;
  }

  /** Orderly shutdown at the end of the run. */
  async stop() {
    const mf = this.mf;
    this.mf = undefined;
    await mf?.dispose().catch(() => {});
  }

  /** Kills whatever is left of the runtime right now (watchdog and error paths). */
  killNow() {
    for (const pid of runtimePids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}
