// The crash test's traffic: producers that enqueue with idempotency keys and retry the same
// request until it is acknowledged, consumers that claim and complete (or abandon) jobs and
// retry an acknowledgement with the same lease — and the record of everything the server
// acknowledged, which the verification checks against the state that survived the crashes.

/** The queues and how their jobs behave. */
export const QUEUES = [
  // Plain jobs: claimed with a 10 s lease and always completed.
  { name: "chaos-plain", weight: 4, lease: 10, abandon: 0, maxRetries: 5, aheadMs: null },
  // Short leases: claimed for 5 s; consumers abandon 30 % of them, so the alarm expires the lease
  // and the job comes back, and work 1 % past the lease before completing (which must be refused).
  { name: "chaos-short", weight: 3, lease: 5, abandon: 0.3, slow: 0.01, maxRetries: 20, aheadMs: null },
  // Scheduled 1–8 s ahead: the alarm (or a claim) makes them pending when due.
  { name: "chaos-sched", weight: 3, lease: 10, abandon: 0, maxRetries: 5, aheadMs: [1_000, 8_000] },
];
export const MAX_LEASE_MS = Math.max(...QUEUES.map((q) => q.lease)) * 1000;
export const MAX_AHEAD_MS = Math.max(...QUEUES.map((q) => q.aheadMs?.[1] ?? 0));

/** Every request gets this long before it counts as a connection error. */
const REQUEST_TIMEOUT_MS = 15_000;
/** A request is retried at most this often and this long before the operation gives up. */
const MAX_ATTEMPTS = 400;
const MAX_RETRY_MS = 60_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32), so a run's choices can be replayed with `--seed`. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.between = (lo, hi) => lo + next() * (hi - lo);
  next.int = (lo, hi) => Math.floor(next.between(lo, hi + 1));
  next.pick = (items) => {
    let r = next() * items.reduce((s, q) => s + q.weight, 0);
    for (const item of items) if ((r -= item.weight) < 0) return item;
    return items[items.length - 1];
  };
  return next;
}

/** Everything observed during the run. */
export class Record {
  constructor() {
    /** idempotency key → { id, queue, scheduledAt, ackAt } for every acknowledged enqueue. */
    this.enqueued = new Map();
    /** Every idempotency key ever sent, acknowledged or not. */
    this.attemptedKeys = new Set();
    /** Every claimed job: { id, queue, lease, expires, sent, recv, consumer }. */
    this.claims = [];
    /** Every acknowledged completion: { id, lease, sent, recv }. */
    this.completions = [];
    /** Completions refused with 409 after an earlier attempt's outcome was lost: { id, lease }. */
    this.refusedAfterRetry = [];
    /** Responses the protocol does not allow here (4xx other than the expected ones). */
    this.unexpected = [];
    this.counts = {
      requests: 0,
      connection_errors: 0,
      server_errors: 0,
      enqueue_retries: 0,
      // A retried enqueue answered `created: false`: the attempt whose answer was lost had landed.
      enqueue_dedup_on_retry: 0,
      bulk_enqueues: 0,
      claim_requests: 0,
      claim_errors: 0,
      claimed: 0,
      abandoned: 0,
      // Jobs worked past their lease before the completion was sent.
      slow: 0,
      complete_retries: 0,
      // A retried completion answered 200: the same lease acknowledged again.
      complete_ack_on_retry: 0,
      lease_expired: 0,
      given_up: 0,
    };
    this.inFlight = 0;
  }

  unexpectedResponse(what, res) {
    this.unexpected.push(`${what}: ${res.status} ${(res.text ?? "").slice(0, 200)}`);
  }
}

/** HTTP to the runtime's current address; a failed connection is status 0, never a throw. */
export class Http {
  constructor(runtime, record, key) {
    this.runtime = runtime;
    this.record = record;
    this.key = key;
  }

  async request(method, path, body, headers = {}) {
    const init = {
      method,
      headers: { ...headers },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    };
    if (this.key) init.headers.authorization = `Bearer ${this.key}`;
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    this.record.counts.requests += 1;
    this.record.inFlight += 1;
    try {
      const res = await fetch(this.runtime.base + path, init);
      const text = await res.text();
      let json;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (res.status >= 500) this.record.counts.server_errors += 1;
      return { status: res.status, text, json, headers: res.headers };
    } catch (error) {
      // Refused, reset, closed mid-response or timed out: the outcome is unknown.
      this.record.counts.connection_errors += 1;
      return { status: 0, text: String(error?.cause?.code ?? error?.name ?? error), json: undefined };
    } finally {
      this.record.inFlight -= 1;
    }
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body);
  }
}

