#!/usr/bin/env bash
# Starts a single-machine data center: installs what is missing, builds, then runs etcd
# and every built service in the background under .wharf/ (pids, logs, data) and
# prints where everything is. `npm run down` stops exactly what this started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STATE="$ROOT/.wharf"
mkdir -p "$STATE/run" "$STATE/logs" "$STATE/data"

bash scripts/ensure-deps.sh
npm run build --silent

ETCD_PORT="${WHARF_ETCD_PORT:-32379}"
ETCD_PEER_PORT="${WHARF_ETCD_PEER_PORT:-32380}"
MQ_GRPC_PORT="${WHARF_MQ_GRPC_PORT:-32401}"
MQ_HTTP_PORT="${WHARF_MQ_HTTP_PORT:-32402}"
API_PORT="${WHARF_API_PORT:-32400}"
EVENTLOG_GRPC_PORT="${WHARF_EVENTLOG_GRPC_PORT:-32403}"
EVENTLOG_HTTP_PORT="${WHARF_EVENTLOG_HTTP_PORT:-32404}"
REGISTRY_PORT="${WHARF_REGISTRY_PORT:-32500}"
LB_HTTP_PORT="${WHARF_LB_HTTP_PORT:-32480}"
LB_HTTPS_PORT="${WHARF_LB_HTTPS_PORT:-32443}"
LB_ADMIN_PORT="${WHARF_LB_ADMIN_PORT:-32410}"
LB_DOMAIN="${WHARF_LB_DOMAIN:-localhost}"
ETCD="http://127.0.0.1:$ETCD_PORT"

running() { [ -f "$STATE/run/$1.pid" ] && kill -0 "$(cat "$STATE/run/$1.pid")" 2>/dev/null; }

# start NAME CMD...: runs CMD detached (own session), logs to .wharf/logs/NAME.log
start() {
  local name="$1"; shift
  if running "$name"; then echo "  $name already running (pid $(cat "$STATE/run/$name.pid"))"; return; fi
  setsid "$@" >"$STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/run/$name.pid"
}

