#!/usr/bin/env bash
# Installs everything Lookout needs on a fresh Debian bookworm machine, then builds it.
# Idempotent: every step checks first and skips what is already there.
#   scripts/setup.sh            system packages + npm deps + models + build
#   scripts/setup.sh --system   only the system packages
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's multiarch directory: the worker is under /usr/lib/aarch64-linux-gnu on arm64.
debian_multiarch() {
  case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
    amd64 | x86_64) echo x86_64-linux-gnu ;;
    arm64 | aarch64) echo aarch64-linux-gnu ;;
    armhf | armv7l) echo arm-linux-gnueabihf ;;
    i386 | i686) echo i386-linux-gnu ;;
    ppc64el | ppc64le) echo powerpc64le-linux-gnu ;;
    s390x) echo s390x-linux-gnu ;;
    riscv64) echo riscv64-linux-gnu ;;
    *) echo "$(uname -m)-linux-gnu" ;;
  esac
}
MEDIASOUP_WORKER_BIN="${MEDIASOUP_WORKER_BIN:-/usr/lib/$(debian_multiarch)/mediasoup/mediasoup-worker}"
export MEDIASOUP_WORKER_BIN
export ONNXRUNTIME_NODE_INSTALL=skip
# python3-opencv and python3-aiortc: only for the peer in `npm run bench -- baseline` (bench/baseline_aiortc.py).
# The GStreamer RTSP server with x264 (plugins-ugly), for Debian's python3 (python3-gi): the stand-in IP
# camera of the RTSP tests and the media bench (packages/testkit/src/media/rtsp_camera.py).
# podman, buildah, debootstrap, runc and the CNI dnsname plugin (service names resolve): compose.yaml run for real by docker-compose against a root podman,
# base images made locally (npm run test:compose; scripts/deploy/podman-env.sh).
# coturn: the TURN server the relay-only browser test starts on 127.0.0.1 (test/integration/web-turn-relay.test.ts);
# the package's own system service is disabled right after install (its default config is an open relay).
APT_PACKAGES=(nats-server ffmpeg chromium docker-compose python3-opencv python3-aiortc
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  podman buildah debootstrap runc golang-github-containernetworking-plugin-dnsname catatonit coturn)

log() { printf '[setup] %s\n' "$*"; }

manual_instructions() {
  cat <<MSG
[setup] $1
[setup] Lookout needs, on Debian 12 (bookworm) or equivalent:
  - nats-server (>= 2.9, with JetStream), ffmpeg (>= 5), chromium and docker-compose (tests only)
  - python3-opencv (4.6) and python3-aiortc (1.4): the peer of the baseline benchmark only
  - python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-tools and gstreamer1.0-plugins-{base,good,ugly}:
      the GStreamer RTSP server that stands in for an IP camera (tests and the media bench only)
  - podman, buildah, debootstrap, runc and golang-github-containernetworking-plugin-dnsname: the compose test (npm run test:compose) only
  - coturn: the TURN relay test only (its system service disabled: the test starts its own)
  - mediasoup-worker 3.8.4: Debian experimental's package 'mediasoup-worker', expected at
      $MEDIASOUP_WORKER_BIN (set MEDIASOUP_WORKER_BIN if it is elsewhere).
      Add the 'experimental' suite (component main) of your Debian mirror, pin it with
        Package: *
        Pin: release a=experimental
        Pin-Priority: 1
      then: apt-get update && apt-get install -y mediasoup-worker/experimental
  - Node.js 20 and npm
Then, as your user:
  MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN ONNXRUNTIME_NODE_INSTALL=skip npm ci
  npm run models && npm run build
MSG
  exit 1
}

is_bookworm() {
  [ -r /etc/os-release ] && . /etc/os-release && [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ]
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The experimental suite is added on the mirror the machine already uses, with the same keyring,
# and pinned at priority 1 so only packages we name explicitly ever come from it.
add_experimental_suite() {
  local src=/etc/apt/sources.list.d/lookout-experimental.sources
  [ -f "$src" ] && return 0
  local uri="" keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    local k; k=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    [ -n "$k" ] && keyring="$k"
  elif [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 ~ /bookworm/ && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || uri="http://deb.debian.org/debian"
  log "adding Debian experimental ($uri) pinned at priority 1, for mediasoup-worker only"
  cat >"$src" <<SRC
Types: deb
URIs: $uri
Suites: experimental
Components: main
Signed-By: $keyring
SRC
  cat >/etc/apt/preferences.d/lookout-experimental <<PIN
Package: *
Pin: release a=experimental
Pin-Priority: 1
PIN
}

install_system_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do have_pkg "$p" || missing+=("$p"); done
  local need_worker=0
  [ -x "$MEDIASOUP_WORKER_BIN" ] || need_worker=1
  if [ ${#missing[@]} -eq 0 ] && [ $need_worker -eq 0 ]; then
    log "system packages present"
    return 0
  fi
  local what="${missing[*]}"
  [ $need_worker -eq 1 ] && what="$what mediasoup-worker (expected at $MEDIASOUP_WORKER_BIN)"
  [ "$(id -u)" -eq 0 ] || manual_instructions "not root: cannot install:$what"
  is_bookworm || manual_instructions "not Debian bookworm: cannot install:$what"
  export DEBIAN_FRONTEND=noninteractive
  [ $need_worker -eq 1 ] && add_experimental_suite
  log "apt-get update"
  apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Tests start their own coturn; never leave Debian's unauthenticated one listening on 3478.
    if [[ " ${missing[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null; then
      systemctl disable --now coturn.service >/dev/null 2>&1 || true
    fi
  fi
  if [ $need_worker -eq 1 ]; then
    log "installing mediasoup-worker from experimental"
    apt-get install -y -qq --no-install-recommends mediasoup-worker/experimental >/dev/null
  fi
  if [ ! -x "$MEDIASOUP_WORKER_BIN" ]; then
    local found
    found=$(dpkg -L mediasoup-worker 2>/dev/null | grep '/mediasoup-worker$' | head -n 1 || true)
    log "mediasoup-worker not found at $MEDIASOUP_WORKER_BIN after install"
    [ -n "$found" ] && log "the package installed it at $found: export MEDIASOUP_WORKER_BIN=$found and run again"
    exit 1
  fi
}

install_node_deps() {
  if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    log "npm deps up to date"
  else
    log "npm ci"
    npm ci --no-audit --no-fund
  fi
}

install_system_packages
[ "${1:-}" = "--system" ] && exit 0
install_node_deps
log "models"
npm run -s models
log "deploy validation tools"
node scripts/validate-deploy.mjs --fetch-tools
log "build"
npm run -s build
log "done"
