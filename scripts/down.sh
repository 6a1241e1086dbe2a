#!/usr/bin/env bash
# Stops what `npm run up` started, by the pids it recorded; data under .wharf/data stays.
set -uo pipefail
cd "$(dirname "$0")/.."
STATE="${WHARF_STATE_DIR:-$PWD/.wharf}"
RUN="$STATE/run"
[ -d "$RUN" ] || { echo "wharf: nothing to stop"; exit 0; }
# services first, then the Kubernetes cluster `up --runtime kubernetes` started (its users are gone
# by then), then etcd and the Docker Engine (only if `up` started it), so services can shut down cleanly
for pidfile in $(ls "$RUN"/*.pid 2>/dev/null | grep -v '/etcd.pid$\|/dockerd.pid$\|/kubernetes.pid$') "$RUN/kubernetes.pid" "$RUN/etcd.pid" "$RUN/dockerd.pid"; do
  [ -f "$pidfile" ] || continue
  name="$(basename "$pidfile" .pid)"; pid="$(cat "$pidfile")"
  # The cluster stops its kubelet, containers, containerd and control plane in turn: give it 3 minutes.
  waits=150; [ "$name" = kubernetes ] && waits=1800
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 "$waits"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "wharf: stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
# A cluster process that was killed (here or before) leaves its record: end its processes, namespace and temp dirs.
if [ -f "$STATE/kubernetes/cluster.json" ]; then
  node libs/testing/dist/kubernetes-cluster-cli.js cleanup --state "$STATE/kubernetes" || echo "wharf: cleaning up the Kubernetes cluster failed" >&2
fi
# The gateway's nginx masters normally stop with lb-manager; one left behind by a lb-manager
# that was killed keeps serving until here (its pid file is under <state>/lb/<instance>/run).
for pidfile in "$STATE"/lb/*/run/nginx.pid; do
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null && grep -q nginx "/proc/$pid/cmdline" 2>/dev/null; then
    kill -QUIT "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
    echo "wharf: stopped the gateway's nginx (pid $pid)"
  fi
done
