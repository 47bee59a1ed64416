// Response validation against the OpenAPI document (src/api/openapi.json). Opt-in: nothing
// runs unless `validateResponse` is called; the harness's `Client.request` calls it for every
// response the e2e suites receive, so a response the document does not describe fails the test
// that received it.
//
// For each response: the path is matched to a documented path template (concrete segments win
// over `{param}` ones, as in the route table); the status must be documented for that method;
// the JSON body must validate against that status's schema (compiled with Ajv, JSON Schema
// 2020-12 as OpenAPI 3.1 uses); and the documented headers must be present when required and
// valid when sent. Paths that match no template must be the server's 404 `NOT_FOUND`, and
// documented paths with an undocumented method its 405 `METHOD_NOT_ALLOWED`.
//
// Objects are closed while validating: a schema that lists `properties` and says nothing about
// `additionalProperties` accepts no other property here. The document stays open for clients
// (a new field is not a breaking change), but a field the server sends and the document does not
// describe fails the tests.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { appendFileSync, readFileSync } from "node:fs";

/** Where the document lives (the server embeds this file at build time). */
export const DOCUMENT_URL = new URL("../../src/api/openapi.json", import.meta.url);
const DOC_ID = "urn:edgespool:openapi";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** The document as stored in the repository. */
export function loadDocument() {
  return JSON.parse(readFileSync(DOCUMENT_URL, "utf8"));
}

let state;

/** Parses and compiles the document once per process. */
function compiled() {
  if (state) return state;
  const doc = loadDocument();
  const closedDoc = closeObjects(structuredClone(doc));
  // strictRequired is off: `anyOf: [{required: [a]}, {required: [b]}]` (one of two aliases) is intended.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  // The document's top-level fields are annotations to Ajv; only the schemas that responses use
  // (and what they reference) are compiled and checked.
  for (const field of Object.keys(doc)) if (!ajv.getKeyword(field)) ajv.addKeyword(field);
  ajv.addSchema(closedDoc, DOC_ID);
  const templates = Object.keys(doc.paths).map((template) => ({ template, segments: split(template) }));
  state = { doc, ajv, templates, validators: new Map() };
  return state;
}

/** Adds `additionalProperties: false` to every plain object schema that lists `properties`. */
function closeObjects(node) {
  if (Array.isArray(node)) {
    node.forEach(closeObjects);
  } else if (node && typeof node === "object") {
    const open = ["$ref", "additionalProperties", "unevaluatedProperties", "allOf", "anyOf", "oneOf", "if"].some((k) => k in node);
    if (node.properties && typeof node.properties === "object" && !open) node.additionalProperties = false;
    Object.values(node).forEach(closeObjects);
  }
  return node;
}

