#!/usr/bin/env bash
# Builds the images that run Wharf on Kubernetes, locally and without pulling any image:
#
#   wharf-deploy/base:<suite>-<key>   Debian made with debootstrap (--variant=minbase) from the
#                                      machine's own apt mirror, imported with `docker import`
#   wharf-deploy/runtime:<key>        the base + Debian's nginx (with the stream and Lua modules
#                                      lb-manager drives), git, etcd, docker-registry, the Docker
#                                      CLI, and the machine's Node (>= 20.19; see below)
#   wharf/services:<key>              the runtime + the built services and their production
#                                      node_modules; each Deployment picks its service by command
#
# Every tag is a content key (what the image is made of), so a second run with nothing changed
# only hashes files and finds the three tags (about a second), a source change rebuilds only the
# last image, and a change of the Debian recipe only the first two. Needs `npm run build` first.
#
# Usage: deploy/images/build.sh [--print-ref]   (--print-ref: the services image's ref on stdout)
# Env:   WHARF_CACHE_DIR (default /var/cache/wharf): the production node_modules, by lock hash.
#        WHARF_DEPLOY_IMAGE_REPOSITORY (default wharf/services).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
DOCKER=/usr/bin/docker # Debian's 20.10 CLI: BuildKit built in (a newer CLI on PATH wants buildx)
REPOSITORY="${WHARF_DEPLOY_IMAGE_REPOSITORY:-wharf/services}"
CACHE="${WHARF_CACHE_DIR:-/var/cache/wharf}/deploy-images"
PRINT_REF=0
[ "${1:-}" = "--print-ref" ] && PRINT_REF=1

log() { echo "wharf images: $*" >&2; }
die() { log "$*"; exit 1; }
key_of() { sha256sum | cut -c1-12; }
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

[ -x "$DOCKER" ] || die "$DOCKER is missing (Debian's docker.io; scripts/ensure-deps.sh installs it)"
[ -x /usr/sbin/debootstrap ] || die "debootstrap is missing (scripts/ensure-deps.sh installs it)"
for s in mq api-gateway builder app-manager lb-manager event-log node-manager; do
  [ -f "services/$s/dist/main.js" ] || die "services/$s/dist/main.js is missing: run npm run build first"
done
[ -f console/server/dist/main.js ] || die "console/server/dist/main.js is missing: run npm run build first"

mkdir -p "$CACHE"
# One maker at a time per machine (the test and a person may run this together): the second waits.
exec 9>"$CACHE/.lock"
flock 9

