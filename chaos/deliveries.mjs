// The crash test's webhook checks: the events of every transition that survived the crashes
// reached the receiver at least once (counted by event id), and the receiver got nothing the
// server did not commit.
import { verifySignature } from "./receiver.mjs";
import { QUEUES, sleep } from "./workload.mjs";

/** What the test's webhook subscribes to. */
export const WEBHOOK_EVENTS = ["job.created", "job.completed"];

/** An event id is `{queue}.{seq}`: a queue of the test, a dot, a positive sequence number. */
const EVENT_ID = new RegExp(`^(${QUEUES.map((q) => q.name).join("|")})\\.[1-9][0-9]*$`);

/** Creates the test's webhook (before any traffic, so every queue records from its first job); returns its id. */
export async function createWebhook(http, url, secret) {
  const res = await http.post("/api/v1/outgoing-webhooks", { name: "chaos", url, events: WEBHOOK_EVENTS, secret });
  if (res.status !== 201 || typeof res.json?.id !== "string") throw new Error(`creating the webhook failed: ${res.status} ${res.text}`);
  return res.json.id;
}

const eventKey = (event, jobId) => `${event} ${jobId}`;

/**
 * The events the receiver must get, as `"{event} {job id}"` keys: `job.created` of every
 * acknowledged enqueue and of every job that exists now (an enqueue whose answer was lost but
 * landed committed its event too), `job.completed` of every acknowledged completion and of
 * every job completed now. `acknowledged` holds the keys of the acknowledged writes alone.
 */
export function expectedEvents(record, state) {
  const acknowledged = new Set([
    ...[...record.enqueued.values()].map((e) => eventKey("job.created", e.id)),
    ...record.completions.map((c) => eventKey("job.completed", c.id)),
  ]);
  const all = new Set(acknowledged);
  for (const job of state.jobs.values()) {
    all.add(eventKey("job.created", job.id));
    if (job.status === "completed") all.add(eventKey("job.completed", job.id));
  }
  return { all, acknowledged };
}

/** The keys of the events the receiver took. */
const takenKeys = (taken) => new Set(taken.map((t) => eventKey(t.event, t.jobId)));

/** Pending deliveries of the webhook (the first page is enough to tell whether any is left). */
async function pendingDeliveries(http, webhookId) {
  const res = await http.get(`/api/v1/outgoing-webhooks/${webhookId}/deliveries?status=pending&limit=100`);
  if (res.status !== 200 || !Array.isArray(res.json)) throw new Error(`listing deliveries failed: ${res.status} ${res.text}`);
  return res.json;
}

/**
 * Waits, with reads only, until every expected event has reached the receiver and the webhook
 * has no pending delivery left, or `timeoutMs` passes. Returns `{ settledMs, missing, pending }`
 * as last seen.
 */
export async function waitForDeliveries(http, receiver, webhookId, expected, { timeoutMs, log }) {
  const t0 = Date.now();
  let lastLog = t0;
  while (true) {
    const got = takenKeys(receiver.taken);
    const missing = [...expected.all].filter((k) => !got.has(k)).length;
    const pending = missing === 0 ? (await pendingDeliveries(http, webhookId)).length : undefined;
    if (missing === 0 && pending === 0) return { settledMs: Date.now() - t0, missing, pending };
    if (Date.now() - t0 > timeoutMs) return { settledMs: Date.now() - t0, missing, pending };
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      const open = await pendingDeliveries(http, webhookId);
      const due = open.map((d) => Date.parse(d.next_attempt_at) - Date.now()).filter(Number.isFinite);
      const attempts = open.map((d) => d.attempts);
      log(`waiting for deliveries: ${missing} events not received yet, ${receiver.taken.length} deliveries taken; ` +
        `${open.length}${open.length === 100 ? "+" : ""} pending` +
        (open.length ? ` (attempts made ${Math.min(...attempts)}–${Math.max(...attempts)}, next due in ` +
          `${(Math.min(...due) / 1000).toFixed(1)}–${(Math.max(...due) / 1000).toFixed(1)} s)` : ""));
    }
    await sleep(250);
  }
}

/**
 * The checks. `missing`: expected events no delivery of which the receiver took (of them,
 * `missingAcknowledged` of acknowledged writes). `invented`: deliveries the server could not
 * have committed — an id not of the form `{queue}.{seq}`, a kind not subscribed, a job that
 * does not exist or lives in another queue, `job.completed` of a job not completed, one id sent
 * with two different envelopes, or a second id for the same (kind, job): each job is created
 * once and completed at most once. `duplicates`: deliveries taken beyond the first of their id.
 */
