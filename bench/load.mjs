// One measured run: autocannon drives the server, and every response's latency (float ms, from
// autocannon's own 'response' events) is kept so percentiles are exact rather than bucketed to
// whole milliseconds.
import autocannon from "autocannon";

/** Percentile `p` (0–100) of an ascending array, nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

/**
 * Runs autocannon once and summarises it.
 *
 * - `duration` (s) or `amount` (requests) bounds the run; `maxSeconds` bounds it in time anyway.
 * - `requests` is autocannon's request sequence (each connection walks it in order).
 * - `jobsOf(status, body)` counts jobs a response carried (default: 1 per 2xx response); it
 *   needs response bodies, so pass `needBodies` when it reads them.
 */
export async function drive({
  url,
  connections,
  duration,
  amount,
  requests,
  headers = {},
  jobsOf = (status) => (status >= 200 && status < 300 ? 1 : 0),
  maxSeconds = 120,
}) {
  const latencies = [];
  const statuses = {};
  let jobs = 0;
  // Wrap every step's onResponse so jobs are counted from the bodies that are parsed anyway.
  const steps = requests.map((step) => ({
    ...step,
    onResponse: (status, body, context, resHeaders) => {
      jobs += jobsOf(status, body, step, context);
      step.onResponse?.(status, body, context, resHeaders);
    },
  }));
  const options = {
    url,
    connections,
    pipelining: 1,
    headers: { "content-type": "application/json", ...headers },
    requests: steps,
    timeout: 30,
  };
  if (amount !== undefined) options.amount = amount;
  else options.duration = duration;
  const started = performance.now();
  const instance = autocannon(options);
  // autocannon notices the end of an `amount` run only at its next one-second tick, so rates
  // are taken over the time until the last response, not until autocannon reports done.
  let lastResponse = started;
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    lastResponse = performance.now();
    latencies.push(responseTime);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  // Hard stop: a run never outlives maxSeconds even if the server stalls.
  let stoppedEarly = false;
  const guard = setTimeout(() => {
    stoppedEarly = true;
    instance.stop();
  }, maxSeconds * 1000);
  const result = await new Promise((resolve, reject) => {
    instance.once("done", resolve);
    instance.once("error", reject);
  }).finally(() => clearTimeout(guard));
  const seconds = Math.max(lastResponse - started, 1) / 1000;
  latencies.sort((a, b) => a - b);
  const ok = Object.entries(statuses).reduce((n, [code, c]) => (code >= 200 && code < 300 ? n + c : n), 0);
  return {
    connections,
    seconds: round(seconds, 3),
    requests: latencies.length,
    ok_responses: ok,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    jobs,
    requests_per_sec: round(latencies.length / seconds, 1),
    jobs_per_sec: round(jobs / seconds, 1),
    p50_ms: round(percentile(latencies, 50), 3),
    p99_ms: round(percentile(latencies, 99), 3),
    max_ms: round(latencies.at(-1) ?? null, 3),
    ...(stoppedEarly ? { stopped_early_after_sec: maxSeconds } : {}),
  };
}
