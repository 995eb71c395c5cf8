# shellcheck shell=bash
# Shared by scripts/image/*.sh and tests/image/image_test.sh: buildah and
# podman as they work on a machine with no Docker engine and no registry but
# Debian's (see shared/notes/containers.md), and the stand-in base images.
# Source it; it defines functions and a few variables, and runs nothing.

# Where the stand-in base images and the containers.conf live: outside the
# work tree, kept between builds on the same machine.
IMAGE_CACHE_DIR=${USERS_API_IMAGE_CACHE:-/var/cache/users-api-images}
# Bump when the stand-in recipe below changes: an older stand-in is rebuilt.
IMAGE_STANDIN_RECIPE=1
IMAGE_STANDIN_LABEL=org.users-api.standin-recipe
IMAGE_TOOL_PACKAGES=(buildah podman runc catatonit debootstrap)

image_log() { printf 'image: %s\n' "$*" >&2; }
image_die() {
  printf 'image: error: %s\n' "$*" >&2
  exit 1
}

# image_apt_install PACKAGE...: installs from Debian the packages that are
# missing (as root, or through sudo), and nothing when all are there.
image_apt_install() {
  local missing=() package status
  for package in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || image_die "need root or sudo to install ${missing[*]}"
    sudo_cmd=(sudo)
  fi
  image_log "installing ${missing[*]}"
  local log=/tmp/users-api-image-apt.log
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    "${sudo_cmd[@]}" apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; image_die "apt-get update failed"; }
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || {
      cat "$log" >&2
      image_die "could not install ${missing[*]}"
    }
  fi
}

# Installs buildah, podman, runc, catatonit and debootstrap when one is missing.
image_install_tools() { image_apt_install "${IMAGE_TOOL_PACKAGES[@]}"; }

# The containers.conf that podman needs here (no default ulimits: setting
# them fails in this sandbox), exported as CONTAINERS_CONF.
image_setup_env() {
  mkdir -p "$IMAGE_CACHE_DIR"
  local conf="$IMAGE_CACHE_DIR/containers.conf"
  if [ ! -f "$conf" ]; then
    printf '[containers]\ndefault_ulimits = []\n' >"$conf.tmp.$$"
    mv "$conf.tmp.$$" "$conf"
  fi
  export CONTAINERS_CONF="$conf"
}

# buildah and podman with the flags this machine needs, on every call.
image_buildah() { buildah --storage-driver vfs "$@"; }
image_podman() { podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "$@"; }

# The first URIs: value of the host's Debian sources (deb822 or one-line form).
image_debian_mirror() {
  local mirror=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$mirror" ] || image_die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  printf '%s\n' "$mirror"
}

