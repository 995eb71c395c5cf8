#!/usr/bin/env bash
# Makes sure the base image the Dockerfile names (debian:bookworm-slim) is in
# podman's storage: a stand-in built from Debian's packages when it cannot be
# pulled, cached under /var/cache/users-api-images (USERS_API_IMAGE_CACHE).
# scripts/image/build.sh runs this step itself; on its own it is useful
# before a build by other means (podman build, podman-compose build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/image/lib.sh
source "$root/scripts/image/lib.sh"
image_install_tools
image_setup_env
image_prepare_debian_slim
image_log "docker.io/library/debian:bookworm-slim is ready; export CONTAINERS_CONF=$CONTAINERS_CONF"
