// `npm run chaos` (full, a few minutes) and `node chaos/run.mjs --quick` (inside `npm test`,
// under 3 minutes): the crash test.
//
// The built Worker runs on workerd (Miniflare) with its Durable Objects on disk, served over
// HTTP on loopback. Producers enqueue with idempotency keys into three queues (plain jobs,
// short-lease jobs that consumers sometimes abandon, jobs scheduled a few seconds ahead) and
// retry the same request after any connection error or 5xx until it is acknowledged; consumers
// claim and complete, retrying a completion with the same lease. Meanwhile the whole runtime
// process tree is killed with SIGKILL at random moments and started again on the same state.
// After the last restart only reads are sent: the alarm alone must handle the leases and
// schedules that came due while the runtime was down. Then the surviving state is checked
// against everything the server acknowledged. A webhook subscribed to job.created and
// job.completed points at a receiver in this process (it survives the kills), which verifies
// every signature and answers a tenth of the deliveries 500; once the deliveries settle, every
// event of every surviving transition must have reached it, and nothing else. One line sums
// it up:
//
//   acked=N lost=0 duplicated=0 double_leased=0 completed=M stuck=0 kills=K
//   webhook_events=E webhook_missing=0 webhook_invented=0 webhook_duplicates=D bad_signatures=0
//
// The exit status is non-zero when anything was lost, duplicated or double-leased, a due
// lease or schedule was left unhandled, an event never reached the receiver or one reached it
// that the server never committed, a signature did not verify, fewer than 5 kills happened, or
// the harness failed.
// `--seed=N` replays a run's random choices (not its timing).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkDeliveries, createWebhook, expectedEvents, selfTestDeliveries, waitForDeliveries } from "./deliveries.mjs";
import { Receiver } from "./receiver.mjs";
import { ADMIN_KEY, Runtime } from "./runtime.mjs";
import { check, dueWhileDown, readState, selfTest, waitForAlarms } from "./verify.mjs";
import { Http, MAX_AHEAD_MS, MAX_LEASE_MS, Pace, QUEUES, Record, consumer, producer, rng, sleep } from "./workload.mjs";

const QUICK = process.argv.includes("--quick");
const seedArg = process.argv.find((a) => a.startsWith("--seed="));
const SEED = seedArg ? Number(seedArg.slice(7)) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const MIN_KILLS = 5;
/** The webhook's secret, which the receiver verifies every signature with. */
const WEBHOOK_SECRET = "chaos-webhook-secret-0123456789";
/** The share of validly signed deliveries the receiver answers 500. */
const RECEIVER_FAIL_SHARE = 0.1;
/**
 * How long the deliveries may take to settle once the state is read: a delivery in flight at
 * the last kill is tried again when its 30 s attempt lease ends, then on the 1 s retry curve.
 */
const DELIVERY_WAIT_MS = 50_000;

/** What one mode runs. Times in ms. */
const PLAN = QUICK
  ? { mode: "quick", producers: 3, consumers: 4, workloadMs: 70_000, kills: 6, downMs: [200, 2_500], lastDownMs: 7_000, watchdogMs: 175_000 }
  : { mode: "full", producers: 5, consumers: 5, workloadMs: 240_000, kills: 15, downMs: [200, 4_000], lastDownMs: 8_000, watchdogMs: 580_000 };
/** Jobs per queue stay below what the listing can page through (10,100 per status)... */
const MAX_JOBS_PER_QUEUE = 9_000;
/**
 * ...and the producers' pace spreads them over the whole workload. The quick run is paced
 * lower still, so that reading every job back keeps it well inside 3 minutes on a fast machine.
 */
const BUSIEST_SHARE = Math.max(...QUEUES.map((q) => q.weight)) / QUEUES.reduce((s, q) => s + q.weight, 0);
const JOBS_PER_SEC = Math.min(QUICK ? 90 : Infinity, (0.85 * MAX_JOBS_PER_QUEUE) / BUSIEST_SHARE / (PLAN.workloadMs / 1000));

