#!/usr/bin/env bash
# The full suite: static checks (scripts/lint.sh), unit, integration (real etcd and
# processes started by each test file), end-to-end. `npm test` runs ensure-deps and the
# build first (pretest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/lint.sh
echo "== unit"
npx jest -c jest.unit.config.js --ci
echo "== integration"
npx jest -c jest.integration.config.js --ci
echo "== e2e"
npx jest -c test/jest.e2e.config.js --ci --passWithNoTests
