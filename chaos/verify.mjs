// After the last restart: reads only. First wait until the alarm has handled every lease and
// schedule that came due (no claim, no write), then compare the surviving state with what the
// server acknowledged during the run.
import { QUEUES, sleep } from "./workload.mjs";

/** Slack for the runtime's clock, which is read once per event, against the test's. */
const FENCE_TOLERANCE_MS = 50;
const STATUSES = ["pending", "scheduled", "processing", "completed", "failed", "deadletter", "cancelled"];
/** The API pages to this offset at most (src/api/reads.rs MAX_LIST_OFFSET). */
const MAX_LIST_OFFSET = 10_000;
const PAGE = 100;

/** A read that must succeed: the runtime is up and nobody kills it any more. */
async function read(http, path) {
  for (let attempt = 1; attempt <= 20; attempt++) {
    const res = await http.get(path);
    if (res.status === 200) return res;
    if (res.status !== 0 && res.status < 500) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
    await sleep(100 * attempt);
  }
  throw new Error(`GET ${path} kept failing`);
}

/**
 * Every job summary of one queue (in one status, when given), paging `limit=100` by `step`.
 * Returns `{ jobs, rows }`: the distinct summaries, and how many rows the pages held.
 *
 * With `step` 100 this is the documented paging. It is not reliable (a server problem, see
 * docs/RELIABILITY.md): the actor cuts its rows by insertion order while the Worker re-sorts
 * them by (created_at, id), and jobs created in the same millisecond (a bulk enqueue) have
 * random ULIDs, so at a page boundary some rows appear twice and others never. With `step`
 * 50 the pages overlap and every job of a same-millisecond group under 50 shows up in some
 * page whole; the caller still checks the count against the queue's stats.
 */
async function listJobs(http, queue, status, step = PAGE) {
  const jobs = new Map();
  let rows = 0;
  const filter = status ? `&status=${status}` : "";
  for (let offset = 0; offset <= MAX_LIST_OFFSET; offset += step) {
    const res = await read(http, `/api/v1/jobs?queue_name=${queue}${filter}&limit=${PAGE}&offset=${offset}`);
    rows += step === PAGE ? res.json.length : 0;
    for (const job of res.json) jobs.set(job.id, job);
    if (res.headers.get("x-has-more") !== "true") return { jobs: [...jobs.values()], rows };
  }
  throw new Error(`${queue} holds more than ${MAX_LIST_OFFSET + PAGE} ${status ?? ""} jobs: the listing cannot reach them all`);
}

/** Every job summary of one queue in one status, with overlapping pages (see `listJobs`). */
async function listStatus(http, queue, status) {
  return (await listJobs(http, queue, status, PAGE / 2)).jobs;
}

/** Runs `fn` over `items`, `width` at a time. */
async function mapLimit(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}

/** The lease whose completion a completed job's result was stored by (the workload's results name it). */
const landedUnder = (job) => job.result?.lease ?? null;

/**
 * Leases and schedules that came due while the runtime was down, from the record: leases we
 * hold knowledge of that ended in (killedAt, restartedAt] without an acknowledged completion,
 * and acknowledged scheduled jobs due in that window (nothing could have claimed them before
 * the kill: they were not due yet).
 */
export function dueWhileDown(record, killedAt, restartedAt) {
  const completed = new Set(record.completions.map((c) => `${c.id} ${c.lease}`));
  const leases = record.claims.filter(
    (c) => c.expires > killedAt && c.expires <= restartedAt && !completed.has(`${c.id} ${c.lease}`),
  );
  const schedules = [...record.enqueued.values()].filter((e) => {
    const at = e.scheduledAt ? Date.parse(e.scheduledAt) : NaN;
    return at > killedAt && at <= restartedAt;
  });
  return { leases, schedules };
}

