#!/usr/bin/env bash
# A root podman that docker-compose 1.29 can drive, on a machine with no Docker engine and
# no reachable container registry (issue 19). Used by the compose test (npm run test:compose)
# and usable by hand:
#
#   eval "$(bash scripts/deploy/podman-env.sh up)"   # prepare, start the API socket, print the env
#   docker-compose build && docker-compose up -d     # ...as with Docker
#   bash scripts/deploy/podman-env.sh down           # stop the socket and the healthcheck loop
#
# Subcommands:
#   conf     write containers.conf + registries.conf (under $LOOKOUT_PODMAN_DIR)
#   images   the local base images, each made only if missing:
#              localhost/lookout/bookworm-minbase   debootstrap --variant=minbase bookworm
#                                                   from the mirror apt already uses
#              docker.io/library/node:20-bookworm-slim   that + this machine's node and npm,
#                                                   what deploy/docker/Dockerfile's FROM names
#              docker.io/library/nats:2.10-alpine   that + this machine's nats-server + wget,
#                                                   what compose.yaml's nats services name
#   up       conf + images + `podman system service` on a unix socket + a healthcheck loop;
#            prints `export CONTAINERS_CONF=… DOCKER_HOST=…` for eval
#   env      print the exports only
#   down     stop the service and the loop (containers are left to `docker-compose down`)
#
# Why each piece (facts from issue 19, podman 4.3.1 on Debian bookworm):
#   - crun cannot set RLIMIT_NOFILE here and podman's default ulimits exceed ours: runc, and
#     explicit default_ulimits.
#   - No registry: base images are built locally. Names are the fully qualified ones the
#     unmodified Dockerfile and compose.yaml resolve to, so nothing is pulled.
#   - npm ci inside the build goes through this machine's TLS-intercepting proxy: the node
#     base image carries this machine's CA bundle and NODE_EXTRA_CA_CERTS pointing at it (a
#     real node:20-bookworm-slim needs neither, so the Dockerfile stays as users have it).
#   - podman runs healthchecks from systemd timers, which do not exist here: a loop runs
#     `podman healthcheck run` for every container that has one, so compose's
#     `condition: service_healthy` resolves.
set -euo pipefail

DIR="${LOOKOUT_PODMAN_DIR:-/var/tmp/lookout-podman}"
SOCK="$DIR/podman.sock"
export CONTAINERS_CONF="$DIR/containers.conf"
export CONTAINERS_REGISTRIES_CONF="$DIR/registries.conf"
HEALTH_INTERVAL="${LOOKOUT_HEALTH_INTERVAL:-2}"
BASE_IMAGE=localhost/lookout/bookworm-minbase:latest
NODE_IMAGE=docker.io/library/node:20-bookworm-slim
NATS_IMAGE=docker.io/library/nats:2.10-alpine

log() { printf '[podman-env] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need() {
  local missing=()
  for b in podman debootstrap runc; do command -v "$b" >/dev/null || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (bash scripts/setup.sh --system installs them)"
  [ "$(id -u)" -eq 0 ] || die "needs root (root podman; rootless podman needs subuids this machine lacks)"
}

write_conf() {
  mkdir -p "$DIR"
  cat >"$CONTAINERS_CONF" <<'CONF'
# Written by scripts/deploy/podman-env.sh
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  # apt inside image builds: this machine's own Acquire::Check-* settings (a mirror serving a
  # dated snapshot has Release files that look expired), mounted into every RUN by
  # build-images.sh, never written into an image.
  { echo "// This machine's apt Acquire::Check-* settings, for RUN steps of image builds (podman-env.sh)"
    apt-config dump 2>/dev/null | grep -E '^Acquire::(Check-Valid-Until|Check-Date) ' || true; } >"$DIR/apt-host.conf"
  cat >"$CONTAINERS_REGISTRIES_CONF" <<'CONF'
# Written by scripts/deploy/podman-env.sh: short names (node:20-bookworm-slim, nats:2.10-alpine)
# are Docker Hub's, as with Docker; found locally, they are never pulled.
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
CONF
}

# The Debian mirror apt already uses (deb822 .sources first, then sources.list).
apt_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1=="deb" && $0 ~ /bookworm/ && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' | head -n 1)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

have_image() { podman image exists "$1"; }

