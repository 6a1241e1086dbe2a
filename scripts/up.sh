#!/usr/bin/env bash
# Starts a single-machine data center: installs what is missing, builds, then runs etcd
# and every built service in the background under .wharf/ (pids, logs, data) and
# prints where everything is. `npm run down` stops exactly what this started.
#
#   npm run up                                       components run on this machine's Docker Engine
#   npm run up -- --runtime kubernetes               ... on a one-node Kubernetes 1.20 cluster started here
#   npm run up -- --runtime kubernetes --kubeconfig PATH   ... on an existing cluster (starts none)
# WHARF_RUNTIME and WHARF_KUBECONFIG do the same as the flags (the flags win).
set -euo pipefail
die() { echo "wharf: $*" >&2; exit 2; }
usage="usage: npm run up [-- --runtime docker|kubernetes [--kubeconfig PATH]]"
RUNTIME="${WHARF_RUNTIME:-docker}"
KUBECONFIG_FILE=""
KUBECONFIG_FLAG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) [ $# -ge 2 ] || die "--runtime needs a value: docker or kubernetes ($usage)"; RUNTIME="$2"; shift 2 ;;
    --runtime=*) RUNTIME="${1#*=}"; shift ;;
    --kubeconfig) [ $# -ge 2 ] || die "--kubeconfig needs a file ($usage)"; KUBECONFIG_FLAG="$2"; shift 2 ;;
    --kubeconfig=*) KUBECONFIG_FLAG="${1#*=}"; shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) die "unknown argument '$1' ($usage)" ;;
  esac
done
case "$RUNTIME" in
  docker) [ -z "$KUBECONFIG_FLAG" ] || die "--kubeconfig is for --runtime kubernetes (the runtime is docker)" ;;
  kubernetes) KUBECONFIG_FILE="${KUBECONFIG_FLAG:-${WHARF_KUBECONFIG:-}}" ;;
  *) die "runtime '$RUNTIME' (--runtime or WHARF_RUNTIME): unknown; expected docker or kubernetes" ;;