const retryable = (res) => res.status === 0 || res.status >= 500;
const backoff = (attempt, random) => Math.min(50 * 2 ** Math.min(attempt, 4), 500) * random.between(0.5, 1);

/**
 * Sends the very same request until it gets an answer that is not a connection error or 5xx.
 * Returns `{ res, attempts }`, or `{ res: undefined }` when it gave up (stop asked, or the
 * bounds ran out).
 */
async function untilAnswered(send, { shouldStop, random, onRetry }) {
  const deadline = Date.now() + MAX_RETRY_MS;
  let res;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (shouldStop()) return { res: undefined, attempts: attempt - 1 };
    if (attempt > 1) onRetry();
    res = await send();
    if (!retryable(res)) return { res, attempts: attempt };
    if (Date.now() > deadline) break;
    await sleep(backoff(attempt, random));
  }
  return { res: undefined, attempts: MAX_ATTEMPTS };
}

/**
 * Paces all producers together to `rate` jobs per second, so a run's jobs spread over its whole
 * length instead of running into the per-queue ceiling early.
 */
export class Pace {
  constructor(rate) {
    this.rate = rate;
    this.start = Date.now();
    this.jobs = 0;
  }

  /** Waits until `jobs` more jobs fit in the budget (at most one second per call). */
  async take(jobs) {
    const due = this.start + ((this.jobs + jobs) / this.rate) * 1000;
    this.jobs += jobs;
    await sleep(Math.min(Math.max(0, due - Date.now()), 1_000));
  }
}

/** One producer: single and bulk enqueues with unique idempotency keys, while `running()`. */
export async function producer(index, { http, record, random, running, maxPerQueue, pace }) {
  let n = 0;
  const perQueue = new Map(QUEUES.map((q) => [q.name, 0]));
  const stop = () => !running();
  // Sends the identical request until it is answered; says whether an earlier try failed.
  const sendUntilAnswered = async (path, body) => {
    let failedBefore = false;
    const { res } = await untilAnswered(() => http.post(path, body), {
      shouldStop: stop,
      random,
      onRetry: () => {
        failedBefore = true;
        record.counts.enqueue_retries += 1;
      },
    });
    return { res, failedBefore };
  };
  while (running()) {
    const queue = random.pick(QUEUES);
    if (perQueue.get(queue.name) >= maxPerQueue) {
      if ([...perQueue.values()].every((c) => c >= maxPerQueue)) return;
      continue;
    }
    const scheduledAt = () =>
      queue.aheadMs ? new Date(Date.now() + random.between(...queue.aheadMs)).toISOString() : undefined;
    const job = (key) => ({
      payload: { key, producer: index },
      priority: random.int(-3, 3),
      max_retries: queue.maxRetries,
      scheduled_at: scheduledAt(),
    });
    const bulk = random() < 0.1;
    const size = bulk ? random.int(2, 12) : 1;
    await pace.take(size);
    if (!running()) return;
    const batchKey = `p${index}-${n++}`;
    if (!bulk) {
      // The request body is built once: every retry sends exactly the same bytes, same key.
      const body = { queue_name: queue.name, idempotency_key: batchKey, ...job(batchKey) };
      record.attemptedKeys.add(batchKey);
      const { res, failedBefore } = await sendUntilAnswered("/api/v1/jobs", body);
      if (!res) {
        record.counts.given_up += 1;
        continue;
      }
      if ((res.status === 201 || res.status === 200) && typeof res.json?.id === "string") {
        if (failedBefore && res.json.created === false) record.counts.enqueue_dedup_on_retry += 1;
        record.enqueued.set(batchKey, { id: res.json.id, queue: queue.name, scheduledAt: body.scheduled_at, ackAt: Date.now() });
        perQueue.set(queue.name, perQueue.get(queue.name) + 1);
      } else {
        record.unexpectedResponse("enqueue", res);
      }
    } else {
      // A bulk enqueue keyed as a batch: item i gets the key "{batch}:{i}" from the server.
      const jobs = Array.from({ length: size }, (_, i) => job(`${batchKey}:${i}`));
      const body = { queue_name: queue.name, idempotency_key: batchKey, jobs };
      for (let i = 0; i < size; i++) record.attemptedKeys.add(`${batchKey}:${i}`);
      const { res, failedBefore } = await sendUntilAnswered("/api/v1/jobs/bulk", body);
      if (!res) {
        record.counts.given_up += 1;
        continue;
      }
      const ok = res.status === 200 && Array.isArray(res.json?.succeeded) && res.json.succeeded.length === size;
      if (!ok) {
        record.unexpectedResponse("bulk enqueue", res);
        continue;
      }
      record.counts.bulk_enqueues += 1;
      if (failedBefore && res.json.succeeded.every((s) => s.created === false)) record.counts.enqueue_dedup_on_retry += 1;
      for (const { index: i, job_id } of res.json.succeeded) {
        record.enqueued.set(`${batchKey}:${i}`, {
          id: job_id,
          queue: queue.name,
          scheduledAt: jobs[i].scheduled_at,
          ackAt: Date.now(),
        });
      }
      perQueue.set(queue.name, perQueue.get(queue.name) + size);
    }
  }
}

