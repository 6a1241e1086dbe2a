#!/usr/bin/env bash
# The full suite: static checks (scripts/lint.sh), the build, unit, integration (real etcd and
# processes started by each test file), end-to-end. `npm test` runs ensure-deps first (pretest).
#
# The static checks need no build and run mostly on one thread: they run in the background
# beside the build and the unit tests (which have the other core), and are reported (and fail
# the run) before the integration tests start.
set -euo pipefail
cd "$(dirname "$0")/.."
# Generated once here, before two Nx runs (the build's and lint's) would both want to write it.
npx nx run contracts:generate --output-style=static >/dev/null
lint_log="$(mktemp)"
setsid -w bash scripts/lint.sh >"$lint_log" 2>&1 &
lint_pid=$!
# If the run stops early, the checks stop with it (their own process group).
trap 'kill -- "-$lint_pid" 2>/dev/null || true; rm -f "$lint_log"' EXIT
echo "== build"
npm run build
echo "== unit"
npx jest -c jest.unit.config.js --ci
echo "== lint (ran beside the build and the unit tests)"
lint_status=0
wait "$lint_pid" || lint_status=$?
cat "$lint_log"
[ "$lint_status" -eq 0 ] || exit "$lint_status"
echo "== integration"
npx jest -c jest.integration.config.js --ci
echo "== e2e"
npx jest -c test/jest.e2e.config.js --ci --passWithNoTests
