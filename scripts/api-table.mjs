#!/usr/bin/env node
// Prints the README's API reference table (method, path, summary, success status) from the
// OpenAPI document, src/api/openapi.json. `node scripts/api-table.mjs --write` also replaces the
// README section between the api-table markers; tests/e2e/openapi.test.mjs checks they agree.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../", import.meta.url);
export const START = "<!-- api-table:start -->";
export const END = "<!-- api-table:end -->";
const METHODS = ["get", "put", "post", "delete", "patch"];

/** The markdown table for `doc`, one row per operation in document order. */
export function apiTable(doc) {
  const cell = (text) => String(text).replace(/\|/g, "\\|");
  const rows = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => {
      const op = item[m];
      const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s)).sort().join(", ");
      const auth = op.security?.length === 0 ? " (no auth)" : op.security?.some((s) => "adminKey" in s) ? " (`X-Admin-Key`)" : "";
      return `| ${m.toUpperCase()} | \`${path}\` | ${cell(op.summary)}${auth} | ${success} |`;
    }),
  );
  return ["| method | path | summary | success |", "|---|---|---|---|", ...rows].join("\n");
}

/** The table as it sits in the README between the markers (without them). */
export function readmeSection(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return readme.slice(start + START.length, end).trim();
}

/** `readme` with the section between the markers replaced by `table`. */
export function withTable(readme, table) {
  readmeSection(readme);
  return readme.slice(0, readme.indexOf(START) + START.length) + `\n${table}\n` + readme.slice(readme.indexOf(END));
}

export function loadTable() {
  return apiTable(JSON.parse(readFileSync(new URL("src/api/openapi.json", ROOT), "utf8")));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const table = loadTable();
  if (process.argv.includes("--write")) {
    const path = new URL("README.md", ROOT);
    writeFileSync(path, withTable(readFileSync(path, "utf8"), table));
  }
  console.log(table);
}
