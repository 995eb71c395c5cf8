#!/usr/bin/env bash
# The browsable API and /api/docs/ in a real browser: Debian's chromium driven
# by playwright-core.
#
#   bash tests/browser/check.sh            (from anywhere; ctest: browser.chromium)
#   bash tests/browser/check.sh /path/to/users-api
#   USERS_API_BINARY=/path/to/users-api bash tests/browser/check.sh
#
# Installs Debian's chromium when /usr/bin/chromium is missing and the pinned
# playwright-core of package-lock.json (npm ci) when missing or stale; starts
# the binary twice on free ports, each with a fresh SQLite database: once with
# the default settings (the open API) and once with AUTH_MODE=token and an
# API_TOKENS_FILE holding the SHA-256 of a token drawn at random here; runs
# browser.mjs against both (see its header for the scenarios; the token
# reaches it in USERS_API_BROWSER_TOKEN, not on its command line). Afterwards
# the token must appear in neither server's stdout nor stderr. Screenshots go
# to test-artifacts/browser/ (git-ignored) and their paths are printed. Prints
# PASS/FAIL per check and "browser: N passed, M failed"; exits 1 on any
# failure. Missing tools are failures, never skips.

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
server_pids=()
stop_server() { # PID
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do stop_server "$pid"; done
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

# --- the servers ---------------------------------------------------------------------------------
BIN=${1:-${USERS_API_BINARY:-build/release/users-api}}
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || fatal "no users-api binary at $BIN (build it, or set USERS_API_BINARY)"

# start_server NAME [VAR=VALUE...]: the binary on a free port with a fresh
# database in $work/NAME.sqlite3, its output in $work/NAME.out and .err; sets
# server_port and server_pid.
server_port=
server_pid=
start_server() {
  local name=$1
  shift
  env -i PATH="$PATH" HOME="$work" PORT=0 OPS_PORT=0 HOST=127.0.0.1 THREADS=2 LOG_FORMAT=json SHUTDOWN_DELAY=0 \
    DATABASE_URL="sqlite:///$work/$name.sqlite3" "$@" "$BIN" serve </dev/null >"$work/$name.out" 2>"$work/$name.err" &
  server_pid=$!
  server_pids+=("$server_pid")
  server_port=
  for _ in $(seq 1 100); do
    server_port=$(grep -m1 '"msg":"listening"' "$work/$name.out" 2>/dev/null | sed -E 's/.*"port":([0-9]+).*/\1/')
    [ -n "$server_port" ] && break
    kill -0 "$server_pid" 2>/dev/null || fatal "users-api ($name) exited before listening: $(cat "$work/$name.err")"
    sleep 0.1
  done
  [ -n "$server_port" ] || fatal "users-api ($name) did not log {\"msg\":\"listening\"} within 10 s"
  echo "server ($name): $BIN on http://127.0.0.1:$server_port (pid $server_pid)"
}

start_server open
port=$server_port
open_pid=$server_pid

# The token: 32 random bytes as hex, drawn afresh on every run; the file keeps
# only its SHA-256 (of the token's characters, no newline).
token=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
[ "${#token}" = 64 ] || fatal "could not draw a random token from /dev/urandom"
token_sha256=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
printf '# the browser check'"'"'s client (tests/browser/check.sh)\nbrowser users:read,users:write %s\n' \
  "$token_sha256" >"$work/tokens.txt"
start_server auth AUTH_MODE=token API_TOKENS_FILE="$work/tokens.txt"
auth_port=$server_port
auth_pid=$server_pid

# --- the scenarios ------------------------------------------------------------------------------------------
mkdir -p "$ARTIFACTS" || fatal "cannot create $ARTIFACTS"
rm -f "$ARTIFACTS"/*.png
# browser.mjs's own total is held back: the checks below add to it.
passed=0
failed=0
# HOME and XDG dirs inside the temp dir, so Chromium writes nothing elsewhere.
while IFS= read -r line; do
  if [[ $line =~ ^browser:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    printf '%s\n' "$line"
  fi
done < <(
  HOME="$work" XDG_CONFIG_HOME="$work/.config" XDG_CACHE_HOME="$work/.cache" TMPDIR="$work" \
    USERS_API_BROWSER_TOKEN="$token" \
    timeout 210 node "$HERE/browser.mjs" --base "http://127.0.0.1:$port" --auth-base "http://127.0.0.1:$auth_port" \
    --artifacts "$ARTIFACTS" --chromium "$CHROMIUM" 2>&1
  echo "$?" >"$work/node.rc"
)
rc=$(cat "$work/node.rc" 2>/dev/null || echo 1)
if [ "$rc" = 124 ]; then
  echo "FAIL browser.mjs did not finish within 210 s"
  failed=$((failed + 1))
elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
  echo "FAIL browser.mjs exited with $rc without reporting a failed check"
  failed=$((failed + 1))
fi
for server in open:"$open_pid" auth:"$auth_pid"; do
  if ! kill -0 "${server#*:}" 2>/dev/null; then
    echo "FAIL users-api (${server%%:*}) died during the check: $(tail -n5 "$work/${server%%:*}.err")"
    failed=$((failed + 1))
  fi
done

# --- the token is in no log ----------------------------------------------------------------------------------
# After the servers have stopped, so that all they would write is written.
for pid in "${server_pids[@]}"; do stop_server "$pid"; done
authorized=$(grep -c '"principal":"browser"' "$work/auth.out" "$work/auth.err" | awk -F: '{ n += $NF } END { print n + 0 }')
if [ "$authorized" = 0 ]; then
  # Without a request made with the token the search below would prove nothing.
  echo "FAIL the AUTH_MODE=token server logged no request of the principal \"browser\""
  failed=$((failed + 1))
elif grep -lF -- "$token" "$work/open.out" "$work/open.err" "$work/auth.out" "$work/auth.err" >"$work/leaks" 2>/dev/null; then
  echo "FAIL the token appears in the server log: $(tr '\n' ' ' <"$work/leaks")"
  failed=$((failed + 1))
else
  echo "PASS the token is in neither server's stdout or stderr (the log has $authorized request(s) of the principal \"browser\")"
  passed=$((passed + 1))
fi
echo "$NAME: $passed passed, $failed failed"
[ "$failed" = 0 ]