const t0 = Date.now();
const log = (line) => console.log(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s] ${line}`);
const secs = (ms) => (ms / 1000).toFixed(1);

const persistDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgespool-chaos-"));
const runtime = new Runtime(persistDir);
const record = new Record();
const random = rng(SEED);
const receiver = new Receiver({ secret: WEBHOOK_SECRET, failShare: RECEIVER_FAIL_SHARE, random: rng(SEED + 201) });
let kills = 0;

function cleanup() {
  runtime.killNow();
  receiver.close();
  fs.rmSync(persistDir, { recursive: true, force: true });
}

function fail(message) {
  console.log(`chaos: FAILED: ${message}`);
  if (runtime.output.length) console.log(`last runtime output:\n  ${runtime.output.slice(-20).join("\n  ")}`);
  console.log(
    `acked=${record.enqueued.size} lost=? duplicated=? double_leased=? completed=${record.completions.length} stuck=? kills=${kills} ` +
      `webhook_events=? webhook_missing=? webhook_invented=? webhook_duplicates=? bad_signatures=${receiver.badSignatures.length}`,
  );
  cleanup();
  process.exit(2);
}

// Every run ends in bounded time, whatever hangs.
const watchdog = setTimeout(() => fail(`the run overran its ${PLAN.watchdogMs / 1000} s watchdog`), PLAN.watchdogMs);
process.on("unhandledRejection", (error) => fail(`unhandled rejection: ${error?.stack ?? error}`));

async function main() {
  log(`crash test (${PLAN.mode}), seed ${SEED}: ${PLAN.producers} producers, ${PLAN.consumers} consumers, ` +
    `queues ${QUEUES.map((q) => q.name).join(", ")}, at most ${Math.round(JOBS_PER_SEC)} jobs/s, ` +
    `${PLAN.kills} kills in ${PLAN.workloadMs / 1000} s, state in ${persistDir}`);
  await receiver.start();
  const startMs = await runtime.start();
  log(`runtime up at ${runtime.base} in ${startMs} ms (workerd on disk)`);

  const admin = new Http(runtime, record);
  const org = await admin.request("POST", "/api/v1/organizations", { name: "chaos" }, { "X-Admin-Key": ADMIN_KEY });
  if (org.status !== 201) throw new Error(`creating the organization failed: ${org.status} ${org.text}`);
  const http = new Http(runtime, record, org.json.api_key.key);
  const webhookId = await createWebhook(http, receiver.url, WEBHOOK_SECRET);
  log(`webhook ${webhookId} (${receiver.url}) subscribed to job.created and job.completed; the receiver answers ` +
    `${RECEIVER_FAIL_SHARE * 100} % of deliveries 500`);

  // The traffic: runs until the last kill stops it.
  let running = true;
  const isRunning = () => running;
  const perProducer = Math.floor(MAX_JOBS_PER_QUEUE / PLAN.producers);
  const pace = new Pace(JOBS_PER_SEC);
  const workers = [
    ...Array.from({ length: PLAN.producers }, (_, i) =>
      producer(i, { http, record, random: rng(SEED + 1 + i), running: isRunning, maxPerQueue: perProducer, pace })),
    ...Array.from({ length: PLAN.consumers }, (_, i) =>
      consumer(i, { http, record, random: rng(SEED + 101 + i), running: isRunning })),
  ];

  // The kills: one at a random moment in each slot of the workload, the last at its end.
  const slot = PLAN.workloadMs / PLAN.kills;
  let lastKill;
  for (let k = 0; k < PLAN.kills; k++) {
    const last = k === PLAN.kills - 1;
    const at = t0 + (last ? PLAN.workloadMs : (k + random.between(0.25, 1)) * slot);
    await sleep(Math.max(at - Date.now(), 1_000));
    if (last) running = false; // nothing but reads after the final restart
    const inFlight = record.inFlight;
    const killedAt = Date.now();
    const pids = await runtime.kill();
    kills += 1;
    const downMs = last ? PLAN.lastDownMs : random.between(...PLAN.downMs);
    if (last) {
      // Let every producer and consumer see its requests fail and stop before the restart.
      const stopped = await Promise.race([Promise.all(workers).then(() => true), sleep(PLAN.lastDownMs).then(() => false)]);
      if (!stopped) throw new Error("the producers and consumers did not stop within the last downtime");
    }
    await sleep(Math.max(0, killedAt + downMs - Date.now()));
    const restartMs = await runtime.start();
    const restartedAt = Date.now();
    log(`kill ${kills}/${PLAN.kills}: SIGKILL workerd pid ${pids.join(",")} with ${inFlight} requests in flight; ` +
      `down ${secs(restartedAt - killedAt)} s, restarted in ${restartMs} ms at ${runtime.base}; ` +
      `so far acked ${record.enqueued.size}, completed ${record.completions.length}`);
    lastKill = { killedAt, restartedAt };
  }

  // Reads only from here on: the alarm must bring every due lease and schedule back.
  const due = dueWhileDown(record, lastKill.killedAt, lastKill.restartedAt);
  log(`came due while the runtime was down (known to the record): ${due.leases.length} leases, ${due.schedules.length} schedules`);
  const settled = await waitForAlarms(http, { timeoutMs: MAX_LEASE_MS + MAX_AHEAD_MS + 20_000, log });
  log(`alarms settled ${secs(Date.now() - lastKill.restartedAt)} s after the restart (${settled.polls} polls, reads only): ` +
    `${settled.overdueSeen} jobs seen past due, at most ${settled.maxOverdueMs} ms`);
  let stuck = settled.stuck;
  for (const c of due.leases) {
    const job = (await http.get(`/api/v1/jobs/${c.id}`)).json;
    // Still under that very lease (reads show its deadline, never its id).
    if (job?.status === "processing" && Date.parse(job.lease_expires_at) === c.expires) stuck += 1;
  }
  for (const e of due.schedules) {
    const job = (await http.get(`/api/v1/jobs/${e.id}`)).json;
    if (job?.status === "scheduled") stuck += 1;
  }

  const state = await readState(http, { log });
  let pagingBroken = 0;
  for (const p of state.paging) {
    const ok = p.rows === p.total && p.distinct === p.total;
    if (!ok) pagingBroken += 1;
    log(`${ok ? "" : "SERVER PROBLEM: "}documented paging of ${p.queue} (limit=100, offset += 100) listed ${p.rows} rows, ` +
      `${p.distinct} distinct, of ${p.total} jobs`);
  }
  const result = await check(http, record, state);
  const expected = expectedEvents(record, state);
  const waited = await waitForDeliveries(http, receiver, webhookId, expected, { timeoutMs: DELIVERY_WAIT_MS, log });
  log(`deliveries ${waited.missing === 0 && waited.pending === 0 ? "settled" : "did not settle"} ` +
    `${secs(Date.now() - lastKill.restartedAt)} s after the restart (${secs(waited.settledMs)} s after the state was read): ` +
    `${waited.missing} events not received, ${waited.pending ?? "?"} deliveries pending; the last delivery arrived ` +
    `${secs(Math.max(...receiver.taken.map((t) => t.at)) - lastKill.restartedAt)} s after the restart`);
  const webhook = checkDeliveries(receiver.taken, expected, state);
  const r = receiver.counts;
  log(`receiver: ${r.requests} requests (${r.torn} torn by a kill), ${r.answered_500} answered 500, ` +
    `${receiver.taken.length} taken (${r.retried_attempts} on an attempt after the first), ${webhook.events} distinct events ` +
    `of ${expected.all.size} expected (${expected.acknowledged.size} of acknowledged writes), ` +
    `${webhook.duplicates} duplicate deliveries of ${webhook.duplicatedIds} events, ` +
    `${receiver.badSignatures.length} bad signatures, ${receiver.malformed.length} malformed`);
  const c = record.counts;
  log(`traffic: ${c.requests} requests, ${c.connection_errors} connection errors, ${c.server_errors} 5xx; ` +
    `enqueue retries ${c.enqueue_retries} (${c.enqueue_dedup_on_retry} answered created:false — the lost attempt had landed), ` +
    `bulk ${c.bulk_enqueues}; claims ${c.claim_requests} (${c.claim_errors} failed) → ${c.claimed} jobs, ${c.abandoned} abandoned; ` +
    `complete retries ${c.complete_retries} (${c.complete_ack_on_retry} acknowledged on a retry), ` +
    `${c.slow} worked past their lease, ${c.lease_expired} LEASE_EXPIRED; ` +
    `${c.given_up} operations cut short by the last kill; port changes ${runtime.portChanges}`);
  log(`leases: ${record.claims.length} on ${result.leasedJobs} jobs, ${result.leasedAgain} jobs leased more than once ` +
    `(each pair checked for overlapping live windows)`);
  for (const p of [...result.problems, ...webhook.problems]) log(`${p.kind}: ${p.text}`);
  for (const m of receiver.malformed.slice(0, 5)) log(`malformed delivery: ${m}`);
  for (const u of record.unexpected.slice(0, 10)) log(`unexpected response: ${u}`);
  if (result.foreign || result.ackRefused || record.unexpected.length) {
    log(`also: foreign=${result.foreign} ack_refused=${result.ackRefused} unexpected=${record.unexpected.length}`);
  }
  const selfTestError = await selfTest(http, record, state);
  log(selfTestError ? `CHECKER SELF-TEST FAILED: ${selfTestError}` : "checker self-test: a planted lost enqueue, reverted completion, duplicated key and overlapping lease are each counted");
  const webhookSelfTestError = selfTestDeliveries(receiver, expected, state);
  log(webhookSelfTestError ? `WEBHOOK CHECKER SELF-TEST FAILED: ${webhookSelfTestError}` :
    "webhook checker self-test: a planted missing, invented and duplicated event are each counted; changed bodies, other secrets and stale timestamps are refused");
  log(`done in ${secs(Date.now() - t0)} s`);
  console.log(
    `acked=${record.enqueued.size} lost=${result.lost} duplicated=${result.duplicated} double_leased=${result.doubleLeased} ` +
      `completed=${record.completions.length} stuck=${stuck} kills=${kills} ` +
      `webhook_events=${webhook.events} webhook_missing=${webhook.missing} webhook_invented=${webhook.invented} ` +
      `webhook_duplicates=${webhook.duplicates} bad_signatures=${receiver.badSignatures.length}`,
  );
  const ok =
    result.lost === 0 &&
    result.duplicated === 0 &&
    result.doubleLeased === 0 &&
    stuck === 0 &&
    result.foreign === 0 &&
    result.ackRefused === 0 &&
    record.unexpected.length === 0 &&
    pagingBroken === 0 &&
    !selfTestError &&
    webhook.missing === 0 &&
    webhook.invented === 0 &&
    receiver.badSignatures.length === 0 &&
    receiver.malformed.length === 0 &&
    !webhookSelfTestError &&
    kills >= MIN_KILLS;
  return ok;
}

main().then(
  async (ok) => {
    clearTimeout(watchdog);
    await runtime.stop();
    cleanup();
    process.exit(ok ? 0 : 1);
  },
  (error) => fail(error?.stack ?? String(error)),
);