esac
if [ -n "$KUBECONFIG_FILE" ]; then
  # Relative to where `npm run up` was typed (npm runs scripts from the package root).
  case "$KUBECONFIG_FILE" in /*) ;; *) KUBECONFIG_FILE="${INIT_CWD:-$PWD}/$KUBECONFIG_FILE" ;; esac
  [ -f "$KUBECONFIG_FILE" ] && [ -r "$KUBECONFIG_FILE" ] && [ -s "$KUBECONFIG_FILE" ] ||
    die "kubeconfig $KUBECONFIG_FILE (--kubeconfig or WHARF_KUBECONFIG): no such readable, non-empty file"
elif [ "$RUNTIME" = kubernetes ] && [ "$(id -u)" -ne 0 ]; then
  die "--runtime kubernetes without --kubeconfig starts a Kubernetes cluster on this machine, which needs root (network and mount namespaces, containerd, kubelet); run as root or pass --kubeconfig PATH of an existing cluster"
fi
# The cluster `up` starts itself (no kubeconfig given): its process, kubeconfig and record live here.
OWN_CLUSTER=""
[ "$RUNTIME" = kubernetes ] && [ -z "$KUBECONFIG_FILE" ] && OWN_CLUSTER=1
cd "$(dirname "$0")/.."
ROOT="$PWD"
# WHARF_STATE_DIR: somewhere else than .wharf/ (a test run of the whole data center beside a running one).
STATE="${WHARF_STATE_DIR:-$ROOT/.wharf}"
# A data center that runs stays on its runtime: switching needs `npm run down` first.
if [ -f "$STATE/runtime" ] && [ -f "$STATE/run/app-manager.pid" ] && kill -0 "$(cat "$STATE/run/app-manager.pid")" 2>/dev/null &&
  [ "$(cat "$STATE/runtime")" != "$RUNTIME${KUBECONFIG_FILE:+ $KUBECONFIG_FILE}" ]; then
  die "the data center in $STATE runs on $(cat "$STATE/runtime"), not $RUNTIME${KUBECONFIG_FILE:+ $KUBECONFIG_FILE}: npm run down first"
fi
mkdir -p "$STATE/run" "$STATE/logs" "$STATE/data"
echo "$RUNTIME${KUBECONFIG_FILE:+ $KUBECONFIG_FILE}" > "$STATE/runtime"

bash scripts/ensure-deps.sh
npm run build --silent
K8S_BIN="${WHARF_KUBERNETES_BIN_DIR:-${WHARF_CACHE_DIR:-/var/cache/wharf}/kubernetes/1.20.2/bin}"
if [ -n "$OWN_CLUSTER" ]; then
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    [ -x "$K8S_BIN/$b" ] || die "--runtime kubernetes: $K8S_BIN/$b is missing (scripts/kubernetes/build-binaries.sh builds it; WHARF_SKIP_KUBERNETES=1 skipped it)"
  done
fi

ETCD_PORT="${WHARF_ETCD_PORT:-32379}"
ETCD_PEER_PORT="${WHARF_ETCD_PEER_PORT:-32380}"
MQ_GRPC_PORT="${WHARF_MQ_GRPC_PORT:-32401}"
MQ_HTTP_PORT="${WHARF_MQ_HTTP_PORT:-32402}"
API_PORT="${WHARF_API_PORT:-32400}"
EVENTLOG_GRPC_PORT="${WHARF_EVENTLOG_GRPC_PORT:-32403}"
EVENTLOG_HTTP_PORT="${WHARF_EVENTLOG_HTTP_PORT:-32404}"
REGISTRY_PORT="${WHARF_REGISTRY_PORT:-32500}"
CONSOLE_PORT="${WHARF_CONSOLE_PORT:-32600}"
APPMGR_GRPC_PORT="${WHARF_APPMGR_GRPC_PORT:-32405}"
APPMGR_HTTP_PORT="${WHARF_APPMGR_HTTP_PORT:-32406}"
BUILDER_HTTP_PORT="${WHARF_BUILDER_HTTP_PORT:-32407}"
NODEMGR_HTTP_PORT="${WHARF_NODEMGR_HTTP_PORT:-32408}"
LB_HTTP_PORT="${WHARF_LB_HTTP_PORT:-32480}"
LB_HTTPS_PORT="${WHARF_LB_HTTPS_PORT:-32443}"
LB_ADMIN_PORT="${WHARF_LB_ADMIN_PORT:-32410}"
LB_DOMAIN="${WHARF_LB_DOMAIN:-localhost}"
ETCD="https://127.0.0.1:$ETCD_PORT"
PKI="$STATE/pki"

# The data center's CA (made once, kept in .wharf/pki/ca.key) and a certificate per identity,
# issued again only when missing or expiring. WHARF_PKI_HOSTS adds names/IPs of other machines.
node libs/pki/dist/cli.js ensure "$PKI" ${WHARF_PKI_HOSTS:+--hosts "$WHARF_PKI_HOSTS"}
# tls NAME: the WHARF_TLS_* settings of the service with that identity, as `env` arguments
tls() { TLS=("WHARF_TLS_CA_FILE=$PKI/ca.crt" "WHARF_TLS_CERT_FILE=$PKI/$1.crt" "WHARF_TLS_KEY_FILE=$PKI/$1.key"); }
ADMIN_TLS=(--cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key")
# etcd refuses every write (NOSPACE) once its database file reaches this; mq's elected
# maintainer compacts and defragments well before (README: "etcd's size").
ETCD_QUOTA_BYTES="${WHARF_ETCD_QUOTA_BYTES:-2147483648}"

running() { [ -f "$STATE/run/$1.pid" ] && kill -0 "$(cat "$STATE/run/$1.pid")" 2>/dev/null; }

# start NAME CMD...: runs CMD detached (own session), logs to .wharf/logs/NAME.log
start() {
  local name="$1"; shift
  if running "$name"; then echo "  $name already running (pid $(cat "$STATE/run/$name.pid"))"; return; fi
  setsid "$@" >"$STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/run/$name.pid"
}

# A service's start takes ~1-3 s on an idle machine and several times that on a loaded one
# (seen: api-gateway past 10 s at a load of 20 on 2 cores): WHARF_UP_WAIT_S (60) bounds each wait.
UP_WAIT_S="${WHARF_UP_WAIT_S:-60}"
wait_http() { # URL WHAT [CURL ARGS...]
  local url="$1" what="$2"; shift 2
  local end=$((SECONDS + UP_WAIT_S))
  while [ "$SECONDS" -lt "$end" ]; do curl -fsS --max-time 2 "$@" "$url" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "wharf: $what did not become ready within ${UP_WAIT_S} s; see $STATE/logs" >&2; exit 1
}

echo "wharf: starting"
# Clients only over https with a certificate of the CA (--client-cert-auth). The peer port is
# loopback-only and this is a single member; a cluster would add --peer-* TLS flags the same way.
start etcd etcd --name wharf --data-dir "$STATE/data/etcd" \
  --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
  --client-cert-auth --trusted-ca-file "$PKI/ca.crt" --cert-file "$PKI/etcd.crt" --key-file "$PKI/etcd.key" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "wharf=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn --logger zap \
  --quota-backend-bytes "$ETCD_QUOTA_BYTES"
wait_http "$ETCD/health" etcd "${ADMIN_TLS[@]}"

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

# --runtime kubernetes without a kubeconfig: a one-node Kubernetes 1.20 cluster of this machine
# (the test cluster of docs/kubernetes-test-cluster.md) as one more long-lived process. Its node
# pulls from the data center's registry: 127.0.0.1 inside the node's network namespace is the
# node's own, so the cluster relays the registry's port on its host address and gives the node's
# containerd a mirror there (image refs stay 127.0.0.1:PORT/..., as the builder records them).
K8S_STATE="$STATE/kubernetes"
if [ -n "$OWN_CLUSTER" ]; then
  mkdir -p "$K8S_STATE"
  # A record left by a cluster process that was killed: end what it left first.
  running kubernetes || node libs/testing/dist/kubernetes-cluster-cli.js cleanup --state "$K8S_STATE"
  start kubernetes node libs/testing/dist/kubernetes-cluster-cli.js start --state "$K8S_STATE" --registry "127.0.0.1:$REGISTRY_PORT"
  KUBECONFIG_FILE="$K8S_STATE/kubeconfig"
fi
wait_kubernetes() {
  [ -n "$OWN_CLUSTER" ] || return 0
  # Up to 10 minutes: ~15 s on an idle machine, much longer on a busy one.
  for _ in $(seq 1 1200); do
    [ -f "$K8S_STATE/cluster.json" ] && return 0
    running kubernetes || break
    sleep 0.5
  done
  echo "wharf: the Kubernetes cluster did not start; the end of $STATE/logs/kubernetes.log:" >&2
  tail -n 30 "$STATE/logs/kubernetes.log" >&2 || true
  exit 1
}
# What event-log (runtime logs) and app-manager get: the cluster, or the Docker Engine.
if [ "$RUNTIME" = kubernetes ]; then
  RUNTIME_LOGS_ENV=(WHARF_RUNTIME_LOGS=kubernetes "WHARF_KUBECONFIG=$KUBECONFIG_FILE")
  RUNTIME_ENV=(WHARF_RUNTIME=kubernetes "WHARF_KUBECONFIG=$KUBECONFIG_FILE")
else
  RUNTIME_LOGS_ENV=()
  RUNTIME_ENV=(WHARF_RUNTIME=docker)
fi

if [ -f services/mq/dist/main.js ]; then
  tls mq
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_MQ_GRPC_ADDR="127.0.0.1:$MQ_GRPC_PORT" WHARF_HTTP_PORT="$MQ_HTTP_PORT" \
    WHARF_ETCD_QUOTA_BYTES="$ETCD_QUOTA_BYTES" start mq env "${TLS[@]}" node services/mq/dist/main.js
  wait_http "http://127.0.0.1:$MQ_HTTP_PORT/readyz" mq
fi

wait_kubernetes
if [ -f services/event-log/dist/main.js ]; then
  tls event-log
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_EVENTLOG_GRPC_ADDR="127.0.0.1:$EVENTLOG_GRPC_PORT" WHARF_HTTP_PORT="$EVENTLOG_HTTP_PORT" \
    WHARF_DATA_CENTER="${WHARF_DATA_CENTER:-dc1}" WHARF_EVENTLOG_DATA_DIR="$STATE/data/eventlog" start event-log env "${TLS[@]}" ${RUNTIME_LOGS_ENV[@]+"${RUNTIME_LOGS_ENV[@]}"} node services/event-log/dist/main.js
  wait_http "http://127.0.0.1:$EVENTLOG_HTTP_PORT/readyz" event-log
fi

# The key that encrypts secrets at rest (api-gateway seals; the builder opens build credentials,
# app-manager secret env for containers only): made once, kept beside the data it protects.
if [ ! -f "$STATE/secret.key" ]; then (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/secret.key"); fi

if [ -f services/builder/dist/main.js ]; then
  tls builder
  # Builds (and the stack images, made once with debootstrap) under the state dir's builder/.
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_MQ_ADDR="127.0.0.1:$MQ_GRPC_PORT" WHARF_EVENTLOG_ADDR="127.0.0.1:$EVENTLOG_GRPC_PORT" \
    WHARF_HTTP_PORT="$BUILDER_HTTP_PORT" WHARF_BUILDER_REGISTRY="127.0.0.1:$REGISTRY_PORT" \
    WHARF_BUILDER_REGISTRY_CREDENTIALS_FILE="$STATE/registry/credentials" WHARF_BUILDER_WORK_DIR="$STATE/builder" \
    WHARF_SECRET_KEY="$(cat "$STATE/secret.key")" start builder env "${TLS[@]}" node services/builder/dist/main.js
  wait_http "http://127.0.0.1:$BUILDER_HTTP_PORT/readyz" builder
fi

if [ -f services/api-gateway/dist/main.js ]; then
  tls api-gateway
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_MQ_ADDR="127.0.0.1:$MQ_GRPC_PORT" WHARF_HTTP_PORT="$API_PORT" \
    WHARF_EVENTLOG_ADDR="127.0.0.1:$EVENTLOG_GRPC_PORT" WHARF_EVENTLOG_HTTP_URL="http://127.0.0.1:$EVENTLOG_HTTP_PORT" WHARF_LB_DOMAIN="$LB_DOMAIN" \
    WHARF_DC_NAME="${WHARF_DATA_CENTER:-dc1}" WHARF_SECRET_KEY="$(cat "$STATE/secret.key")" start api-gateway env "${TLS[@]}" node services/api-gateway/dist/main.js
  wait_http "http://127.0.0.1:$API_PORT/readyz" api-gateway
fi

if [ -f services/app-manager/dist/main.js ]; then
  if [ ! -f "$STATE/secret.key" ]; then (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/secret.key"); fi
  # Runs the data center's components on the Docker Engine or the cluster; pulls only from the data center's registry.
  tls app-manager
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_MQ_ADDR="127.0.0.1:$MQ_GRPC_PORT" WHARF_EVENTLOG_ADDR="127.0.0.1:$EVENTLOG_GRPC_PORT" \
    WHARF_APPMGR_GRPC_ADDR="127.0.0.1:$APPMGR_GRPC_PORT" WHARF_HTTP_PORT="$APPMGR_HTTP_PORT" \
    WHARF_DATA_CENTER="${WHARF_DATA_CENTER:-dc1}" WHARF_PULL_REGISTRIES="127.0.0.1:$REGISTRY_PORT" \
    WHARF_REGISTRY_CREDENTIALS_FILE="$STATE/registry/credentials" \
    WHARF_SECRET_KEY="$(cat "$STATE/secret.key")" start app-manager env "${TLS[@]}" "${RUNTIME_ENV[@]}" node services/app-manager/dist/main.js
  wait_http "http://127.0.0.1:$APPMGR_HTTP_PORT/readyz" app-manager
fi

if [ -f services/node-manager/dist/main.js ]; then
  # This machine as the data center's one node: heartbeat, health conditions, lifecycle, node tasks.
  # Its runtime is this machine's Docker Engine whatever app-manager runs on (an inherited
  # WHARF_RUNTIME=kubernetes is not one node-manager knows yet).
  tls node-manager
  WHARF_RUNTIME=docker WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_MQ_ADDR="127.0.0.1:$MQ_GRPC_PORT" WHARF_EVENTLOG_ADDR="127.0.0.1:$EVENTLOG_GRPC_PORT" \
    WHARF_HTTP_PORT="$NODEMGR_HTTP_PORT" WHARF_DATA_CENTER="${WHARF_DATA_CENTER:-dc1}" \
    start node-manager env "${TLS[@]}" node services/node-manager/dist/main.js
  wait_http "http://127.0.0.1:$NODEMGR_HTTP_PORT/readyz" node-manager
fi

if [ -f services/lb-manager/dist/main.js ]; then
  # The gateway: lb-manager drives its own nginx instances under .wharf/lb (never the system's).
  if [ ! -f "$STATE/secret.key" ]; then (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/secret.key"); fi
  tls lb-manager
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_HTTP_PORT="$LB_ADMIN_PORT" WHARF_LB_HTTP_PORT="$LB_HTTP_PORT" WHARF_LB_HTTPS_PORT="$LB_HTTPS_PORT" \
    WHARF_LB_DOMAIN="$LB_DOMAIN" WHARF_LB_DATA_DIR="$STATE/lb" WHARF_SECRET_KEY="$(cat "$STATE/secret.key")" \
    start lb-manager env "${TLS[@]}" node services/lb-manager/dist/main.js
  wait_http "http://127.0.0.1:$LB_ADMIN_PORT/readyz" lb-manager
fi

if [ -f console/server/dist/main.js ]; then
  # The console: its own state on its own etcd prefix; data-center tokens sealed with its own key (made once).
  if [ ! -f "$STATE/console.key" ]; then (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/console.key"); fi
  tls console
  WHARF_ETCD_ENDPOINTS="$ETCD" WHARF_HTTP_PORT="$CONSOLE_PORT" WHARF_CONSOLE_SECRET_KEY="$(cat "$STATE/console.key")" \
    start console env "${TLS[@]}" node console/server/dist/main.js
  wait_http "http://127.0.0.1:$CONSOLE_PORT/readyz" console
fi

echo
echo "Wharf data center is up:"
# etcd's own view of its size (etcdctl comes with ensure-deps): file size, in use, quota, alarms.
etcd_status() {
  ETCDCTL_API=3 etcdctl --endpoints "$ETCD" --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" --command-timeout 2s endpoint status -w json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try {
        const st = JSON.parse(s)[0].Status;
        const mib = (n) => (n >= 1 << 30 ? (n / (1 << 30)).toFixed(1) + " GiB" : n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : (n / 1024).toFixed(0) + " KiB");
        const alarms = (st.errors || []).filter((e) => /alarm/.test(e)).map((e) => e.replace(/.*alarm:/, "").trim());
        process.stdout.write(`database ${mib(st.dbSize)} (${mib(st.dbSizeInUse)} in use) of a ${mib(Number(process.argv[1]))} quota` + (alarms.length ? `, ALARM ${alarms.join(" ")}` : ""));
      } catch { process.stdout.write("database size unknown (etcdctl endpoint status failed)"); }
    });' "$ETCD_QUOTA_BYTES"
}
echo "  etcd        $ETCD   $(etcd_status); client certificates only (CA and certificates in $PKI)"
echo "  etcdctl     ETCDCTL_API=3 etcdctl --endpoints=$ETCD --cacert=$PKI/ca.crt --cert=$PKI/admin.crt --key=$PKI/admin.key endpoint health"
[ -f services/mq/dist/main.js ] && {
  echo "  mq (gRPC)   127.0.0.1:$MQ_GRPC_PORT"
  echo "  mq metrics  http://127.0.0.1:$MQ_HTTP_PORT/metrics   ready: http://127.0.0.1:$MQ_HTTP_PORT/readyz"
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
[ -f services/app-manager/dist/main.js ] && {
  echo "  app-manager gRPC 127.0.0.1:$APPMGR_GRPC_PORT   probes + metrics http://127.0.0.1:$APPMGR_HTTP_PORT   data center ${WHARF_DATA_CENTER:-dc1}"
}
[ -f services/node-manager/dist/main.js ] && {
  echo "  node-manager http://127.0.0.1:$NODEMGR_HTTP_PORT/node   probes + metrics on the same port   (GET /api/v1/nodes as admin)"
}
[ -f services/builder/dist/main.js ] && {
  echo "  builder     http://127.0.0.1:$BUILDER_HTTP_PORT/metrics   ready: http://127.0.0.1:$BUILDER_HTTP_PORT/readyz"
}
[ -f services/lb-manager/dist/main.js ] && {
  echo "  gateway     http://127.0.0.1:$LB_HTTP_PORT   https://127.0.0.1:$LB_HTTPS_PORT   (hosts <component>.<app>.<tenant>.$LB_DOMAIN)"
  echo "  lb-manager  http://127.0.0.1:$LB_ADMIN_PORT/routes   metrics: /metrics"
}
[ -f console/server/dist/main.js ] && {
  echo "  console     http://127.0.0.1:$CONSOLE_PORT   API docs: http://127.0.0.1:$CONSOLE_PORT/docs"
  first="$(grep -ho 'console first user (shown once, store it now): .*' "$STATE/logs/console.log" 2>/dev/null | tail -1 | sed 's/.*: //' || true)"
  # Printed once, at the console's first start.
  if [ -n "$first" ]; then
    echo "  first user  ${first% *} / password ${first#* }   (first start only: store it now)"
    echo "              then: npx wharf login http://127.0.0.1:$CONSOLE_PORT --user ${first% *}; npx wharf dc add local http://127.0.0.1:$API_PORT --token <admin token>"
  fi
}
echo "  registry    127.0.0.1:$REGISTRY_PORT   credentials: $STATE/registry/credentials"
echo "  docker      /var/run/docker.sock$( [ -f "$STATE/run/dockerd.pid" ] && echo " (dockerd started by wharf)")"
if [ "$RUNTIME" = kubernetes ]; then
  if [ -n "$OWN_CLUSTER" ]; then
    server="$(node -e 'process.stdout.write(require(process.argv[1]).server)' "$K8S_STATE/cluster.json")"
    echo "  kubernetes  $server   one-node Kubernetes 1.20 cluster started by wharf (its log: $STATE/logs/kubernetes.log)"
    KUBECTL="$K8S_BIN/kubectl"
  else
    echo "  kubernetes  the cluster of $KUBECONFIG_FILE (wharf started none)"
    KUBECTL="kubectl"
  fi
  echo "  kubeconfig  $KUBECONFIG_FILE   (app-manager runs components there, event-log reads their logs)"
  echo "  kubectl     $KUBECTL --kubeconfig $KUBECONFIG_FILE get pods -A   (tenant namespaces: wharf-<tenant>)"
fi
echo "  logs        $STATE/logs/"
echo "Stop with: npm run down"
