// The system under test: the bench build of the Worker (build-bench/, wrangler environment
// `bench`: the API plus the ceiling routes) served by Miniflare's workerd on loopback, plus
// the runtime's memory use.
import { Miniflare } from "miniflare";
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { freePort, runtimePids } from "../chaos/runtime.mjs";
import { BENCH_ENV, workerOptions } from "../scripts/worker-options.mjs";

export { freePort };

export const ADMIN_KEY = "bench-admin-key";
const HOST = "127.0.0.1";

/** Miniflare options of wrangler.toml's `bench` environment (its variables lift the per-key rate limit). */
export function benchOptions(port) {
  return workerOptions({ env: BENCH_ENV, bindings: { ADMIN_KEY }, host: HOST, port });
}

/**
 * Where the Durable Objects' SQLite files go. workerd fsyncs once per committed write; on a
 * shared virtual disk that fsync's time depends on whatever else writes to the disk (builds,
 * other tests), so by default the bench keeps the files on tmpfs (/dev/shm), which measures
 * the code rather than the neighbours. `disk` keeps Miniflare's default (a temporary directory
 * under the OS temp dir).
 */
function storageDir(kind) {
  if (kind === "disk") return { kind: "disk (Miniflare default temporary directory)", dir: undefined };
  try {
    accessSync("/dev/shm", constants.W_OK);
    return { kind: "tmpfs (/dev/shm)", dir: mkdtempSync("/dev/shm/edgespool-bench-") };
  } catch {
    return { kind: "disk (no writable /dev/shm)", dir: undefined };
  }
}

/**
 * Starts the Worker on a free loopback port. Returns `{ mf, url, storage, stop }`: url without
 * a trailing slash, and `stop()` disposes Miniflare and removes the storage it used.
 */
export async function startServer({ storage = "tmpfs" } = {}) {
  const port = await freePort();
  const where = storageDir(storage);
  const options = benchOptions(port);
  if (where.dir) options.durableObjectsPersist = where.dir;
  const mf = new Miniflare(options);
  const stop = async () => {
    await mf.dispose();
    if (where.dir) rmSync(where.dir, { recursive: true, force: true });
  };
  try {
    const url = new URL(await mf.ready);
    if (url.hostname !== HOST) throw new Error(`Miniflare listens on ${url.hostname}, expected ${HOST}`);
    return { mf, url: url.origin, storage: where.kind, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function rssOf(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * RSS of the runtime: every workerd process descended from this Node process, with their own
 * descendants. Returns `{ bytes, pids }`.
 */
export function runtimeRss() {
  const pids = runtimePids();
  return { bytes: pids.reduce((sum, pid) => sum + rssOf(pid), 0), pids };
}

/** Clock ticks per second of /proc/<pid>/stat times. */
const TICKS_PER_SEC = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) used so far by the given processes. */
export function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended.
    }
  }
  return (ticks * 1000) / TICKS_PER_SEC;
}