make_base() {
  have_image "$BASE_IMAGE" && return 0
  local mirror rootfs t0
  mirror=$(apt_mirror)
  rootfs=$(mktemp -d "$DIR/rootfs.XXXXXX")
  t0=$(date +%s)
  log "debootstrap --variant=minbase bookworm from $mirror (libstdc++6 for node)"
  debootstrap --variant=minbase --include=libstdc++6 bookworm "$rootfs" "$mirror" >"$DIR/debootstrap.log" 2>&1 ||
    { tail -n 20 "$DIR/debootstrap.log" >&2; rm -rf "$rootfs"; die "debootstrap failed"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "$BASE_IMAGE made in $(($(date +%s) - t0)) s"
}

make_node() {
  have_image "$NODE_IMAGE" && return 0
  local ctx node npm_dir ca
  node=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  ca="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  [ -f "$ca" ] || ca=/etc/ssl/certs/ca-certificates.crt
  ctx=$(mktemp -d "$DIR/node-ctx.XXXXXX")
  cp "$node" "$ctx/node"
  cp -a "$npm_dir" "$ctx/npm"
  cp "$ca" "$ctx/host-ca.crt"
  cat >"$ctx/Containerfile" <<EOF
FROM $BASE_IMAGE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca.crt /etc/ssl/certs/lookout-host-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
ENV NODE_VERSION=$(node --version | tr -d v) NODE_EXTRA_CA_CERTS=/etc/ssl/certs/lookout-host-ca.crt
CMD ["node"]
EOF
  log "$NODE_IMAGE from $BASE_IMAGE + $node ($(node --version)) + npm $(npm --version 2>/dev/null)"
  podman build -q --network host -t "$NODE_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
}

make_nats() {
  have_image "$NATS_IMAGE" && return 0
  local ctx
  ctx=$(mktemp -d "$DIR/nats-ctx.XXXXXX")
  cp "$(readlink -f "$(command -v nats-server)")" "$ctx/nats-server"
  cat >"$ctx/Containerfile" <<EOF
FROM $BASE_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wget >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
COPY nats-server /usr/local/bin/nats-server
EXPOSE 4222 6222 8222
ENTRYPOINT ["nats-server"]
EOF
  log "$NATS_IMAGE from $BASE_IMAGE + $(nats-server --version) + wget"
  podman build -q --network host -t "$NATS_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
}

service_running() { [ -f "$DIR/service.pid" ] && kill -0 "$(cat "$DIR/service.pid")" 2>/dev/null; }
loop_running() { [ -f "$DIR/health.pid" ] && kill -0 "$(cat "$DIR/health.pid")" 2>/dev/null; }

start_service() {
  if ! service_running; then
    rm -f "$SOCK"
    setsid podman system service --time=0 "unix://$SOCK" >"$DIR/service.log" 2>&1 </dev/null &
    echo $! >"$DIR/service.pid"
    for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
    [ -S "$SOCK" ] || die "podman system service did not create $SOCK (see $DIR/service.log)"
    log "podman system service on $SOCK (pid $(cat "$DIR/service.pid"))"
  fi
  if ! loop_running; then
    # Runs `podman healthcheck run` for every running container that defines a healthcheck.
    setsid bash -c '
      while :; do
        for id in $(podman ps -q --filter health=starting --filter health=healthy --filter health=unhealthy 2>/dev/null); do
          podman healthcheck run "$id" >/dev/null 2>&1 &
        done
        wait
        sleep "$0"
      done' "$HEALTH_INTERVAL" >"$DIR/health.log" 2>&1 </dev/null &
    echo $! >"$DIR/health.pid"
    log "healthcheck loop every ${HEALTH_INTERVAL}s (pid $(cat "$DIR/health.pid"))"
  fi
}

stop_pidfile() {
  local f="$DIR/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  # Started with setsid: the pid is its own process group (the loop's podman children too).
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  rm -f "$f"
}

print_env() {
  printf 'export CONTAINERS_CONF=%q\n' "$CONTAINERS_CONF"
  printf 'export CONTAINERS_REGISTRIES_CONF=%q\n' "$CONTAINERS_REGISTRIES_CONF"
  printf 'export DOCKER_HOST=%q\n' "unix://$SOCK"
  printf 'export LOOKOUT_APT_HOST_CONF=%q\n' "$DIR/apt-host.conf"
}

case "${1:-up}" in
  conf) need; write_conf ;;
  images) need; write_conf; make_base; make_node; make_nats ;;
  up) need; write_conf; make_base; make_node; make_nats; start_service; print_env ;;
  env) print_env ;;
  down) stop_pidfile health; stop_pidfile service; rm -f "$SOCK"; log "stopped" ;;
  *) die "usage: $0 conf|images|up|env|down" ;;
esac
