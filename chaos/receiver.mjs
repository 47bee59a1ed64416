// The crash test's webhook receiver: a real HTTP server (node:http on loopback) in the harness
// process, so it outlives every kill of the runtime. It verifies each delivery's signature with
// node:crypto, independently of the server's code, answers a seeded share of the valid ones 500
// (the server must try again), and logs every delivery it took (answered 2xx).
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { HOST } from "./runtime.mjs";

/** A delivery whose timestamp is further than this from our clock is refused as a replay. */
const MAX_SKEW_SECS = 300;

/**
 * Whether `signature` is `sha256=` + hex HMAC-SHA256 under `secret` of `"<timestamp>.<body>"`,
 * compared in constant time, with `timestamp` (unix seconds) within [`MAX_SKEW_SECS`] of `nowMs`.
 */
export function verifySignature({ secret, timestamp, body, signature, nowMs }) {
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`);
  const got = Buffer.from(String(signature ?? ""));
  const fresh = /^\d+$/.test(String(timestamp)) && Math.abs(nowMs / 1000 - Number(timestamp)) <= MAX_SKEW_SECS;
  return fresh && got.length === want.length && timingSafeEqual(got, want);
}

/** The receiver; `start()` listens on a free loopback port, `url` is the webhook's target. */
export class Receiver {
  /**
   * @param secret the webhook's secret
   * @param failShare the share of validly signed deliveries answered 500
   * @param random a seeded PRNG (workload.mjs `rng`)
   */
  constructor({ secret, failShare, random }) {
    this.secret = secret;
    this.failShare = failShare;
    this.random = random;
    /** Every delivery answered 2xx: { id, event, jobId, queue, attempt, body, at }. */
    this.taken = [];
    /** Requests whose signature (or timestamp) did not verify: { headers, body }. */
    this.badSignatures = [];
    /** Validly signed requests whose body was not an envelope: their text. */
    this.malformed = [];
    /** One validly signed request as received (headers and body), for the checker's self-test. */
    this.sample = undefined;
    this.counts = { requests: 0, answered_500: 0, torn: 0, retried_attempts: 0 };
    this.server = http.createServer((req, res) => this.#serve(req, res));
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, HOST, resolve);
    });
    this.url = `http://${HOST}:${this.server.address().port}/hook`;
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }

  #serve(req, res) {
    const chunks = [];
    // A runtime killed mid-request tears the connection: nothing was delivered.
    req.on("error", () => (this.counts.torn += 1));
    res.on("error", () => {});
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      this.counts.requests += 1;
      const body = Buffer.concat(chunks).toString("utf8");
      res.writeHead(this.#answer(req.headers, body), { "Content-Type": "text/plain" }).end();
    });
  }

  /** Checks and logs one request; returns the status to answer. */
  #answer(headers, body) {
    const signed = verifySignature({
      secret: this.secret,
      timestamp: headers["x-spooled-timestamp"],
      body,
      signature: headers["x-spooled-signature"],
      nowMs: Date.now(),
    });
    if (!signed) {
      this.badSignatures.push({ headers, body });
      return 401;
    }
    this.sample ??= { headers, body };
    let envelope;
    try {
      envelope = JSON.parse(body);
    } catch {
      envelope = undefined;
    }
    if (typeof envelope?.id !== "string" || typeof envelope.event !== "string" || headers["x-spooled-event"] !== envelope.event) {
      this.malformed.push(body.slice(0, 200));
      return 400;
    }
    if (this.random() < this.failShare) {
      this.counts.answered_500 += 1;
      return 500;
    }
    const attempt = Number(headers["x-spooled-delivery-attempt"]);
    if (attempt > 1) this.counts.retried_attempts += 1;
    this.taken.push({
      id: envelope.id,
      event: envelope.event,
      jobId: envelope.data?.job_id,
      queue: envelope.data?.queue_name,
      attempt,
      body,
      at: Date.now(),
    });
    return 200;
  }
}
