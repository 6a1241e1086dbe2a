#!/usr/bin/env bash
# Makes the data center's secrets once, keeps them in a directory outside git, and prints them as
# Kubernetes Secrets for the manifests in deploy/:
#
#   wharf-tls-<identity>  ca.crt, tls.crt, tls.key: the data center's CA and a certificate per
#                         service identity (CN and SAN URI spiffe://wharf/<identity>), valid for every
#                         in-cluster name of the services (etcd-0, mq, mq.wharf.svc, ...)
#   wharf-keys            secret-key (sealed secrets), console-key, admin-token (the first admin's)
#   wharf-registry        htpasswd (the registry's), credentials (user:password of builder and app-manager)
#
# Usage: deploy/secrets.sh [--dir DIR] [--namespace NS] [--hosts h1,h2] | kubectl apply -f -
#   --dir    where the material is kept (default deploy/.secrets, ignored by git; 0700). Run again,
#            it reuses everything there and only issues certificates that are missing or expiring.
#   --hosts  more names/IPs for every certificate (e.g. ClusterIPs reached without DNS)
# Needs `npm run build` (libs/pki) and the repo's node_modules (bcryptjs).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=deploy/.secrets
NS=wharf
EXTRA=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --namespace) NS="$2"; shift 2 ;;
    --hosts) EXTRA="$2"; shift 2 ;;
    *) echo "secrets.sh: unknown argument $1 (see the usage at the top of the script)" >&2; exit 2 ;;
  esac
done
[[ "$NS" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || { echo "secrets.sh: --namespace $NS is not a DNS label" >&2; exit 2; }
[[ -z "$EXTRA" || "$EXTRA" =~ ^[A-Za-z0-9.:,-]+$ ]] || { echo "secrets.sh: --hosts must be comma-separated names or IPs" >&2; exit 2; }
[ -f libs/pki/dist/cli.js ] || { echo "secrets.sh: libs/pki/dist/cli.js is missing: run npm run build first" >&2; exit 1; }

mkdir -p "$DIR" && chmod 700 "$DIR"
# Every name a client may dial a service by: its Service (short, namespaced and full), and the
# per-member Services of the StatefulSets.
names=(etcd etcd-0 etcd-1 etcd-2 mq event-log event-log-0 event-log-1 event-log-2 api-gateway app-manager builder lb-manager node-manager console registry)
hosts=()
for n in "${names[@]}"; do hosts+=("$n" "$n.$NS" "$n.$NS.svc" "$n.$NS.svc.cluster.local"); done
HOSTS="$(IFS=,; echo "${hosts[*]}")${EXTRA:+,$EXTRA}"
node libs/pki/dist/cli.js ensure "$DIR/pki" --hosts "$HOSTS" >&2

rand_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
make_once() { # FILE COMMAND...: FILE holds COMMAND's output, made the first time only (0600)
  local f="$1"; shift
  [ -s "$f" ] || (umask 077; "$@" >"$f.tmp" && mv "$f.tmp" "$f")
}
admin_token() {
  printf 'wharf_%s_%s' "$(head -c 256 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c 16)" \
    "$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
}
registry_credentials() { printf 'wharf:%s' "$(rand_hex)"; }
make_once "$DIR/secret.key" rand_hex
make_once "$DIR/console.key" rand_hex
make_once "$DIR/admin.token" admin_token
make_once "$DIR/registry.credentials" registry_credentials
make_once "$DIR/registry.htpasswd" node -e '
  const [u, p] = require("fs").readFileSync(process.argv[1], "utf8").trim().split(":");
  process.stdout.write(u + ":" + require("bcryptjs").hashSync(p, 10) + "\n");' "$DIR/registry.credentials"

b64() { base64 -w0 <"$1"; }
secret() { # NAME TYPE KEY=FILE...
  local name="$1" type="$2"; shift 2
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n  labels:\n    app.kubernetes.io/part-of: wharf\ntype: %s\ndata:\n' "$name" "$NS" "$type"
  local kv
  for kv in "$@"; do printf '  %s: %s\n' "${kv%%=*}" "$(b64 "${kv#*=}")"; done
}
for id in etcd api-gateway mq event-log builder app-manager lb-manager node-manager console; do
  secret "wharf-tls-$id" kubernetes.io/tls "ca.crt=$DIR/pki/ca.crt" "tls.crt=$DIR/pki/$id.crt" "tls.key=$DIR/pki/$id.key"
done
secret wharf-keys Opaque "secret-key=$DIR/secret.key" "console-key=$DIR/console.key" "admin-token=$DIR/admin.token"
secret wharf-registry Opaque "htpasswd=$DIR/registry.htpasswd" "credentials=$DIR/registry.credentials"
