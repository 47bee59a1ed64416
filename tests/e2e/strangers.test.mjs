// Strangers store nothing (issue 11): requests that fail authentication, and reads of queues
// that do not exist, leave no Durable Object database behind — counted as the SQLite files (and
// their bytes) of a Worker whose state is on disk. Failed authentications (API keys and admin
// keys) are throttled per client address and per tenant; a key's tenant part may carry a MAC
// under KEY_SIGNING_SECRET; a cached key stops working at its own expiry.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ADMIN_KEY, Client, assertError, assertStatus, createKey, newTenant, queueName, sleep, startWorker } from "./harness.mjs";

const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const pick = (alphabet, n) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join("");
/** A key of the right shape for a tenant that does not exist (tenant part `tenantLen` long). */
const madeUpKey = (tenantLen = 20) => `sp_live_${pick(BASE36, tenantLen)}_${pick(BASE36, 40)}`;
const ulid = () => `01${pick(CROCKFORD, 24)}`;
/** A fresh client address each call, so only the tests about the throttle meet it. */
let addresses = 0;
const freshAddress = () => `10.${(++addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses & 255}`;
const from = (address, headers = {}) => ({ headers: { "CF-Connecting-IP": address, ...headers } });

/**
 * The Durable Object SQLite databases under `dir`, per actor class: how many, the bytes of the
 * database files, and of their write-ahead logs.
 */
function databases(dir) {
  const count = { QueueActor: { files: 0, bytes: 0, wal: 0 }, TenantActor: { files: 0, bytes: 0, wal: 0 } };
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      const kind = Object.keys(count).find((k) => p.includes(k));
      if (entry.isDirectory()) walk(p);
      else if (kind && entry.name.endsWith(".sqlite")) {
        count[kind].files += 1;
        count[kind].bytes += fs.statSync(p).size;
      } else if (kind && entry.name.endsWith(".sqlite-wal")) count[kind].wal += fs.statSync(p).size;
    }
  };
  walk(dir);
  return count;
}

/** One SQLite page: what the runtime leaves for an actor it merely started, with no table. */
const EMPTY_DATABASE = 4096;

/**
 * Asserts that between `before` and `after` the actors of `kind` stored nothing: any database
 * the runtime created for an actor it started is a single empty page, with nothing logged.
 */
function assertNothingStored(before, after, kind) {
  const added = after[kind].files - before[kind].files;
  assert.equal(after[kind].bytes - before[kind].bytes, added * EMPTY_DATABASE, `a ${kind} database holds tables`);
  assert.equal(after[kind].wal, before[kind].wal, `a ${kind} database logged writes`);
}

const N = 200;
const SECRET = "test-signing-secret-0123456789abcdef";

describe("on a Worker whose state is on disk", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgespool-strangers-"));
  let mf, client;
  before(async () => {
    mf = await startWorker({ durableObjectsPersist: dir });
    client = await newTenant(mf, "owner");
  });
  after(async () => {
    await mf?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`${N} made-up unsigned keys and 20 wrong admin keys answer 401 and store nothing (no secret set)`, async (t) => {
    const before = databases(dir);
    const anon = new Client(mf);
    for (let i = 0; i < N; i++) {
      const res = await anon.get("/api/v1/queues", { ...from(freshAddress()), key: madeUpKey() });
      assertError(res, 401, "UNAUTHORIZED");
    }
    for (let i = 0; i < 20; i++) {
      const res = await anon.post("/api/v1/organizations", { name: "x" }, from(freshAddress(), { "X-Admin-Key": `wrong-${i}` }));
      assertError(res, 401, "UNAUTHORIZED");
    }
    const afterwards = databases(dir);
    t.diagnostic(`tenant databases: ${JSON.stringify(before.TenantActor)} before, ${JSON.stringify(afterwards.TenantActor)} after`);
    assertNothingStored(before, afterwards, "TenantActor");
    assert.deepEqual(afterwards.QueueActor, before.QueueActor);
  });

  test(`${N} reads of queues and jobs that do not exist answer as Spooled does and create no queue database`, async (t) => {
    const before = databases(dir);
    for (let i = 0; i < N / 4; i++) {
      const q = queueName("ghost");
      const stats = assertStatus(await client.get(`/api/v1/queues/${q}/stats`), 200);
      assert.equal(stats.pending_jobs, 0);
      assertError(await client.get(`/api/v1/jobs/${q}.${ulid()}`), 404, "NOT_FOUND");
      assertError(await client.get(`/api/v1/queues/${q}`), 404, "NOT_FOUND");
      assert.deepEqual(assertStatus(await client.get(`/api/v1/jobs?queue_name=${q}`), 200), []);
    }
    const reads = databases(dir);
    t.diagnostic(`queue databases: ${JSON.stringify(before.QueueActor)} before, ${JSON.stringify(reads.QueueActor)} after`);
    assert.deepEqual(reads.QueueActor, before.QueueActor);
    const listed = assertStatus(await client.get("/api/v1/queues"), 200);
    assert.deepEqual(listed, [], "no queue appeared in the catalog");

    // The count does see a queue that is really created.
    await client.enqueue(queueName("real"));
    assert.equal(databases(dir).QueueActor.files, before.QueueActor.files + 1);
  });

  test("writes that find nothing on a queue that does not exist store nothing either", async (t) => {
    const before = databases(dir);
    const q = queueName("ghost");
    assertError(await client.delete(`/api/v1/jobs/${q}.${ulid()}`), 404, "NOT_FOUND");
    assert.deepEqual(assertStatus(await client.post("/api/v1/jobs/claim", { queue_name: q, worker_id: "w" }), 200).jobs, []);
    assertError(await client.post(`/api/v1/jobs/${q}.${ulid()}/complete`, { lease_id: "x".repeat(32) }), 404, "NOT_FOUND");
    assertError(await client.post(`/api/v1/queues/${q}/resume`), 404, "NOT_FOUND");
    const afterwards = databases(dir);
    t.diagnostic(`queue databases: ${JSON.stringify(before.QueueActor)} before, ${JSON.stringify(afterwards.QueueActor)} after`);
    assertNothingStored(before, afterwards, "QueueActor");
    assert.equal(assertStatus(await client.get("/api/v1/queues"), 200).length, 1, "only the real queue is listed");
  });
});