/**
 * Polls with reads only until no job is `processing` and none is `scheduled` (every lease has
 * run out and every schedule come due, and the alarm has acted on each), or `timeoutMs` passes.
 * Returns `{ settledMs, stuck, overdueSeen, maxOverdueMs }`: `stuck` counts the jobs still
 * processing past their lease deadline or scheduled past their time (by over `graceMs`) at
 * the timeout.
 */
export async function waitForAlarms(http, { timeoutMs, graceMs = 2_000, log }) {
  const t0 = Date.now();
  const overdue = new Map();
  let maxOverdueMs = 0;
  let polls = 0;
  while (true) {
    polls += 1;
    const open = [];
    for (const queue of QUEUES) {
      for (const status of ["processing", "scheduled"]) {
        for (const job of await listStatus(http, queue.name, status)) open.push({ id: job.id, status, summary: job });
      }
    }
    const now = Date.now();
    let late = 0;
    const details = await mapLimit(open, 8, async ({ id, status, summary }) => {
      if (status === "scheduled") return { id, status, due: Date.parse(summary.scheduled_at) };
      const job = (await read(http, `/api/v1/jobs/${id}`)).json;
      return { id, status: job.status, due: job.lease_expires_at ? Date.parse(job.lease_expires_at) : now };
    });
    for (const { id, status, due } of details) {
      if (status !== "processing" && status !== "scheduled") continue;
      if (now > due) {
        overdue.set(id, Math.max(overdue.get(id) ?? 0, now - due));
        maxOverdueMs = Math.max(maxOverdueMs, now - due);
        if (now - due > graceMs) late += 1;
      }
    }
    const still = details.filter((d) => d.status === "processing" || d.status === "scheduled").length;
    if (still === 0) {
      return { settledMs: Date.now() - t0, stuck: 0, overdueSeen: overdue.size, maxOverdueMs, polls };
    }
    if (Date.now() - t0 > timeoutMs) {
      log(`after ${timeoutMs} ms still ${still} jobs processing or scheduled, ${late} of them over ${graceMs} ms past due`);
      return { settledMs: Date.now() - t0, stuck: late, overdueSeen: overdue.size, maxOverdueMs, polls };
    }
    await sleep(400);
  }
}

/**
 * Reads the whole surviving state: every job of every queue, listed and then read one by one.
 * The listing must account for every job each queue's stats count, or the checks are blind.
 * Also reports what the documented paging (`limit=100&offset=0,100,…`) returned.
 */
export async function readState(http, { log }) {
  const summaries = [];
  const listing = {};
  const paging = [];
  for (const queue of QUEUES) {
    const stats = (await read(http, `/api/v1/jobs/stats?queue_name=${queue.name}`)).json;
    listing[queue.name] = {};
    for (const status of STATUSES) {
      const jobs = await listStatus(http, queue.name, status);
      listing[queue.name][status] = jobs.length;
      summaries.push(...jobs);
      if (jobs.length !== (stats[status] ?? 0)) {
        throw new Error(`${queue.name}: ${jobs.length} ${status} jobs listed but stats count ${stats[status]}`);
      }
    }
    if (stats.total <= MAX_LIST_OFFSET + PAGE) {
      const plain = await listJobs(http, queue.name, undefined, PAGE);
      paging.push({ queue: queue.name, total: stats.total, rows: plain.rows, distinct: plain.jobs.length });
    }
  }
  const jobs = new Map();
  const full = await mapLimit(summaries, 12, async (s) => (await read(http, `/api/v1/jobs/${s.id}`)).json);
  for (const job of full) {
    if (jobs.has(job.id)) throw new Error(`job ${job.id} listed in two statuses`);
    jobs.set(job.id, job);
  }
  log(`read ${jobs.size} jobs: ${JSON.stringify(listing)}`);
  return { jobs, listing, paging };
}

