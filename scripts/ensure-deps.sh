#!/usr/bin/env bash
# Installs what is missing on a fresh Debian/Ubuntu machine: system packages with
# apt-get (as root, or through sudo), then npm packages. Idempotent and quiet when
# everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || need_pkgs+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need_pkgs+=(etcd-client)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
# The Docker Engine (Debian's 20.10: its CLI has BuildKit built in), the data center's
# registry, and busybox-static, from which the tests make their tiny images offline.
[ -x /usr/sbin/dockerd ] || need_pkgs+=(docker.io)
[ -x /usr/bin/docker-registry ] || need_pkgs+=(docker-registry)
dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
# The builder makes its Debian base image with debootstrap and runs git under setpriv (util-linux).
[ -x /usr/sbin/debootstrap ] || need_pkgs+=(debootstrap)
[ -x /usr/bin/setpriv ] || need_pkgs+=(util-linux)
# The gateway's data plane (lb-manager): nginx with TCP (stream) and the Lua module its router
# and balancer run in, cjson for the routing table; wrk for `npm run bench -- lb`. Debian's
# nginx package may try to start the system's nginx: Wharf never uses it (own prefix).
[ -x /usr/sbin/nginx ] || need_pkgs+=(nginx)
dpkg -s libnginx-mod-stream >/dev/null 2>&1 || need_pkgs+=(libnginx-mod-stream)
dpkg -s libnginx-mod-http-lua >/dev/null 2>&1 || need_pkgs+=(libnginx-mod-http-lua)
dpkg -s lua-cjson >/dev/null 2>&1 || need_pkgs+=(lua-cjson)
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
# Debian's Chromium, driven by playwright-core in the console's browser tests and bench
# (a test tool's own browser download cannot work on these machines).
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "wharf: installing system packages: ${need_pkgs[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "wharf: need root to install ${need_pkgs[*]} (run as root or install them yourself)" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Another apt (an unattended upgrade, a parallel install) may hold the dpkg lock for a while.
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # Debian starts the packaged etcd and registry as system services; Wharf runs its own.
  if command -v systemctl >/dev/null 2>&1; then
    for unit in etcd docker-registry nginx; do
      systemctl is-active --quiet "$unit" 2>/dev/null && $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
    done
  fi
fi

# `npm install --no-save` (not `npm ci`) because the registry these machines use serves
# only this platform's optional binaries (e.g. @bufbuild/buf-linux-x64) and `npm ci`
# rejects a lock without the other platforms' entries; --no-save installs exactly the
# lock and writes nothing, so a fresh checkout stays clean.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "wharf: installing npm packages"
  npm install --no-save --no-audit --no-fund
fi

# The test Kubernetes cluster's binaries (kube-apiserver, controller-manager, scheduler, kubelet,
# kube-proxy built from Debian's source package, plus Debian's kubectl 1.20), cached outside the
# repo by version: ~7 minutes once per machine, nothing afterwards. WHARF_SKIP_KUBERNETES=1 skips it.
if [ "${WHARF_SKIP_KUBERNETES:-}" != 1 ]; then
  bash scripts/kubernetes/build-binaries.sh
fi
