#!/usr/bin/env bash
# npm run lint: every static check, each failing the run: proto lint, type check of
# everything (specs, harness and bench included), type-aware ESLint with the Nx module
# boundaries, and the Prettier format check. `npm test` runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== buf lint"
(cd proto && ../node_modules/.bin/buf lint)
echo "== type check (tsconfig.typecheck.json)"
# The generated contracts are the only thing the check needs built (cached by Nx).
npx nx run contracts:generate --output-style=static >/dev/null
npx tsc -p tsconfig.typecheck.json
npx tsc -p console/web/tsconfig.json
echo "== eslint"
npx eslint --max-warnings 0 .
echo "== prettier --check"
npx prettier --check --log-level warn .
echo "lint: ok"