const split = (path) => {
  const bare = path.split("?")[0];
  const trimmed = bare.length > 1 && bare.endsWith("/") ? bare.slice(0, -1) : bare;
  return trimmed.split("/").slice(1);
};
const isParam = (segment) => /^\{[^}]+\}$/.test(segment);
const pointer = (...parts) =>
  "#/" + parts.map((p) => encodeURIComponent(String(p).replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");

/** Resolves a local `$ref` (`#/components/...`) to its target and JSON pointer. */
function resolve(doc, node, at) {
  let target = node;
  let where = at;
  for (let hops = 0; target && target.$ref; hops++) {
    if (hops > 10 || !target.$ref.startsWith("#/")) throw new Error(`OpenAPI: unsupported $ref ${target.$ref} at ${where}`);
    where = target.$ref;
    target = target.$ref
      .slice(2)
      .split("/")
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((o, key) => o?.[key], doc);
    if (target === undefined) throw new Error(`OpenAPI: dangling $ref ${where}`);
  }
  return { target, where };
}

/**
 * The documented path template that `path` (which may carry a query string) falls under, or
 * `undefined`. Concrete segments win over parameters, position by position.
 */
export function matchPath(path) {
  const { templates } = compiled();
  const segments = split(path);
  let best;
  for (const t of templates) {
    if (t.segments.length !== segments.length) continue;
    if (!t.segments.every((s, i) => isParam(s) || s === segments[i])) continue;
    if (!best || morePrecise(t.segments, best.segments)) best = t;
  }
  return best?.template;
}

function morePrecise(a, b) {
  for (let i = 0; i < a.length; i++) {
    if (isParam(a[i]) !== isParam(b[i])) return !isParam(a[i]);
  }
  return false;
}

/** A compiled validator for the schema at `where` (a JSON pointer into the document). */
function validatorAt(where) {
  const { ajv, validators } = compiled();
  let validate = validators.get(where);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOC_ID}${where}` });
    validators.set(where, validate);
  }
  return validate;
}

/**
 * What the document says about `status` answered to `method path`: the response object, where it
 * is, and how the request was matched. Throws when the document does not describe it.
 */
export function documentedResponse(method, path, status) {
  const { doc } = compiled();
  const template = matchPath(path);
  const lower = method.toLowerCase();
  let responseNode;
  let at;
  let label;
  if (!template) {
    label = `${method} ${path.split("?")[0]} (no documented path)`;
    if (status !== 404) throw new Error(`OpenAPI: ${label} answered ${status}; a path matching no route must be 404`);
    responseNode = { $ref: "#/components/responses/NoRoute" };
    at = pointer("components", "responses", "NoRoute");
  } else if (!doc.paths[template][lower]) {
    label = `${method} ${template} (method not documented)`;
    if (status !== 405) throw new Error(`OpenAPI: ${label} answered ${status}; an undocumented method must be 405`);
    responseNode = { $ref: "#/components/responses/MethodNotAllowed" };
    at = pointer("components", "responses", "MethodNotAllowed");
  } else {
    label = `${method} ${template}`;
    const responses = doc.paths[template][lower].responses;
    const key = String(status) in responses ? String(status) : "default" in responses ? "default" : undefined;
    if (!key) {
      throw new Error(`OpenAPI: ${label} answered ${status}, which is not documented (documented: ${Object.keys(responses).join(", ")})`);
    }
    responseNode = responses[key];
    at = pointer("paths", template, lower, "responses", key);
  }
  const { target, where } = resolve(doc, responseNode, at);
  return { response: target, where, label, template };
}

function headerValue(schema, text) {
  const types = [].concat(schema.type ?? []);
  if (types.includes("integer") || types.includes("number")) return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  if (types.includes("boolean")) return text === "true" ? true : text === "false" ? false : text;
  return text;
}

const describeErrors = (errors) =>
  errors.map((e) => `${e.instancePath || "(body)"} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""}`).join("; ");

/**
 * Checks one response against the document; throws an Error naming the operation, the status
 * and every mismatch. `headers` is a `Headers` object (or a plain object of lowercase names).
 */
export function validateResponse({ method, path, status, headers, text }) {
  const { doc } = compiled();
  const { response, where, label } = documentedResponse(method, path, status);
  const get = (name) => (typeof headers?.get === "function" ? headers.get(name) : headers?.[name.toLowerCase()]) ?? null;
  const problems = [];

  for (const [name, node] of Object.entries(response.headers ?? {})) {
    const { target: header, where: headerAt } = resolve(doc, node, `${where}/headers/${name}`);
    const value = get(name);
    if (value === null) {
      if (header.required) problems.push(`header ${name} is required but missing`);
      continue;
    }
    if (header.schema) {
      const validate = validatorAt(`${headerAt}/schema`);
      if (!validate(headerValue(header.schema, value))) problems.push(`header ${name}: ${JSON.stringify(value)} ${describeErrors(validate.errors)}`);
    }
  }

  const content = response.content?.["application/json"];
  if (response.content && !content) problems.push(`only application/json content is supported, documented: ${Object.keys(response.content)}`);
  if (!content) {
    if (text) problems.push(`no body is documented but one was sent: ${text.slice(0, 200)}`);
  } else {
    const type = get("content-type") ?? "";
    if (!/^application\/json\b/.test(type)) problems.push(`Content-Type is ${JSON.stringify(type)}, not application/json`);
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      problems.push(`the body is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
    if (body !== undefined && content.schema) {
      const validate = validatorAt(`${where}/content/application~1json/schema`);
      if (!validate(body)) problems.push(describeErrors(validate.errors));
    }
  }

  // OPENAPI_COVERAGE=file appends `METHOD template status` per validated response.
  if (process.env.OPENAPI_COVERAGE) appendFileSync(process.env.OPENAPI_COVERAGE, `${label} ${status}\n`);
  if (problems.length) {
    const shown = text && text.length > 600 ? `${text.slice(0, 600)}…` : text;
    throw new Error(`OpenAPI: ${label} → ${status} does not match the document (request path ${path}):\n  - ${problems.join("\n  - ")}\n  body: ${shown}`);
  }
}

/** Every documented operation as `{method, path, operation}` (methods in upper case). */
export function operations() {
  const { doc } = compiled();
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), path, operation: item[m] })),
  );
}

/**
 * Compiles, in Ajv's strict mode, every schema of the document: components, parameters, request
 * and response bodies and headers (so every `$ref` resolves and no keyword is misspelt);
 * returns how many.
 */
export function compileAll() {
  const { doc } = compiled();
  let count = 0;
  for (const name of Object.keys(doc.components?.schemas ?? {})) {
    validatorAt(pointer("components", "schemas", name));
    count++;
  }
  for (const { method, path, operation } of operations()) {
    const at = pointer("paths", path, method.toLowerCase());
    (operation.parameters ?? []).forEach((param, i) => {
      if (param.schema) validatorAt(`${at}/parameters/${i}/schema`);
      count++;
    });
    if (operation.requestBody?.content?.["application/json"]?.schema) {
      validatorAt(`${at}/requestBody/content/application~1json/schema`);
      count++;
    }
    for (const status of Object.keys(operation.responses)) {
      const { response, where } = documentedResponse(method, path, status === "default" ? 500 : Number(status));
      if (response.content?.["application/json"]?.schema) {
        validatorAt(`${where}/content/application~1json/schema`);
        count++;
      }
      for (const [name, node] of Object.entries(response.headers ?? {})) {
        const { target, where: headerAt } = resolve(compiled().doc, node, `${where}/headers/${name}`);
        if (target.schema) validatorAt(`${headerAt}/schema`);
      }
    }
  }
  return count;
}
