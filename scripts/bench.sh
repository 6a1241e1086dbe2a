#!/usr/bin/env bash
# npm run bench -- NAME: builds, then runs bench/NAME.ts, which prints one JSON line last.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"
if [ -z "$name" ] || [ ! -f "bench/$name.bench.ts" ]; then
  echo "usage: npm run bench -- NAME   (available: $(ls bench/*.bench.ts 2>/dev/null | xargs -n1 basename 2>/dev/null | sed 's/.bench.ts//' | tr '\n' ' '))" >&2
  exit 2
fi
bash scripts/ensure-deps.sh >&2
npm run build --silent >&2
exec node -r @swc-node/register "bench/$name.bench.ts" "${@:2}"
