#!/usr/bin/env bash
# ctest's glue for the checks that run the container image (tests/scripts.cmake).
#
#   ctest_image.sh build         the fixture image.build: builds the image
#                                from the work tree (scripts/image/build.sh),
#                                once per ctest run, as $USERS_API_IMAGE or
#                                localhost/users-api:dev; when USERS_API_IMAGE
#                                names an image that exists, uses it as it is
#   ctest_image.sh run SCRIPT    runs SCRIPT (relative to the repository) with
#                                USERS_API_IMAGE set to that image, so SCRIPT
#                                never builds one itself
#
# Exit 77 (skipped) only when buildah/podman are missing and cannot be
# installed here (neither root nor sudo).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
image=${USERS_API_IMAGE:-localhost/users-api:dev}

can_install_or_has_tools() {
  command -v buildah >/dev/null && command -v podman >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null
}

case "${1:-}" in
  build)
    can_install_or_has_tools || {
      echo "SKIP: buildah/podman are missing and cannot be installed (neither root nor sudo)" >&2
      exit 77
    }
    if [ -n "${USERS_API_IMAGE:-}" ] &&
      podman --storage-driver vfs image exists "$USERS_API_IMAGE" 2>/dev/null; then
      echo "image.build: USERS_API_IMAGE=$USERS_API_IMAGE exists; using it, not building"
      exit 0
    fi
    echo "image.build: building $image from $root with scripts/image/build.sh"
    started=$(date +%s)
    IMAGE=$image "$root/scripts/image/build.sh"
    echo "image.build: $image ready in $(($(date +%s) - started)) s"
    ;;
  run)
    [ $# -eq 2 ] || { echo "usage: $0 run SCRIPT" >&2; exit 2; }
    can_install_or_has_tools || {
      echo "SKIP: buildah/podman are missing and cannot be installed (neither root nor sudo)" >&2
      exit 77
    }
    export USERS_API_IMAGE=$image
    echo "$2: with USERS_API_IMAGE=$USERS_API_IMAGE (from the image.build fixture; no rebuild)"
    exec bash "$root/$2"
    ;;
  *)
    echo "usage: $0 build | run SCRIPT" >&2
    exit 2
    ;;
esac
