#!/usr/bin/env bash
# The browsable API and /api/docs/ in a real browser: Debian's chromium driven
# by playwright-core.
#
#   bash tests/browser/check.sh            (from anywhere; ctest: browser.chromium)
#   USERS_API_BINARY=/path/to/users-api bash tests/browser/check.sh
#
# Installs Debian's chromium when /usr/bin/chromium is missing and the pinned
# playwright-core of package-lock.json (npm ci) when missing or stale; starts
# the binary on a free port with a fresh SQLite database; runs browser.mjs (see
# its header for the scenario). Screenshots go to test-artifacts/browser/
# (git-ignored) and their paths are printed. Prints PASS/FAIL per check and
# "browser: N passed, M failed"; exits 1 on any failure. Missing tools are
# failures, never skips.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/browser"
ARTIFACTS="$ROOT/test-artifacts/browser"
CHROMIUM=/usr/bin/chromium
cd "$ROOT" || exit 1
NAME=browser

fatal() {
  echo "FAIL $1"
  echo "$NAME: 0 passed, 1 failed"
  exit 1
}

# shellcheck source=../lib/tools.sh
source "$ROOT/tests/lib/tools.sh"

# --- tools ---------------------------------------------------------------------------------
ensure_node || fatal "no Node.js >= 20 could be installed (playwright-core)"
if [ ! -x "$CHROMIUM" ]; then
  # (fontconfig, which chromium depends on, brings a font: fonts-dejavu-core.)
  apt_install chromium || fatal "could not install Debian package chromium"
fi
[ -x "$CHROMIUM" ] || fatal "chromium is installed but $CHROMIUM is missing"

work=$(mktemp -d "${TMPDIR:-/tmp}/users-api-browser.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

stamp="$HERE/node_modules/.users-api-lock.sha256"
want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing pinned npm packages (npm ci in tests/browser)"
  if (cd "$HERE" && npm ci --no-audit --no-fund) >"$work/npm-ci.log" 2>&1; then
    echo "$want" >"$stamp"
  else
    cat "$work/npm-ci.log" >&2
    fatal "npm ci in tests/browser failed (log above)"
  fi
fi
echo "tools: node $(node --version), playwright-core $(node -p "require('$HERE/node_modules/playwright-core/package.json').version"), $("$CHROMIUM" --version 2>/dev/null | head -n1)"

# --- the server -----------------------------------------------------------------------------------
BIN=${USERS_API_BINARY:-build/release/users-api}
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || fatal "no users-api binary at $BIN (build it, or set USERS_API_BINARY)"

env -i PATH="$PATH" HOME="$work" PORT=0 HOST=127.0.0.1 THREADS=2 LOG_FORMAT=json SHUTDOWN_DELAY=0 \
  DATABASE_URL="sqlite:///$work/db.sqlite3" "$BIN" serve </dev/null >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(grep -m1 '"msg":"listening"' "$work/server.out" 2>/dev/null | sed -E 's/.*"port":([0-9]+).*/\1/')
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || fatal "users-api exited before listening: $(cat "$work/server.err")"
  sleep 0.1
done
[ -n "$port" ] || fatal "users-api did not log {\"msg\":\"listening\"} within 10 s"
echo "server: $BIN on http://127.0.0.1:$port (pid $server_pid)"

# --- the scenario ------------------------------------------------------------------------------------------
mkdir -p "$ARTIFACTS" || fatal "cannot create $ARTIFACTS"
rm -f "$ARTIFACTS"/*.png
# HOME and XDG dirs inside the temp dir, so Chromium writes nothing elsewhere.
HOME="$work" XDG_CONFIG_HOME="$work/.config" XDG_CACHE_HOME="$work/.cache" TMPDIR="$work" \
  timeout 150 node "$HERE/browser.mjs" --base "http://127.0.0.1:$port" --artifacts "$ARTIFACTS" --chromium "$CHROMIUM"
rc=$?
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL users-api died during the check: $(tail -n5 "$work/server.err")"
  rc=1
fi
[ "$rc" = 124 ] && echo "FAIL browser.mjs did not finish within 150 s" && echo "$NAME: 0 passed, 1 failed"
exit "$rc"