wait_http() { # URL WHAT
  for _ in $(seq 1 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "wharf: $2 did not become ready; see $STATE/logs" >&2; exit 1
}

echo "wharf: starting"
start etcd etcd --name wharf --data-dir "$STATE/data/etcd" \
  --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "wharf=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn --logger zap
wait_http "$ETCD/health" etcd

# The Docker Engine: the machine's if one runs, else Debian's dockerd started here (no
# systemd on these machines); `npm run down` stops it only if this script started it.
if ! curl -fsS --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1; then
  setsid /usr/sbin/dockerd --pidfile "$STATE/run/dockerd.docker-pid" >"$STATE/logs/dockerd.log" 2>&1 < /dev/null &
  echo $! >"$STATE/run/dockerd.pid"
  for _ in $(seq 1 300); do curl -fsS --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1 || { echo "wharf: dockerd did not start; see $STATE/logs/dockerd.log" >&2; exit 1; }
fi

# The data center's registry on 127.0.0.1 with its own credentials (made once, kept 0600).
mkdir -p "$STATE/registry" "$STATE/data/registry"
if [ ! -f "$STATE/registry/credentials" ]; then
  (umask 077; echo "wharf:$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$STATE/registry/credentials")
  node -e 'const [u,p]=require("fs").readFileSync(process.argv[1],"utf8").trim().split(":"); process.stdout.write(u+":"+require("bcryptjs").hashSync(p,10)+"\n")' \
    "$STATE/registry/credentials" > "$STATE/registry/htpasswd"
fi
cat > "$STATE/registry/config.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/data/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
auth:
  htpasswd:
    realm: wharf-registry
    path: $STATE/registry/htpasswd
YML
start registry /usr/bin/docker-registry serve "$STATE/registry/config.yml"
for _ in $(seq 1 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REGISTRY_PORT/v2/")" = 401 ] && break; sleep 0.1; done

if [ -f services/mq/dist/main.js ]; then
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_MQ_GRPC_ADDR="127.0.0.1:$MQ_GRPC_PORT" WHARF_HTTP_PORT="$MQ_HTTP_PORT" \
    start mq node services/mq/dist/main.js
  wait_http "http://127.0.0.1:$MQ_HTTP_PORT/readyz" mq
fi

if [ -f services/event-log/dist/main.js ]; then
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_EVENTLOG_GRPC_ADDR="127.0.0.1:$EVENTLOG_GRPC_PORT" WHARF_HTTP_PORT="$EVENTLOG_HTTP_PORT" \
    WHARF_EVENTLOG_DATA_DIR="$STATE/data/eventlog" start event-log node services/event-log/dist/main.js
  wait_http "http://127.0.0.1:$EVENTLOG_HTTP_PORT/health" event-log
fi

if [ -f services/api-gateway/dist/main.js ]; then
  # The key that encrypts secrets at rest: made once, kept beside the data it protects.
  if [ ! -f "$STATE/secret.key" ]; then (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/secret.key"); fi
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_MQ_ADDR="127.0.0.1:$MQ_GRPC_PORT" WHARF_HTTP_PORT="$API_PORT" \
    WHARF_EVENTLOG_ADDR="127.0.0.1:$EVENTLOG_GRPC_PORT" \
    WHARF_SECRET_KEY="$(cat "$STATE/secret.key")" start api-gateway node services/api-gateway/dist/main.js
  wait_http "http://127.0.0.1:$API_PORT/health" api-gateway
fi

if [ -f services/lb-manager/dist/main.js ]; then
  # The gateway: lb-manager drives its own nginx instances under .wharf/lb (never the system's).
  if [ ! -f "$STATE/secret.key" ]; then (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/secret.key"); fi
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_HTTP_PORT="$LB_ADMIN_PORT" WHARF_LB_HTTP_PORT="$LB_HTTP_PORT" WHARF_LB_HTTPS_PORT="$LB_HTTPS_PORT" \
    WHARF_LB_DOMAIN="$LB_DOMAIN" WHARF_LB_DATA_DIR="$STATE/lb" WHARF_SECRET_KEY="$(cat "$STATE/secret.key")" \
    start lb-manager node services/lb-manager/dist/main.js
  wait_http "http://127.0.0.1:$LB_ADMIN_PORT/readyz" lb-manager
fi

echo
echo "Wharf data center is up:"
echo "  etcd        $ETCD"
[ -f services/mq/dist/main.js ] && {
  echo "  mq (gRPC)   127.0.0.1:$MQ_GRPC_PORT"
  echo "  mq metrics  http://127.0.0.1:$MQ_HTTP_PORT/metrics   health: http://127.0.0.1:$MQ_HTTP_PORT/health"
}
[ -f services/event-log/dist/main.js ] && {
  echo "  event-log   gRPC 127.0.0.1:$EVENTLOG_GRPC_PORT   socket.io + HTTP http://127.0.0.1:$EVENTLOG_HTTP_PORT"
}
[ -f services/api-gateway/dist/main.js ] && {
  echo "  REST API    http://127.0.0.1:$API_PORT/api/v1   docs: http://127.0.0.1:$API_PORT/docs"
  token="$(grep -ho 'admin token (shown once, store it now): [^ ]*' "$STATE/logs/api-gateway.log" 2>/dev/null | tail -1 | sed 's/.*: //' || true)"
  # Printed once, at the first start; later starts keep the token you stored.
  if [ -n "$token" ]; then echo "  admin token $token   (first start only: store it now)"; fi
}
[ -f services/lb-manager/dist/main.js ] && {
  echo "  gateway     http://127.0.0.1:$LB_HTTP_PORT   https://127.0.0.1:$LB_HTTPS_PORT   (hosts <component>.<app>.<tenant>.$LB_DOMAIN)"
  echo "  lb-manager  http://127.0.0.1:$LB_ADMIN_PORT/routes   metrics: /metrics"
}
echo "  registry    127.0.0.1:$REGISTRY_PORT   credentials: $STATE/registry/credentials"
echo "  docker      /var/run/docker.sock$( [ -f "$STATE/run/dockerd.pid" ] && echo " (dockerd started by wharf)")"
echo "  logs        $STATE/logs/"
echo "Stop with: npm run down"
