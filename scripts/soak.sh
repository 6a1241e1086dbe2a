#!/usr/bin/env bash
# npm run soak: builds, then runs test/soak/etcd.soak.ts (etcd with a small quota filled
# several times over by mq round trips and catalog snapshots while mq's maintainer keeps it
# bounded; a few minutes). Prints one JSON line last and exits 1 when a check fails.
# SOAK_QUOTA_MIB (32), SOAK_FILLS (3.5), SOAK_TIME_CAP_S (300), SOAK_COMPONENTS (2500).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh >&2
npm run build --silent >&2
exec node -r @swc-node/register test/soak/etcd.soak.ts "$@"
