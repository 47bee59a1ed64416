# Sourced by the other scripts: the repository root as working directory, cargo's binaries on
# PATH, no telemetry or network look-ups from wrangler and Miniflare, and (once the npm packages
# are installed) a Node.js that wrangler accepts first on PATH.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

# Whether the node at $1 runs here and is at least 22.12 (wrangler's minimum).
node_fits() {
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' \
    >/dev/null 2>&1
}

# Picks Node.js: the npm package of this platform (package.json's optionalDependencies; npm
# installs only the one whose os and cpu match) when it runs here, else the first node on PATH
# outside node_modules that is new enough. The choice is linked as node_modules/.node/node,
# first on PATH, so wrangler, Miniflare, wasm-opt and the tests all run on it.
use_node() {
  local pinned="$PWD/node_modules/.bin/node" candidate chosen=""
  if [ -e "$pinned" ] && node_fits "$pinned"; then
    chosen="$pinned"
  else
    while IFS= read -r candidate; do
      case "$candidate" in "$PWD"/node_modules/*) continue ;; esac
      if node_fits "$candidate"; then chosen="$candidate"; break; fi
    done < <(type -ap node)
  fi
  if [ -z "$chosen" ]; then
    echo "Node.js >= 22.12 is needed: no npm package of node runs on $(uname -s) $(uname -m)" \
      "and no node on PATH is new enough ($(command -v node || echo none): $(node --version 2>/dev/null || echo -))." >&2
    return 1
  fi
  mkdir -p node_modules/.node
  ln -sfn "$chosen" node_modules/.node/node
  export PATH="$PWD/node_modules/.node:$PATH"
}

if [ -d node_modules ]; then
  use_node
fi
