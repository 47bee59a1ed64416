// Miniflare options for the built Worker, read from wrangler.toml: the one place where the
// end-to-end tests, the SDK and fuzz servers, the crash test and the bench learn the entry
// module, compatibility date and flags, Durable Object bindings (SQLite-backed or not, from the
// migrations) and variables of a wrangler environment.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The wrangler environment of the bench build (`scripts/build.sh --bench`). */
export const BENCH_ENV = "bench";

/** Keys a named environment inherits from the top level when it does not set them (wrangler's rule). */
const INHERITED = ["main", "compatibility_date", "compatibility_flags"];

/**
 * wrangler.toml's settings for the environment `env`, or the top level (production) when
 * `env` is undefined. Bindings, variables and migrations are never inherited.
 */
export function wranglerConfig(env) {
  const top = parse(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"));
  if (env === undefined) return top;
  const section = top.env?.[env];
  if (!section) throw new Error(`wrangler.toml has no [env.${env}]`);
  const inherited = Object.fromEntries(INHERITED.filter((key) => key in top).map((key) => [key, top[key]]));
  return { ...inherited, ...section };
}

/** Each bound Durable Object class as Miniflare wants it; a class its migrations never created (or deleted) is an error. */
function durableObjects(config) {
  const live = new Map();
  for (const migration of config.migrations ?? []) {
    for (const name of migration.new_sqlite_classes ?? []) live.set(name, { useSQLite: true });
    for (const name of migration.new_classes ?? []) live.set(name, { useSQLite: false });
    for (const { from, to } of migration.renamed_classes ?? []) {
      live.set(to, live.get(from));
      live.delete(from);
    }
    for (const name of migration.deleted_classes ?? []) live.delete(name);
  }
  const bindings = {};
  for (const { name, class_name } of config.durable_objects?.bindings ?? []) {
    const storage = live.get(class_name);
    if (!storage) throw new Error(`wrangler.toml binds ${name} to ${class_name}, which no migration of that environment creates`);
    bindings[name] = { className: class_name, ...storage };
  }
  return bindings;
}

/**
 * Miniflare options for the Worker of wrangler environment `env` (undefined: production;
 * `BENCH_ENV`: the bench build). `script` overrides the entry module (for a bundle written
 * elsewhere, e.g. by `wrangler deploy --dry-run --outdir`); `bindings` are added to the
 * environment's variables (secrets such as ADMIN_KEY, test switches); every other option is
 * passed to Miniflare as it is.
 */
export function workerOptions({ env, script, bindings = {}, ...extra } = {}) {
  const config = wranglerConfig(env);
  const scriptPath = path.resolve(ROOT, script ?? config.main);
  if (!existsSync(scriptPath)) {
    const build = env === BENCH_ENV ? "bash scripts/build.sh --bench" : "bash scripts/build.sh";
    throw new Error(`${path.relative(ROOT, scriptPath)} is missing: build it first (${build})`);
  }
  return {
    modules: true,
    scriptPath,
    // What wrangler does by default with the wasm next to the bundle.
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: config.compatibility_date,
    ...(config.compatibility_flags ? { compatibilityFlags: config.compatibility_flags } : {}),
    durableObjects: durableObjects(config),
    bindings: { ...config.vars, ...bindings },
    ...extra,
  };
}