# Builds a rootfs that stands in for debian:bookworm-slim in directory $1:
# debootstrap minbase, then what the official slim image adds (no docs, apt
# cleans up after itself), with the host's apt sources and settings so apt
# reaches the same mirror the host does.
image_debootstrap_slim() {
  local rootfs=$1 mirror
  mirror=$(image_debian_mirror)
  image_log "debootstrap bookworm from $mirror (about a minute)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -n 30 "$rootfs.log" >&2
    image_die "debootstrap failed (log: $rootfs.log)"
  }
  rm -f "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin
  rm -rf "$rootfs"/var/lib/apt/lists/*
  mkdir -p "$rootfs"/var/lib/apt/lists/partial
  # The slim variant's dpkg filter: no manuals, docs or translations.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/info/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Acquire::GzipIndexes "true";\n' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
  # Same sources as the host (the official image's layout: deb822, with
  # bookworm-updates and security); the host's own apt settings about
  # Release-file dates, needed when its mirror is a dated snapshot.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
    rm -f "$rootfs/etc/apt/sources.list"
  fi
  local valid_until check_date
  valid_until=$(apt-config dump Acquire::Check-Valid-Until 2>/dev/null | awk '{print $2}' | tr -d '";')
  check_date=$(apt-config dump Acquire::Check-Date 2>/dev/null | awk '{print $2}' | tr -d '";')
  {
    [ "$valid_until" = "false" ] && echo 'Acquire::Check-Valid-Until "false";'
    [ "$check_date" = "false" ] && echo 'Acquire::Check-Date "false";'
  } >"$rootfs/etc/apt/apt.conf.d/99host-mirror" || true
  [ -s "$rootfs/etc/apt/apt.conf.d/99host-mirror" ] || rm -f "$rootfs/etc/apt/apt.conf.d/99host-mirror"
  rm -f "$rootfs.log"
}

# Makes sure docker.io/library/debian:bookworm-slim exists in podman's
# storage. A real image of that name (pulled elsewhere) is kept; a stand-in
# from an older recipe is replaced. The stand-in's root file system is kept
# as a tar under $IMAGE_CACHE_DIR, so losing the image storage costs an
# import (seconds), not a debootstrap.
image_prepare_debian_slim() {
  local name=docker.io/library/debian:bookworm-slim
  local tarball="$IMAGE_CACHE_DIR/debian-bookworm-slim.r$IMAGE_STANDIN_RECIPE.tar"
  mkdir -p "$IMAGE_CACHE_DIR"
  exec {lock_fd}>"$IMAGE_CACHE_DIR/.lock"
  flock "$lock_fd"
  if image_podman image exists "$name"; then
    local recipe
    recipe=$(image_podman image inspect --format "{{index .Labels \"$IMAGE_STANDIN_LABEL\"}}" "$name" 2>/dev/null || true)
    if [ "$recipe" = "$IMAGE_STANDIN_RECIPE" ] || [ -z "$recipe" ] || [ "$recipe" = "<no value>" ]; then
      flock -u "$lock_fd"
      return 0
    fi
    image_log "replacing stand-in $name of recipe $recipe"
  fi
  if [ ! -s "$tarball" ]; then
    local work
    work=$(mktemp -d "$IMAGE_CACHE_DIR/debootstrap.XXXXXX")
    image_debootstrap_slim "$work/rootfs"
    tar -C "$work/rootfs" --numeric-owner -cf "$tarball.tmp" . || image_die "could not write $tarball"
    mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
  fi
  image_log "importing $name from $tarball"
  image_podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL $IMAGE_STANDIN_LABEL=$IMAGE_STANDIN_RECIPE" \
    "$tarball" "$name" >/dev/null || image_die "podman import of $tarball failed"
  flock -u "$lock_fd"
}

# The official postgres image compose.yaml names, or a stand-in for it built
# from Debian's postgresql-15 (scripts/image/postgres/: Containerfile and
# entrypoint, honouring the subset of the official image's environment that
# compose.yaml uses). A real image of that name is kept; a stand-in is rebuilt
# when its recipe (the hash of those two files) changed.
IMAGE_POSTGRES_NAME=docker.io/library/postgres:15-bookworm
image_prepare_postgres() {
  local name=${1:-$IMAGE_POSTGRES_NAME}
  local dir recipe current
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/postgres" && pwd)
  recipe=$(cat "$dir/Containerfile" "$dir/docker-entrypoint.sh" | sha256sum | cut -c1-12)
  exec {postgres_lock_fd}>"$IMAGE_CACHE_DIR/.lock-postgres"
  flock "$postgres_lock_fd"
  if image_podman image exists "$name"; then
    current=$(image_podman image inspect --format "{{index .Labels \"$IMAGE_STANDIN_LABEL\"}}" "$name" 2>/dev/null || true)
    if [ -z "$current" ] || [ "$current" = "<no value>" ] || [ "$current" = "$recipe" ]; then
      flock -u "$postgres_lock_fd"
      return 0
    fi
    image_log "replacing stand-in $name of recipe $current"
  fi
  image_prepare_debian_slim
  image_log "building the stand-in $name from Debian's postgresql-15 (a few minutes)"
  local log="$IMAGE_CACHE_DIR/postgres-standin-build.log"
  if ! image_buildah bud --isolation chroot --pull=never --layers --force-rm --format docker \
    --label "$IMAGE_STANDIN_LABEL=$recipe" -t "$name" -f "$dir/Containerfile" "$dir" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    flock -u "$postgres_lock_fd"
    image_die "building the stand-in $name failed (log: $log)"
  fi
  flock -u "$postgres_lock_fd"
}

# Build arguments for the OCI labels, from the git checkout at $1.
image_label_args() {
  local root=$1 version revision created source
  version=$(sed -n 's/^project(users_api VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
  revision=$(git -C "$root" rev-parse --verify -q HEAD 2>/dev/null) || revision=unknown
  if [ "$revision" != unknown ] && ! git -C "$root" diff --quiet HEAD -- 2>/dev/null; then
    revision="$revision-dirty"
  fi
  # The commit's time, not the clock's: rebuilding the same commit gives the
  # same labels (and so reuses the cached layers).
  created=$(git -C "$root" log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null) || created=""
  [ -n "$created" ] || created=$(TZ=UTC date +%Y-%m-%dT%H:%M:%SZ)
  # Without any user:password@ part a remote URL may carry.
  source=$(git -C "$root" remote get-url origin 2>/dev/null | sed "s|//[^@/]*@|//|" || true)
  printf '%s\n' --build-arg "VERSION=${version:-0.0.0}" --build-arg "REVISION=$revision" --build-arg "CREATED=$created"
  [ -z "$source" ] || printf '%s\n' --build-arg "SOURCE=$source"
}

# image_build CONTEXT TAG [extra buildah bud arguments...]
# Builds CONTEXT/Dockerfile with layer caching; the log goes to stderr.
image_build() {
  local context=$1 tag=$2
  shift 2
  local label_args
  mapfile -t label_args < <(TZ=UTC image_label_args "$context")
  # --format docker: the OCI image format has no HEALTHCHECK; --layers: cache
  # every step so a source change reuses the apt layer; --force-rm: a failed
  # build leaves no working container (each a full copy of its stage).
  image_buildah bud --isolation chroot --pull=never --layers --force-rm --format docker \
    "${label_args[@]}" "$@" -t "$tag" -f "$context/Dockerfile" "$context"
}

# The image's size in bytes as podman reports it.
image_size() { image_podman image inspect --format '{{.Size}}' "$1"; }
