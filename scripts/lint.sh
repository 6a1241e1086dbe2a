#!/usr/bin/env bash
# npm run lint: every static check, each failing the run: proto lint, type check of
# everything (specs, harness and bench included), type-aware ESLint with the Nx module
# boundaries, and the Prettier format check. `npm test` runs it (beside the build and the
# unit tests).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== buf lint"
(cd proto && ../node_modules/.bin/buf lint)
# The generated contracts are the only thing the checks need built (cached by Nx).
npx nx run contracts:generate --output-style=static >/dev/null
# Prettier works on its own core meanwhile (the type check and ESLint are one thread).
prettier_log="$(mktemp)"
npx prettier --check --log-level warn . >"$prettier_log" 2>&1 &
prettier_pid=$!
echo "== type check (tsconfig.typecheck.json, console/web) and eslint, on one program each"
status=0
node scripts/typecheck-and-lint.mjs || status=$?
echo "== prettier --check"
wait "$prettier_pid" || status=$?
cat "$prettier_log"
rm -f "$prettier_log"
[ "$status" -eq 0 ] || { echo "lint: failed" >&2; exit "$status"; }
echo "lint: ok"