/** One consumer: claims from a random queue, completes (or abandons) each job. */
export async function consumer(index, { http, record, random, running }) {
  const worker = `c${index}`;
  const stop = () => !running();
  while (running()) {
    const queue = random.pick(QUEUES);
    const sent = Date.now();
    record.counts.claim_requests += 1;
    const res = await http.post("/api/v1/jobs/claim", {
      queue_name: queue.name,
      worker_id: worker,
      limit: random.int(1, 5),
      lease_duration_secs: queue.lease,
    });
    const recv = Date.now();
    if (retryable(res)) {
      // The claim may have landed; its lease is unknown to us and simply runs out.
      record.counts.claim_errors += 1;
      await sleep(random.between(50, 250));
      continue;
    }
    if (res.status !== 200 || !Array.isArray(res.json?.jobs)) {
      record.unexpectedResponse("claim", res);
      await sleep(200);
      continue;
    }
    const jobs = res.json.jobs;
    for (const job of jobs) {
      record.claims.push({
        id: job.id,
        queue: queue.name,
        lease: job.lease_id,
        expires: Date.parse(job.lease_expires_at),
        sent,
        recv,
        consumer: worker,
      });
    }
    record.counts.claimed += jobs.length;
    if (jobs.length === 0) {
      await sleep(random.between(30, 200));
      continue;
    }
    for (const job of jobs) {
      if (random() < queue.abandon) {
        record.counts.abandoned += 1;
        continue;
      }
      // A slow worker outlives its lease: its completion must get 409 LEASE_EXPIRED.
      const slow = random() < (queue.slow ?? 0);
      if (slow) record.counts.slow += 1;
      const work = slow ? Date.parse(job.lease_expires_at) - Date.now() + random.between(100, 1_500) : random.between(0, 15);
      await sleep(Math.max(0, work));
      // The result names the lease, so the checks can tell which completion landed (a job's
      // reads never show its lease id).
      const body = { lease_id: job.lease_id, result: { by: worker, lease: job.lease_id } };
      let failedBefore = false;
      const completeSent = Date.now();
      const { res: done } = await untilAnswered(() => http.post(`/api/v1/jobs/${job.id}/complete`, body), {
        shouldStop: stop,
        random,
        onRetry: () => {
          failedBefore = true;
          record.counts.complete_retries += 1;
        },
      });
      if (!done) {
        record.counts.given_up += 1;
      } else if (done.status === 200) {
        if (failedBefore) record.counts.complete_ack_on_retry += 1;
        record.completions.push({ id: job.id, lease: job.lease_id, sent: completeSent, recv: Date.now() });
      } else if (done.status === 409 && done.json?.code === "LEASE_EXPIRED") {
        // The acknowledgement did not land: the lease ran out first.
        record.counts.lease_expired += 1;
        if (failedBefore) record.refusedAfterRetry.push({ id: job.id, lease: job.lease_id });
      } else {
        record.unexpectedResponse("complete", done);
      }
    }
  }
}
