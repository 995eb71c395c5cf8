#!/usr/bin/env bash
# Builds the container image from this checkout with buildah, as
# localhost/users-api:dev (or $IMAGE). Installs buildah/podman/runc/catatonit/
# debootstrap when missing and prepares the base image the Dockerfile names
# (a stand-in made from Debian's packages, cached under
# /var/cache/users-api-images) when it is not in the image storage.
# Usage: scripts/image/build.sh [extra buildah bud arguments...]
# Env: IMAGE (tag), USERS_API_IMAGE_JOBS (compile jobs inside the build),
#      USERS_API_IMAGE_CACHE (cache directory).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/image/lib.sh
source "$root/scripts/image/lib.sh"

image=${IMAGE:-localhost/users-api:dev}
extra=()
[ -n "${USERS_API_IMAGE_JOBS:-}" ] && extra+=(--build-arg "BUILD_JOBS=$USERS_API_IMAGE_JOBS")

image_install_tools
image_setup_env
image_prepare_debian_slim

image_log "building $image from $root"
start=$(date +%s)
image_build "$root" "$image" "${extra[@]}" "$@"
size=$(image_size "$image")
image_log "built $image in $(($(date +%s) - start)) s: $size bytes ($(awk -v b="$size" 'BEGIN {printf "%.1f", b / 1e6}') MB)"