describe("failed authentications are throttled", () => {
  let mf;
  before(async () => {
    mf = await startWorker({ bindings: { ADMIN_KEY, AUTH_FAILURES_PER_ADDRESS: "3", AUTH_FAILURES_PER_TENANT: "5" } });
  });
  after(() => mf?.dispose());

  /** Asserts the throttle's 429: RATE_LIMIT_EXCEEDED with a Retry-After within the window. */
  function assertThrottled(res) {
    assertError(res, 429, "RATE_LIMIT_EXCEEDED");
    const retryAfter = Number(res.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get("retry-after")}`);
    assert.equal(res.json.details.retry_after_secs, retryAfter);
  }

  test("per client address: after 3 bad keys, 429 with Retry-After, even for a good key new to the isolate", async () => {
    const owner = await newTenant(mf, "throttled");
    const address = freshAddress();
    const anon = new Client(mf);
    for (let i = 0; i < 3; i++) assertError(await anon.get("/api/v1/queues", { ...from(address), key: madeUpKey() }), 401, "UNAUTHORIZED");
    assertThrottled(await anon.get("/api/v1/queues", { ...from(address), key: madeUpKey() }));
    const { client: fresh } = await createKey(owner, { name: "fresh" });
    assertThrottled(await fresh.get("/api/v1/queues", from(address)));
    // Other addresses, and keys this isolate already verified, are not held up.
    assertError(await anon.get("/api/v1/queues", { ...from(freshAddress()), key: madeUpKey() }), 401, "UNAUTHORIZED");
    assertStatus(await owner.get("/api/v1/queues", from(address)), 200);
  });

  test("per tenant: after 5 bad secrets for one tenant from 5 addresses, a sixth address is refused for it", async () => {
    const owner = await newTenant(mf, "targeted");
    assertStatus(await owner.get("/api/v1/queues", from(freshAddress())), 200);
    const { client: unused } = await createKey(owner, { name: "unused" });
    const tenantPart = owner.key.slice("sp_live_".length, owner.key.lastIndexOf("_"));
    const anon = new Client(mf);
    const guess = () => `sp_live_${tenantPart}_${pick(BASE36, 40)}`;
    for (let i = 0; i < 5; i++) assertError(await anon.get("/api/v1/queues", { ...from(freshAddress()), key: guess() }), 401, "UNAUTHORIZED");
    assertThrottled(await anon.get("/api/v1/queues", { ...from(freshAddress()), key: guess() }));
    // A key of that tenant this isolate never verified waits too; one it verified before does
    // not, and neither does another tenant.
    assertThrottled(await unused.get("/api/v1/queues", from(freshAddress())));
    assertStatus(await owner.get("/api/v1/queues", from(freshAddress())), 200);
    assertError(await anon.get("/api/v1/queues", { ...from(freshAddress()), key: madeUpKey() }), 401, "UNAUTHORIZED");
  });

  test("wrong admin keys: after 3, 429 with Retry-After, even for the right one from that address", async () => {
    const address = freshAddress();
    const anon = new Client(mf);
    const org = (key, at = address) => anon.post("/api/v1/organizations", { name: "x" }, from(at, { "X-Admin-Key": key }));
    for (let i = 0; i < 3; i++) assertError(await org(`guess-${i}`), 401, "UNAUTHORIZED");
    assertThrottled(await org("guess-4"));
    assertThrottled(await org(ADMIN_KEY));
    assertStatus(await org(ADMIN_KEY, freshAddress()), 201);
  });
});

describe("KEY_SIGNING_SECRET: tenant parts carry a MAC", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgespool-signed-"));
  let unsignedKey;
  const signed = (extra = {}) => startWorker({ durableObjectsPersist: dir, bindings: { ADMIN_KEY, KEY_SIGNING_SECRET: SECRET, ...extra } });
  before(async () => {
    // A tenant made before the deployment had a signing secret.
    const old = await startWorker({ durableObjectsPersist: dir });
    try {
      unsignedKey = (await newTenant(old, "old")).key;
    } finally {
      await old.dispose();
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("new keys are signed; a forged signature is refused without a trace; old unsigned keys keep working", async () => {
    const mf = await signed();
    try {
      const owner = await newTenant(mf, "new");
      assert.match(owner.key, /^sp_live_[0-9a-z]{32}_[0-9a-z]{40}$/);
      assertStatus(await owner.get("/api/v1/queues"), 200);
      const { created } = await createKey(owner, { name: "second" });
      assert.equal(created.key.slice(8, 40), owner.key.slice(8, 40), "keys of one tenant share its signed tenant part");

      const before = databases(dir);
      const anon = new Client(mf);
      for (let i = 0; i < 50; i++) {
        assertError(await anon.get("/api/v1/queues", { ...from(freshAddress()), key: madeUpKey(32) }), 401, "UNAUTHORIZED");
      }
      // The right tenant id with another tenant's signature is forged too.
      const forged = `sp_live_${unsignedKey.slice(8, 28)}${owner.key.slice(28, 40)}_${unsignedKey.slice(-40)}`;
      assertError(await anon.get("/api/v1/queues", { ...from(freshAddress()), key: forged }), 401, "UNAUTHORIZED");
      assert.deepEqual(databases(dir), before);

      assertStatus(await new Client(mf, unsignedKey).get("/api/v1/queues"), 200);
    } finally {
      await mf.dispose();
    }
  });

  test("SIGNED_KEYS_ONLY=true refuses unsigned keys; a key re-issued for the old tenant is signed and works", async () => {
    let reissued;
    const mf = await signed();
    try {
      reissued = (await createKey(new Client(mf, unsignedKey), { name: "reissued" })).created.key;
      assert.equal(reissued.slice(8, 28), unsignedKey.slice(8, 28), "the same tenant");
      assert.match(reissued, /^sp_live_[0-9a-z]{32}_/);
    } finally {
      await mf.dispose();
    }
    const strict = await signed({ SIGNED_KEYS_ONLY: "true" });
    try {
      assertError(await new Client(strict, unsignedKey).get("/api/v1/queues"), 401, "UNAUTHORIZED");
      assertStatus(await new Client(strict, reissued).get("/api/v1/queues"), 200);
      // Made-up keys, signed-shaped or not, now reach no actor at all: not one file appears.
      const before = databases(dir);
      const anon = new Client(strict);
      for (let i = 0; i < N; i++) {
        const res = await anon.get("/api/v1/queues", { ...from(freshAddress()), key: madeUpKey(i % 2 ? 20 : 32) });
        assertError(res, 401, "UNAUTHORIZED");
      }
      assert.deepEqual(databases(dir), before);
    } finally {
      await strict.dispose();
    }
  });
});

describe("the key cache honours a key's expiry", () => {
  let mf;
  before(async () => {
    mf = await startWorker();
  });
  after(() => mf?.dispose());

  test("a key verified in this isolate is refused once its expires_at passes, well within the cache's 30 s", async () => {
    const owner = await newTenant(mf, "expiring");
    const expiresAt = Date.now() + 2_000;
    const { client: brief } = await createKey(owner, { name: "brief", expires_at: new Date(expiresAt).toISOString() });
    assertStatus(await brief.get("/api/v1/queues"), 200);
    await sleep(expiresAt - Date.now() + 200);
    assertError(await brief.get("/api/v1/queues"), 401, "UNAUTHORIZED");
  });
});