# --- the machine's Debian release and mirror, from its deb822 apt sources (never a written-in host) ---
shopt -s nullglob
SOURCES_FILES=(/etc/apt/sources.list.d/*.sources)
[ ${#SOURCES_FILES[@]} -gt 0 ] || die "no /etc/apt/sources.list.d/*.sources: cannot tell the Debian mirror for debootstrap"
# stanzas: one line per enabled `Types: deb` stanza: "<uris>|<suites>|<components>"
stanzas() {
  awk 'BEGIN { RS=""; FS="\n" }
    {
      types=""; uris=""; suites=""; comps=""; enabled="yes"
      for (i = 1; i <= NF; i++) {
        line = $i; if (line ~ /^#/) continue
        if (match(line, /^[A-Za-z-]+:/)) { k = tolower(substr(line, 1, RLENGTH - 1)); v = substr(line, RLENGTH + 1); gsub(/^[ \t]+|[ \t]+$/, "", v)
          if (k == "types") types = v; else if (k == "uris") uris = v; else if (k == "suites") suites = v; else if (k == "components") comps = v; else if (k == "enabled") enabled = tolower(v) }
      }
      if (enabled != "no" && (" " types " ") ~ / deb / && uris != "" && suites != "") print uris "|" suites "|" comps
    }' "${SOURCES_FILES[@]}"
}
SUITE="${WHARF_DEPLOY_SUITE:-$(stanzas | awk -F'|' '{ n = split($2, s, " "); for (i = 1; i <= n; i++) if (s[i] ~ /^[a-z]+$/) { print s[i]; exit } }')}"
[ -n "$SUITE" ] || die "no release suite (like bookworm) in ${SOURCES_FILES[*]}"
MIRROR="$(stanzas | awk -F'|' -v suite="$SUITE" '{ n = split($2, s, " "); for (i = 1; i <= n; i++) if (s[i] == suite) { split($1, u, " "); for (j in u) if (u[j] ~ /^https?:\/\//) { print u[j]; exit } } }')"
[ -n "$MIRROR" ] || die "no http(s) mirror serving $SUITE in ${SOURCES_FILES[*]}"
# The same sources inside the image (this release's suites only), so apt in the runtime build uses them.
IMAGE_SOURCES="$(stanzas | awk -F'|' -v suite="$SUITE" '{
    n = split($2, s, " "); keep = ""
    for (i = 1; i <= n; i++) if (s[i] == suite || index(s[i], suite "-") == 1) keep = keep (keep ? " " : "") s[i]
    if (keep != "") printf "%sTypes: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", (NR > 1 ? "\n" : ""), $1, keep, ($3 ? $3 : "main")
  }')"

# --- 1. the Debian base ---
BASE_RECIPE="debootstrap --variant=minbase $SUITE; sources: $IMAGE_SOURCES; recipe 1"
BASE="wharf-deploy/base:$SUITE-$(printf '%s' "$BASE_RECIPE" | key_of)"
if have_image "$BASE"; then
  log "base $BASE (cached)"
else
  log "making $BASE with debootstrap from $MIRROR (once; about a minute)"
  work="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  cleanup_rootfs() {
    # debootstrap mounts /proc and may leave it when stopped midway: never delete through a mount.
    awk -v d="$work" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$work"
  }
  trap cleanup_rootfs EXIT
  /usr/sbin/debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  rm -f "$work/rootfs/etc/apt/sources.list"
  printf '%s' "$IMAGE_SOURCES" >"$work/rootfs/etc/apt/sources.list.d/debian.sources"
  printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\n' >"$work/rootfs/etc/dpkg/dpkg.cfg.d/wharf-nodoc"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Retries "3";\n' >"$work/rootfs/etc/apt/apt.conf.d/90wharf"
  rm -rf "$work/rootfs/var/cache/apt/archives"/*.deb "$work/rootfs/var/lib/apt/lists"/*_*
  tar --numeric-owner -C "$work/rootfs" -c . | "$DOCKER" import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$BASE" >/dev/null
  cleanup_rootfs
  trap - EXIT
  log "base $BASE made"
fi

# --- 2. the runtime: Debian's packages on the base, and the machine's Node ---
# Node: the project needs >= 20.19 (package.json engines; @kubernetes/client-node 1.x is an ES
# module the CommonJS services load with require(), which Node 18 cannot do), and Debian bookworm's
# nodejs is 18.19: so the image carries the Node binary this machine runs the project with (it
# needs only glibc and libstdc++ from Debian). The Docker CLI comes out of Debian's docker.io
# package (the builder runs BuildKit through it against the node's Engine), without the daemon.
NODE_BIN="$(readlink -f "$(command -v node)")"
NODE_VERSION="$("$NODE_BIN" --version)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  die "node $NODE_VERSION is older than the project's engines (>= 20.19)"
NODE_SHA="$(sha256sum "$NODE_BIN" | cut -c1-16)"
RUNTIME_PACKAGES="ca-certificates libstdc++6 nginx libnginx-mod-stream libnginx-mod-http-lua lua-cjson git etcd-server etcd-client docker-registry"
RUNTIME_DOCKERFILE="FROM $BASE
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $RUNTIME_PACKAGES >/dev/null \\
    && cd /tmp && apt-get download -qq docker.io && dpkg-deb --fsys-tarfile docker.io_*.deb | tar -x ./usr/bin/docker && mv usr/bin/docker /usr/bin/docker && rm -rf /tmp/* \\
    && rm -f /etc/nginx/sites-enabled/default \\
    && groupadd --gid 10001 wharf && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin wharf
# node $NODE_VERSION sha256 $NODE_SHA
COPY node /usr/local/bin/node
"
RUNTIME="wharf-deploy/runtime:$(printf '%s' "$RUNTIME_DOCKERFILE" | key_of)"
if have_image "$RUNTIME"; then
  log "runtime $RUNTIME (cached)"
else
  log "building $RUNTIME ($RUNTIME_PACKAGES from $MIRROR; node $NODE_VERSION)"
  ctx="$(mktemp -d)"
  printf '%s' "$RUNTIME_DOCKERFILE" >"$ctx/Dockerfile"
  cp "$NODE_BIN" "$ctx/node"
  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$RUNTIME" "$ctx" >/dev/null || { rm -rf "$ctx"; die "building $RUNTIME failed"; }
  rm -rf "$ctx"
  log "runtime $RUNTIME built"
fi

# --- 3. the services: built output + production node_modules ---
WORKSPACES=(libs/* services/* console/*)
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# What ships of each workspace: everything but sources, tests and build bookkeeping
# (dist/, package.json, and lb-manager's lua/ router beside src/). libs/testing is the tests'
# harness (no service depends on it): only its package.json, so a harness change keeps the tag.
tar -C "$ROOT" -c --exclude=node_modules --exclude=libs/testing/dist --exclude=src --exclude=test --exclude='*.tsbuildinfo' --exclude='tsconfig*.json' \
  --exclude=project.json --exclude='*.spec.*' package.json "${WORKSPACES[@]}" | tar -C "$stage" -x
mkdir -p "$stage/app" && mv "$stage/package.json" "$stage/libs" "$stage/services" "$stage/console" "$stage/app/"

# Production dependencies: installed once per lock (and package.json set) from npm's local cache.
DEPS_KEY="$( (cat package-lock.json; for w in "${WORKSPACES[@]}"; do [ -f "$w/package.json" ] && { echo "$w"; cat "$w/package.json"; }; done) | key_of)"
SERVICES_DOCKERFILE="FROM $RUNTIME
WORKDIR /opt/wharf
COPY deps/ /opt/wharf/
COPY app/ /opt/wharf/
ENV NODE_ENV=production
USER 10001:10001
"
printf '%s' "$SERVICES_DOCKERFILE" >"$stage/Dockerfile"
KEY="$( (cd "$stage/app" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "$DEPS_KEY"; cat "$stage/Dockerfile") | key_of)"
REF="$REPOSITORY:$KEY"
if have_image "$REF"; then
  log "services $REF (cached)"
else
  log "building $REF"
  DEPS="$CACHE/deps-$DEPS_KEY"
  if [ ! -f "$DEPS/.complete" ]; then
    log "installing production node_modules ($DEPS_KEY)"
    rm -rf "$DEPS" && mkdir -p "$DEPS"
    cp package.json package-lock.json "$DEPS/"
    for w in "${WORKSPACES[@]}"; do [ -f "$w/package.json" ] && mkdir -p "$DEPS/$w" && cp "$w/package.json" "$DEPS/$w/"; done
    # --ignore-scripts: nothing on the services' path needs a native build (ssh2 falls back to JS).
    (cd "$DEPS" && npm install --omit=dev --no-save --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null) ||
      die "npm install --omit=dev failed in $DEPS"
    rm -f "$DEPS/package-lock.json"
    touch "$DEPS/.complete"
  fi
  mkdir -p "$stage/deps"
  cp -a "$DEPS/node_modules" "$stage/deps/"

  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$REF" "$stage" >/dev/null || die "building $REF failed"
  log "services $REF built"
fi
[ "$PRINT_REF" = 1 ] && echo "$REF"
exit 0
