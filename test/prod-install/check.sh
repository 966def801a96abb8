#!/usr/bin/env bash
# `pulumi up` from a production install (`npm ci --omit=dev`). Pulumi compiles index.ts with the
# program's own ts-node and TypeScript when they are installed, and otherwise falls back to the
# TypeScript 3.8 it bundles, which cannot compile this program (test/production-install.spec.ts
# pins that they are plain dependencies, not optional peers). So: install the tracked files
# without devDependencies into a temporary copy, then check that ts-node and a TypeScript 5 resolve
# from the program's directory, as Pulumi resolves them, and that this TypeScript type-checks
# everything index.ts loads with only the production dependencies' types present.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

git -C "$root" ls-files -z --cached --others --exclude-standard |
  (cd "$root" && xargs -0 cp --parents -t "$work" 2>/dev/null || true)
cd "$work"
npm ci --omit=dev --no-audit --no-fund --loglevel=error

for dev in mocha @types/mocha @cloud-copilot/iam-simulate; do
  if [ -e "node_modules/$dev" ]; then
    echo "prod-install: $dev is installed: this is not a production install" >&2
    exit 1
  fi
done

node -e '
  const dir = process.cwd();
  const ts = require(require.resolve("typescript", { paths: [dir] }));
  require.resolve("ts-node", { paths: [dir] });
  const major = Number(ts.version.split(".")[0]);
  if (major < 5) throw new Error(`typescript ${ts.version} resolves from the program; it needs 5 or newer`);
  console.log(`prod-install: ts-node and typescript ${ts.version} resolve from the program directory`);
'

# Only what index.ts imports (as ts-node loads it), with the project's compiler options.
cat > tsconfig.prod.json <<'JSON'
{ "extends": "./tsconfig.json", "include": [], "files": ["index.ts"] }
JSON
node_modules/.bin/tsc --noEmit -p tsconfig.prod.json
echo "prod-install: index.ts and everything it loads type-check with production dependencies only"
