// Compares two OpenAPI documents as JSON values, ignoring key order, the order of a schema's
// `required` names (a set in JSON Schema) and formatting, and prints
// each difference as a JSON pointer with both sides. Exit 1 if they differ.
// Usage: node scripts/openapi-diff.mjs OLD.json NEW.json
// e.g. the generated document against an earlier commit's:
//   git show REV:src/api/openapi.json > /tmp/old.json && node scripts/openapi-diff.mjs /tmp/old.json src/api/openapi.json
import { readFileSync } from "node:fs";

const [oldPath, newPath] = process.argv.slice(2);
if (!oldPath || !newPath) {
  console.error("usage: node scripts/openapi-diff.mjs OLD.json NEW.json");
  process.exit(2);
}
const load = (path) => JSON.parse(readFileSync(path, "utf8"));
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const pointer = (parts) => "/" + parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/** Every place where `a` and `b` differ: [path, a, b], absent sides as undefined. */
function differences(a, b, path = [], out = []) {
  if (path.at(-1) === "required" && Array.isArray(a) && Array.isArray(b)) [a, b] = [[...a].sort(), [...b].sort()];
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) differences(a[key], b[key], [...path, key], out);
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => differences(x, b[i], [...path, i], out));
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push([pointer(path), a, b]);
  }
  return out;
}

const found = differences(load(oldPath), load(newPath));
for (const [at, before, after] of found) {
  console.log(`${at}\n  - ${JSON.stringify(before)}\n  + ${JSON.stringify(after)}`);
}
console.log(`${found.length} difference(s)`);
process.exit(found.length ? 1 : 0);
