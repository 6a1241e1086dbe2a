#!/usr/bin/env bash
# Builds the Kubernetes 1.20 binaries the test cluster runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy) from Debian's source
# package, offline, and puts them with Debian's kubectl into a cache outside the repo:
#   ${WHARF_CACHE_DIR:-/var/cache/wharf}/kubernetes/1.20.2/bin
# Debian ships Kubernetes only as the source package `kubernetes` (its one binary
# package is kubernetes-client, i.e. kubectl). The source carries its Go dependencies,
# so `make` needs no network. About 6-7 minutes on 2 cores, once per machine: a second
# run (or a concurrent one, which waits on the lock) finds the binaries and returns.
#
# Usage: build-binaries.sh [--print-bin-dir]   (prints the bin dir on stdout when done)
set -euo pipefail

K8S_VERSION=1.20.2
CACHE_ROOT="${WHARF_CACHE_DIR:-/var/cache/wharf}/kubernetes/${K8S_VERSION}"
BIN_DIR="$CACHE_ROOT/bin"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

log() { echo "wharf kubernetes: $*" >&2; }

all_built() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || return 1; done
  [ -f "$BIN_DIR/.complete" ]
}

print_dir() { if [ "${1:-}" = "--print-bin-dir" ]; then echo "$BIN_DIR"; fi; }

if all_built; then print_dir "${1:-}"; exit 0; fi

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  log "need root to install packages and write $CACHE_ROOT"; exit 1
fi

$SUDO mkdir -p "$CACHE_ROOT"
# One builder at a time: a second caller waits here, then finds the binaries.
exec 9>"$CACHE_ROOT/.build.lock"
flock 9
if all_built; then print_dir "${1:-}"; exit 0; fi

# Packages the build and the test cluster need. containerd is the kubelet's runtime
# (CRI), containernetworking-plugins its pod network (/usr/lib/cni), iptables/conntrack
# for kube-proxy, util-linux for unshare/nsenter/flock.
need=()
dpkg -s golang-go >/dev/null 2>&1 || need+=(golang-go)
command -v rsync >/dev/null 2>&1 || need+=(rsync)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v make >/dev/null 2>&1 || need+=(make)
dpkg -s dpkg-dev >/dev/null 2>&1 || need+=(dpkg-dev)
[ -x /usr/bin/containerd ] || need+=(containerd)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${need[@]}" >/dev/null
fi

work="$(mktemp -d "$CACHE_ROOT/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# A private apt configuration adds deb-src lines for the machine's own Debian sources
# (read from its deb822 files, never a hard-coded mirror) without touching them.
apt_dir="$work/apt"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/archives/partial"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  sed -e 's/^Types:.*/Types: deb deb-src/' "$f" >"$apt_dir/sources.list.d/$(basename "$f")"
done
[ -f /etc/apt/sources.list ] && sed -n 's/^deb \(.*\)$/deb \1\ndeb-src \1/p' /etc/apt/sources.list >"$apt_dir/sources.list"
touch "$apt_dir/sources.list"
cat >"$apt_dir/apt.conf" <<CONF
Dir::Etc::sourcelist "$apt_dir/sources.list";
Dir::Etc::sourceparts "$apt_dir/sources.list.d";
Dir::State::lists "$apt_dir/lists";
Dir::Cache::archives "$apt_dir/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "root";
CONF
export APT_CONFIG="$apt_dir/apt.conf"
apt-get update -qq

cd "$work"
log "fetching the kubernetes source package and kubernetes-client"
apt-get source -qq kubernetes >/dev/null
apt-get download -qq kubernetes-client
src="$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
[ -n "$src" ] || { log "apt-get source kubernetes left no source tree"; exit 1; }
case "$src" in *"really${K8S_VERSION}"* | *"-${K8S_VERSION}") ;; *)
  log "apt-get source kubernetes gave $(basename "$src"), not ${K8S_VERSION}: set K8S_VERSION in $0"; exit 1 ;;
esac

log "building ${BINARIES[*]::5} (about 6-7 minutes on 2 cores)"
start=$(date +%s)
(
  cd "$src"
  mkdir -p .go/src/k8s.io
  ln -sfn ../../.. .go/src/k8s.io/kubernetes
  export GOPATH="$src/.go" GOCACHE="$work/gocache" CGO_ENABLED=0 GOFLAGS=-mod=vendor GOPROXY=off
  # The Debian tree is not a git checkout: give the build its version explicitly.
  export KUBE_GIT_VERSION="v${K8S_VERSION}" KUBE_GIT_TREE_STATE=clean
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy" >"$work/make.log" 2>&1 ||
    { tail -n 40 "$work/make.log" >&2; exit 1; }
)
log "built in $(($(date +%s) - start)) s"

tmp_bin="$CACHE_ROOT/bin.tmp"
rm -rf "$tmp_bin" && mkdir -p "$tmp_bin"
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  cp "$src/_output/bin/$b" "$tmp_bin/$b" 2>/dev/null || cp "$src/_output/local/bin/linux/amd64/$b" "$tmp_bin/$b"
done
# Debian's kubectl 1.20 is extracted, not installed: a newer kubectl package may already
# own /usr/bin/kubectl, and the tests must talk 1.20 to a 1.20 server.
dpkg-deb -x "$work"/kubernetes-client_*.deb "$work/kubectl"
cp "$work/kubectl/usr/bin/kubectl" "$tmp_bin/kubectl"
chmod 0755 "$tmp_bin"/*
touch "$tmp_bin/.complete"
rm -rf "$BIN_DIR" && mv "$tmp_bin" "$BIN_DIR"
log "binaries in $BIN_DIR"
print_dir "${1:-}"
