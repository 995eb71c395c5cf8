#!/usr/bin/env bash
# Makes sure docker.io/library/postgres:15-bookworm (the image compose.yaml
# names) is in podman's storage: the official image when it is there, else a
# STAND-IN built from Debian's postgresql-15 package (scripts/image/postgres/),
# because no registry but Debian's can be reached on this project's machines.
# tests/image/compose_test.sh runs this step itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/image/lib.sh
source "$root/scripts/image/lib.sh"
image_install_tools
image_setup_env
image_prepare_postgres "$IMAGE_POSTGRES_NAME"
image_log "$IMAGE_POSTGRES_NAME is ready"
