#!/usr/bin/env bash
# Builds the four service images from deploy/docker/Dockerfile, unmodified, with the podman
# prepared by podman-env.sh, tagged as compose.yaml names them (lookout/<service>:${LOOKOUT_TAG:-local}).
# Prints one line per target: "<service> <seconds> s <size>". Cold = nothing cached: run
# `podman system reset -f` (or on a fresh machine) first; podman-env.sh images then
# makes the base images again.
#   bash scripts/deploy/build-images.sh [service...]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/deploy/podman-env.sh conf
eval "$(bash scripts/deploy/podman-env.sh env)"
TAG="${LOOKOUT_TAG:-local}"
SERVICES=("$@")
[ ${#SERVICES[@]} -gt 0 ] || SERVICES=(sfu detector reid gateway)
for s in "${SERVICES[@]}"; do
  t0=$(date +%s)
  # The machine's apt settings reach the Dockerfile's apt-get through a build volume, not the
  # image (podman-env.sh); the Dockerfile and the layers' cache keys stay as they are.
  podman build --layers -v "$LOOKOUT_APT_HOST_CONF:/etc/apt/apt.conf.d/99lookout-host:ro" -f deploy/docker/Dockerfile --target "$s" -t "localhost/lookout/$s:$TAG" -t "docker.io/lookout/$s:$TAG" . >&2
  size=$(podman image inspect --format '{{.Size}}' "localhost/lookout/$s:$TAG")
  printf '%s %s s %s MB\n' "$s" "$(($(date +%s) - t0))" "$((size / 1000000))"
done