/**
 * The checks. `lost`: acknowledged enqueues that are gone (or carry another payload), and
 * acknowledged completions no longer `completed`. `duplicated`: idempotency keys held by more
 * than one job, jobs completed under two leases, and jobs handed out again after their
 * completion was acknowledged. `doubleLeased`: pairs of leases on one job whose live windows
 * overlap — a lease is live from its claim response until its deadline or the acknowledgement
 * of its completion, whichever is first.
 */
export async function check(http, record, state) {
  const problems = [];
  const note = (kind, text) => {
    if (problems.filter((p) => p.kind === kind).length < 10) problems.push({ kind, text });
  };
  let lost = 0;
  let duplicated = 0;
  let doubleLeased = 0;
  let foreign = 0;
  let ackRefused = 0;
  const { jobs } = state;

  // Every acknowledged enqueue exists, with its own key and payload.
  for (const [key, ack] of record.enqueued) {
    let job = jobs.get(ack.id);
    if (!job) {
      const res = await http.get(`/api/v1/jobs/${ack.id}`);
      if (res.status === 200) job = res.json;
    }
    if (!job || job.idempotency_key !== key || job.payload?.key !== key) {
      lost += 1;
      note("lost", `enqueue ${key} acknowledged as ${ack.id}: ${job ? `key ${job.idempotency_key}, payload ${JSON.stringify(job.payload)}` : "not found"}`);
    }
  }

  // No idempotency key has two jobs; no job carries a key nobody sent.
  const byKey = new Map();
  for (const job of jobs.values()) {
    const key = job.idempotency_key;
    if (!key || !record.attemptedKeys.has(key)) {
      foreign += 1;
      note("foreign", `job ${job.id} carries key ${key}, never sent`);
      continue;
    }
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(job.id);
  }
  for (const [key, ids] of byKey) {
    if (ids.length > 1) {
      duplicated += ids.length - 1;
      note("duplicated", `key ${key} has ${ids.length} jobs: ${ids.join(", ")}`);
    }
  }

  // Every acknowledged completion is still `completed`, under the lease that completed it.
  const completedUnder = new Map();
  for (const c of record.completions) {
    if (!completedUnder.has(c.id)) completedUnder.set(c.id, new Map());
    const leases = completedUnder.get(c.id);
    leases.set(c.lease, Math.min(leases.get(c.lease) ?? Infinity, c.recv));
  }
  for (const [id, leases] of completedUnder) {
    if (leases.size > 1) {
      duplicated += leases.size - 1;
      note("duplicated", `job ${id} completed (acknowledged) under ${leases.size} leases`);
    }
    const job = jobs.get(id);
    if (!job || job.status !== "completed") {
      lost += 1;
      note("lost", `completion of ${id} acknowledged, now ${job ? job.status : "missing"}`);
    } else if (!leases.has(landedUnder(job))) {
      duplicated += 1;
      note("duplicated", `job ${id} completed under lease ${landedUnder(job)}, not the acknowledged one`);
    }
  }

  // A completion refused (409) after an attempt whose answer was lost must not have landed.
  for (const { id, lease } of record.refusedAfterRetry) {
    const job = jobs.get(id);
    if (job?.status === "completed" && landedUnder(job) === lease) {
      ackRefused += 1;
      note("ack_refused", `job ${id} completed under lease ${lease}, yet the retried completion got 409`);
    }
  }

  // Fencing: no completion acknowledged when its first attempt left after the lease deadline.
  const leaseOf = new Map(record.claims.map((c) => [`${c.id} ${c.lease}`, c]));
  for (const c of record.completions) {
    const lease = leaseOf.get(`${c.id} ${c.lease}`);
    if (lease && c.sent > lease.expires + FENCE_TOLERANCE_MS) {
      doubleLeased += 1;
      note("double_leased", `job ${c.id}: completion sent ${c.sent - lease.expires} ms after lease ${c.lease} expired was acknowledged`);
    }
  }

  // Leases: no two live at once on a job, and none handed out after an acknowledged completion.
  const claimsByJob = new Map();
  for (const c of record.claims) {
    if (!claimsByJob.has(c.id)) claimsByJob.set(c.id, []);
    claimsByJob.get(c.id).push(c);
  }
  let leasedAgain = 0;
  for (const [id, claims] of claimsByJob) {
    if (claims.length > 1) leasedAgain += 1;
    const done = completedUnder.get(id);
    const firstAck = done ? Math.min(...done.values()) : Infinity;
    const end = (c) => Math.min(c.expires, done?.get(c.lease) ?? Infinity);
    claims.sort((a, b) => a.recv - b.recv);
    for (let i = 0; i < claims.length; i++) {
      if (claims[i].sent > firstAck) {
        duplicated += 1;
        note("duplicated", `job ${id} claimed (lease ${claims[i].lease}) after its completion was acknowledged`);
      }
      for (let j = i + 1; j < claims.length; j++) {
        const [a, b] = [claims[i], claims[j]];
        const sameLease = a.lease === b.lease;
        if (sameLease || Math.max(a.recv, b.recv) < Math.min(end(a), end(b))) {
          doubleLeased += 1;
          note(
            "double_leased",
            `job ${id}: lease ${a.lease} (${a.consumer}, claimed ${iso(a.recv)}, ends ${iso(end(a))}) and ` +
              `lease ${b.lease} (${b.consumer}, claimed ${iso(b.recv)}, ends ${iso(end(b))})`,
          );
        }
      }
    }
  }
  return { lost, duplicated, doubleLeased, foreign, ackRefused, problems, leasedJobs: claimsByJob.size, leasedAgain };
}

