#!/usr/bin/env bash
# The OpenAPI document against the OpenAPI 3.1 schema and against the real server.
#
#   bash tests/openapi/check.sh            (from anywhere; ctest: openapi.document)
#   USERS_API_BINARY=/path/to/users-api bash tests/openapi/check.sh
#
# Installs the pinned npm packages of package-lock.json (npm ci) when missing or
# stale, starts the binary on a free port with a fresh SQLite database (and a
# second one with ETAGS=on, for the conditional requests), and runs
# check.mjs (see its header for the checks). Prints PASS/FAIL per check and
# "openapi: N passed, M failed"; exits 1 on any failure. Missing tools are
# failures, never skips.
#
# Validator choice: @apidevtools/swagger-parser (validate() applies the OAS 3.1
# JSON schema in the pinned 12.1.0; check.mjs proves it with a self-test) plus
# Ajv for the Schema Objects. @redocly/cli lint is not used: it is ~100 MB of
# dependencies for rules that are mostly style; no rule is disabled.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/openapi"
cd "$ROOT" || exit 1
NAME=openapi

fatal() {
  echo "FAIL $1"
  echo "$NAME: 0 passed, 1 failed"
  exit 1
}

# shellcheck source=../lib/tools.sh
source "$ROOT/tests/lib/tools.sh"

# --- tools ---------------------------------------------------------------------------------
ensure_node || fatal "no Node.js >= 20 could be installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/users-api-openapi.XXXXXX")
server_pid=
etags_pid=
stop_server() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
}
cleanup() {
  stop_server "$server_pid"
  stop_server "$etags_pid"
  rm -rf "$work"
}
trap cleanup EXIT

stamp="$HERE/node_modules/.users-api-lock.sha256"
want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing pinned npm packages (npm ci in tests/openapi)"
  if (cd "$HERE" && npm ci --no-audit --no-fund) >"$work/npm-ci.log" 2>&1; then
    echo "$want" >"$stamp"
  else
    cat "$work/npm-ci.log" >&2
    fatal "npm ci in tests/openapi failed (log above)"
  fi
fi
echo "tools: node $(node --version), @apidevtools/swagger-parser $(node -p "require('$HERE/node_modules/@apidevtools/swagger-parser/package.json').version"), ajv $(node -p "require('$HERE/node_modules/ajv/package.json').version")"

# --- the server -----------------------------------------------------------------------------------
BIN=${USERS_API_BINARY:-build/release/users-api}
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || fatal "no users-api binary at $BIN (build it, or set USERS_API_BINARY)"

# start_server NAME [VAR=VALUE...]: a server on a free port with a fresh SQLite
# database of its own; sets its pid and port in NAME_pid and NAME_port.
start_server() {
  local name=$1
  shift
  env -i PATH="$PATH" HOME="$work" PORT=0 OPS_PORT=0 HOST=127.0.0.1 THREADS=2 LOG_FORMAT=json SHUTDOWN_DELAY=0 \
    DATABASE_URL="sqlite:///$work/$name.sqlite3" "$@" "$BIN" serve </dev/null >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$! found=
  printf -v "${name}_pid" %s "$pid"
  for _ in $(seq 1 100); do
    found=$(grep -m1 '"msg":"listening"' "$work/$name.out" 2>/dev/null | sed -E 's/.*"port":([0-9]+).*/\1/')
    [ -n "$found" ] && break
    kill -0 "$pid" 2>/dev/null || fatal "users-api ($name) exited before listening: $(cat "$work/$name.err")"
    sleep 0.1
  done
  [ -n "$found" ] || fatal "users-api ($name) did not log {\"msg\":\"listening\"} within 10 s"
  printf -v "${name}_port" %s "$found"
  echo "server ($name): $BIN on http://127.0.0.1:$found (pid $pid)"
}
start_server server
port=$server_port
# The conditional requests (ETag, 304, 412) exist only with ETAGS=on.
start_server etags ETAGS=on

# --- the checks ------------------------------------------------------------------------------------------
timeout 120 node "$HERE/check.mjs" --base "http://127.0.0.1:$port" --etags-base "http://127.0.0.1:$etags_port" --root "$ROOT"
rc=$?
for name in server etags; do
  pid_var="${name}_pid"
  if ! kill -0 "${!pid_var}" 2>/dev/null; then
    echo "FAIL users-api ($name) died during the check: $(tail -n5 "$work/$name.err")"
    rc=1
  fi
done
[ "$rc" = 124 ] && echo "FAIL check.mjs did not finish within 120 s"
exit "$rc"