export function checkDeliveries(taken, expected, state) {
  const problems = [];
  const note = (kind, text) => {
    if (problems.filter((p) => p.kind === kind).length < 10) problems.push({ kind, text });
  };
  let invented = 0;
  const byId = new Map();
  for (const t of taken) {
    const seen = byId.get(t.id);
    if (seen) {
      seen.count += 1;
      if (seen.body !== t.body) {
        invented += 1;
        note("webhook_invented", `event ${t.id} arrived with two different envelopes`);
      }
      continue;
    }
    byId.set(t.id, { ...t, count: 1 });
  }
  const idOf = new Map();
  for (const t of byId.values()) {
    const job = state.jobs.get(t.jobId);
    const why = !EVENT_ID.test(t.id)
      ? "is not {queue}.{seq}"
      : !WEBHOOK_EVENTS.includes(t.event)
        ? `is of kind ${t.event}, not subscribed`
        : !job
          ? `names job ${t.jobId}, which does not exist`
          : t.queue !== job.queue_name || !t.id.startsWith(`${job.queue_name}.`)
            ? `names queue ${t.queue} for job ${t.jobId} of ${job.queue_name}`
            : t.event === "job.completed" && job.status !== "completed"
              ? `says job ${t.jobId} completed, which is ${job.status}`
              : idOf.has(eventKey(t.event, t.jobId))
                ? `is a second ${t.event} of job ${t.jobId} (first ${idOf.get(eventKey(t.event, t.jobId))})`
                : undefined;
    if (why) {
      invented += 1;
      note("webhook_invented", `event ${t.id} (${t.event}) ${why}`);
      continue;
    }
    idOf.set(eventKey(t.event, t.jobId), t.id);
  }
  let missing = 0;
  let missingAcknowledged = 0;
  for (const key of expected.all) {
    if (idOf.has(key)) continue;
    missing += 1;
    if (expected.acknowledged.has(key)) missingAcknowledged += 1;
    note("webhook_missing", `${key}${expected.acknowledged.has(key) ? " (acknowledged)" : ""} never reached the receiver`);
  }
  const duplicated = [...byId.values()].filter((t) => t.count > 1);
  return { events: byId.size, missing, missingAcknowledged, invented, duplicates: taken.length - byId.size, duplicatedIds: duplicated.length, problems };
}

/**
 * Shows the webhook checks are not vacuous: with one expected event's deliveries removed, one
 * delivery of a job that does not exist added and one delivery taken twice, `checkDeliveries`
 * must count exactly those; and the signature check must accept a real delivery and refuse it
 * with its body changed or under another secret. Returns an error message, or undefined.
 */
export function selfTestDeliveries(receiver, expected, state) {
  const { taken, sample, secret } = receiver;
  const base = checkDeliveries(taken, expected, state);
  const dropped = taken.find((t) => expected.all.has(eventKey(t.event, t.jobId)));
  if (!dropped || !sample) return "nothing to plant the webhook faults on (no delivery taken)";
  const queue = QUEUES[0].name;
  const stranger = { ...dropped, id: `${queue}.999999999`, jobId: `${queue}.7${"Z".repeat(25)}`, queue, body: "{}" };
  const kept = taken.filter((t) => t.id !== dropped.id);
  const [twice] = kept;
  if (!twice) return "too few deliveries taken to plant the webhook faults on";
  const planted = checkDeliveries([...kept, stranger, twice], expected, state);
  // The dropped event's own duplicates go with it; the repeated delivery is one more.
  const droppedRepeats = taken.length - kept.length - 1;
  const want = { missing: base.missing + 1, invented: base.invented + 1, duplicates: base.duplicates - droppedRepeats + 1 };
  for (const [name, value] of Object.entries(want)) {
    if (planted[name] !== value) return `planted webhook faults: expected ${name}=${value}, the checks counted ${planted[name]}`;
  }
  const timestamp = sample.headers["x-spooled-timestamp"];
  const signed = { secret, timestamp, body: sample.body, signature: sample.headers["x-spooled-signature"], nowMs: Number(timestamp) * 1000 };
  if (!verifySignature(signed)) return "the signature check refused a delivery it had accepted";
  if (verifySignature({ ...signed, body: `${sample.body} ` })) return "the signature check accepted a changed body";
  if (verifySignature({ ...signed, secret: `${secret}x` })) return "the signature check accepted another secret";
  if (verifySignature({ ...signed, nowMs: signed.nowMs + 600_000 })) return "the signature check accepted a stale timestamp";
  return undefined;
}