const iso = (ms) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

/**
 * Shows the checks are not vacuous: on a copy of the record and state with one lost enqueue,
 * one reverted completion, one duplicated key and one overlapping lease planted, `check` must
 * count exactly those. Returns an error message, or undefined when it does.
 */
export async function selfTest(http, record, state) {
  // A pending job never claimed: a planted completion of a job that was claimed would also
  // count as "claimed after its completion", planting two faults instead of one.
  const claimedIds = new Set(record.claims.map((c) => c.id));
  const pendings = [...state.jobs.values()].filter((j) => j.status === "pending");
  const pending = pendings.find((j) => !claimedIds.has(j.id)) ?? pendings[0];
  const claim = record.claims.find((c) => state.jobs.get(c.id)?.status === "pending" && c.expires > c.recv + 1);
  const someKey = [...record.enqueued.keys()].find((k) => state.jobs.has(record.enqueued.get(k).id));
  if (!pending || !claim || !someKey) return "nothing to plant the faults on (no pending job, claim or acknowledged job)";
  const planted = Object.assign(Object.create(Object.getPrototypeOf(record)), record, {
    enqueued: new Map(record.enqueued).set("selftest-lost", { id: `${QUEUES[0].name}.7${"Z".repeat(25)}` }),
    attemptedKeys: new Set(record.attemptedKeys).add("selftest-lost"),
    completions: [...record.completions, { id: pending.id, lease: "selftest-lease", sent: 0, recv: 0 }],
    claims: [...record.claims, { ...claim, lease: `${claim.lease}-selftest`, recv: claim.recv + 1, consumer: "selftest" }],
    refusedAfterRetry: [],
  });
  const jobs = new Map(state.jobs);
  const original = jobs.get(record.enqueued.get(someKey).id);
  jobs.set("selftest-duplicate", { ...original, id: "selftest-duplicate" });
  const got = await check(http, planted, { ...state, jobs });
  const base = await check(http, record, state);
  const reclaimed = claimedIds.has(pending.id) ? 1 : 0;
  const want = { lost: base.lost + 2, duplicated: base.duplicated + 1 + reclaimed, doubleLeased: base.doubleLeased + 1 };
  for (const [name, value] of Object.entries(want)) {
    if (got[name] !== value) return `planted faults: expected ${name}=${value}, the checks counted ${got[name]}`;
  }
  return undefined;
}
