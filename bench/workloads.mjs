// The ceilings and the workloads: what each run sends, and how its jobs are counted.
import { drive } from "./load.mjs";

/** The small payload every job carries (and every ceiling row stores). */
export const PAYLOAD = { kind: "bench", n: 1 };
const BULK_PAYLOADS = Array.from({ length: 100 }, (_, n) => ({ kind: "bench", n }));
const ok = (status) => status >= 200 && status < 300;
const safeParse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** A small API client over fetch, for set-up only (never for measuring). */
export class Api {
  constructor(url, key) {
    this.url = url;
    this.key = key;
  }

  async post(path, body, headers = {}) {
    const res = await fetch(this.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.key}`, ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: safeParse(text) };
  }

  /**
   * Enqueues `count` jobs into `queue` in bulks of 100, `parallel` requests at a time. Bounded
   * by count, and by `deadlineMs` in time.
   */
  /** One enqueue into each queue, so a measured run does not include actors starting up. */
  async touch(queues) {
    for (const queue_name of queues) {
      const res = await this.post("/api/v1/jobs", { queue_name, payload: PAYLOAD });
      if (!ok(res.status)) throw new Error(`enqueue into ${queue_name} failed: ${res.status} ${res.text}`);
    }
  }

  async preload(queue, count, { parallel = 8, deadlineMs = 120_000 } = {}) {
    const deadline = Date.now() + deadlineMs;
    let next = 0;
    const lane = async () => {
      while (next < count) {
        if (Date.now() > deadline) throw new Error(`preloading ${queue} overran ${deadlineMs} ms`);
        const size = Math.min(100, count - next);
        next += size;
        const jobs = BULK_PAYLOADS.slice(0, size).map((payload) => ({ payload }));
        const res = await this.post("/api/v1/jobs/bulk", { queue_name: queue, jobs });
        if (!ok(res.status)) throw new Error(`preload of ${queue} failed: ${res.status} ${res.text}`);
      }
    };
    await Promise.all(Array.from({ length: parallel }, lane));
  }
}

/** The runtime's ceilings: routes of src/bench.rs, no validation, no auth. */
export const CEILINGS = [
  { name: "worker_rps", jobsPerRequest: 0, request: { method: "GET", path: "/bench/worker" } },
  { name: "actor_rps", jobsPerRequest: 0, request: { method: "POST", path: "/bench/actor" } },
  {
    name: "actor_insert_rps",
    jobsPerRequest: 1,
    request: { method: "POST", path: "/bench/actor-insert", body: JSON.stringify(PAYLOAD) },
  },
  {
    name: "actor_bulk_insert_rps",
    jobsPerRequest: 100,
    request: { method: "POST", path: "/bench/actor-bulk-insert", body: JSON.stringify(BULK_PAYLOADS) },
  },
];

/** Measures one ceiling at one concurrency. */
export function runCeiling(ceiling, { url, connections, duration }) {
  return drive({
    url,
    connections,
    duration,
    requests: [ceiling.request],
    jobsOf: (status) => (ok(status) ? ceiling.jobsPerRequest : 0),
  });
}

/**
 * Drives `requests` (as `drive` takes them) with the run's API key, bounded as the run says
 * (`duration`, or `amount` and `maxSeconds`).
 */
function driveApi({ url, key, connections, duration, amount, maxSeconds }, requests, jobsOf) {
  const headers = { authorization: `Bearer ${key}` };
  return drive({ url, connections, duration, amount, maxSeconds, headers, requests, jobsOf });
}

/** `enqueue_single`: POST /api/v1/jobs, one job per request, one queue. */
export function enqueueSingle(run) {
  const body = JSON.stringify({ queue_name: run.queue, payload: PAYLOAD });
  return driveApi(run, [{ method: "POST", path: "/api/v1/jobs", body }]);
}

/** `enqueue_bulk100`: POST /api/v1/jobs/bulk with 100 jobs per request, one queue. */
export function enqueueBulk100(run) {
  const body = JSON.stringify({ queue_name: run.queue, jobs: BULK_PAYLOADS.map((payload) => ({ payload })) });
  return driveApi(run, [{ method: "POST", path: "/api/v1/jobs/bulk", body }], (status) => (ok(status) ? 100 : 0));
}

/** `multi_queue_8`: single enqueues, each request to the next of 8 queues in turn. */
export function multiQueue8(run) {
  const bodies = Array.from({ length: 8 }, (_, i) =>
    JSON.stringify({ queue_name: `${run.queuePrefix}-${i}`, payload: PAYLOAD }),
  );
  let turn = 0;
  const setupRequest = (req) => ({ ...req, body: bodies[turn++ % bodies.length] });
  return driveApi(run, [{ method: "POST", path: "/api/v1/jobs", setupRequest }]);
}

/**
 * The worker loop for one job: claim (limit 1), then complete with the lease id. Counts a job
 * per completed job and the claims that found nothing (`stats.emptyClaims`).
 */
function claimCompleteSteps(queue, stats) {
  const claimBody = JSON.stringify({ queue_name: queue, limit: 1, worker_id: "bench" });
  return [
    {
      method: "POST",
      path: "/api/v1/jobs/claim",
      body: claimBody,
      onResponse: (status, body, context) => {
        const job = ok(status) ? safeParse(body)?.jobs?.[0] : undefined;
        if (!job) stats.emptyClaims++;
        context.job = job;
      },
    },
    {
      method: "POST",
      // Returning null skips this step and starts the sequence again (autocannon).
      setupRequest: (req, context) =>
        context.job
          ? {
              ...req,
              path: `/api/v1/jobs/${context.job.id}/complete`,
              body: JSON.stringify({ lease_id: context.job.lease_id }),
            }
          : null,
    },
  ];
}

/** `claim_complete_single`: claim limit 1 then complete, counting completed jobs and empty claims. */
export async function claimCompleteSingle(run) {
  const stats = { emptyClaims: 0 };
  const steps = claimCompleteSteps(run.queue, stats);
  const completed = (status, _body, step) => (step === steps[1] && ok(status) ? 1 : 0);
  const result = await driveApi(run, steps, completed);
  return { ...result, empty_claims: stats.emptyClaims };
}

/**
 * `claim_depth`: the claim+complete loop for a fixed number of iterations (`amount`-bounded,
 * and stopped after `maxSeconds` whatever is left).
 */
export function claimDepth(run) {
  const perConnection = Math.max(1, Math.ceil(run.iterations / run.connections));
  return claimCompleteSingle({ ...run, amount: 2 * perConnection * run.connections });
}

/**
 * Whether POST /api/v1/jobs/ack exists: a 404 (unknown route) or 405 (the path read as a job
 * id) means it does not yet.
 */
export async function ackRouteExists(api, queue) {
  const res = await api.post("/api/v1/jobs/ack", { queue_name: queue, acks: [], fails: [] });
  return { exists: res.status !== 404 && res.status !== 405, status: res.status, text: res.text };
}

/**
 * `cycle_batched`: bulk enqueue 100, claim limit 100, batch-ack what was claimed. Jobs are
 * counted from the ack replies' `succeeded`.
 */
export async function cycleBatched(run) {
  const { queue } = run;
  const stats = { emptyClaims: 0 };
  const bulkBody = JSON.stringify({ queue_name: queue, jobs: BULK_PAYLOADS.map((payload) => ({ payload })) });
  const claimBody = JSON.stringify({ queue_name: queue, limit: 100, worker_id: "bench" });
  const steps = [
    { method: "POST", path: "/api/v1/jobs/bulk", body: bulkBody },
    {
      method: "POST",
      path: "/api/v1/jobs/claim",
      body: claimBody,
      onResponse: (status, body, context) => {
        const jobs = ok(status) ? safeParse(body)?.jobs ?? [] : [];
        if (jobs.length === 0) stats.emptyClaims++;
        context.jobs = jobs;
      },
    },
    {
      method: "POST",
      path: "/api/v1/jobs/ack",
      setupRequest: (req, context) =>
        context.jobs?.length
          ? {
              ...req,
              body: JSON.stringify({
                queue_name: queue,
                acks: context.jobs.map(({ id, lease_id }) => ({ id, lease_id })),
                fails: [],
              }),
            }
          : null,
    },
  ];
  const acknowledged = (status, body, step) => {
    if (step !== steps[2] || !ok(status)) return 0;
    const succeeded = safeParse(body)?.succeeded;
    return typeof succeeded === "number" ? succeeded : Array.isArray(succeeded) ? succeeded.length : 0;
  };
  const result = await driveApi(run, steps, acknowledged);
  return { ...result, empty_claims: stats.emptyClaims };
}
