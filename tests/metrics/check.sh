#!/usr/bin/env bash
# The Prometheus endpoint of the real binary, checked by Prometheus's own tool.
#
#   bash tests/metrics/check.sh            (from anywhere; ctest: metrics.promtool)
#   USERS_API_BINARY=/path/to/users-api bash tests/metrics/check.sh
#
# 1. Installs Debian's `prometheus` package when `promtool` is missing (it is
#    what ships /usr/bin/promtool), with services kept from starting, and makes
#    sure no Prometheus server is left running by the install.
# 2. Starts the binary with a fresh SQLite database, the API on a free port
#    and the ops listener (OPS_PORT: /healthz, /readyz, /metrics) on another,
#    sends traffic (a POST, a GET of /api/users/{id}/, 404s, a 405, probes),
#    scrapes /metrics on the ops port and runs `promtool check metrics` on it
#    (must exit 0).
# 3. Asserts the series the README promises exist and are plausible: request
#    counters labelled by route template (never a raw path), method and status
#    class; the latency histogram (cumulative buckets, +Inf = _count, _sum);
#    in-flight requests; open connections; database errors; dropped log lines;
#    process start time; build info.
# 4. Sends more traffic, scrapes again and asserts the counters grew by exactly
#    what was sent. Whether the ops listener's own requests (the scrapes) are
#    counted is read from the data (the first scrape shows up in the second,
#    or not) and printed; either way the totals must add up exactly.
# 5. The two ports: /metrics 200 on the ops port and 404 on the API port;
#    /healthz and /readyz 200 on both; nothing else on the ops port (404).
# Prints PASS/FAIL per check and "metrics: N passed, M failed"; exits 1 on any
# failure. Missing tools are failures, never skips.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=tests/support/free_port.sh
source tests/support/free_port.sh
NAME=metrics
started=$(date +%s.%N)

passed=0
failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
summary() {
  echo "time: $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
  echo "$NAME: $passed passed, $failed failed"
}
fatal() {
  echo "FAIL $1"
  failed=$((failed + 1))
  summary
  exit 1
}
check() { # description command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# --- tools --------------------------------------------------------------------------
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fatal "not root and no sudo: cannot install missing Debian packages"
  as_root=(sudo)
fi
apt_install() { # packages...
  echo "installing Debian packages: $*"
  local log
  log=$(mktemp)
  if ! DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends "$@" >"$log" 2>&1; then
    # A machine that never ran apt-get update has no package lists. (The lock
    # timeout lets checks that ctest runs in parallel install one after another.)
    "${as_root[@]}" apt-get update -o DPkg::Lock::Timeout=300 -qq >>"$log" 2>&1
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends "$@" >>"$log" 2>&1 ||
      { cat "$log" >&2; rm -f "$log"; return 1; }
  fi
  rm -f "$log"
}

for tool in curl awk; do
  command -v "$tool" >/dev/null 2>&1 || apt_install "$tool" || fatal "could not install $tool"
done

policy_created=0
remove_policy() {
  if [ "$policy_created" = 1 ]; then
    "${as_root[@]}" rm -f /usr/sbin/policy-rc.d
    policy_created=0
  fi
}
if ! command -v promtool >/dev/null 2>&1; then
  # The package's maintainer scripts would start a Prometheus server (and
  # --no-install-recommends keeps prometheus-node-exporter out). policy-rc.d
  # exiting 101 is Debian's switch for "start no services"; put one in place
  # for the install only, unless the machine already has its own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# users-api tests/metrics/check.sh: no services during this install\nexit 101\n' |
      "${as_root[@]}" tee /usr/sbin/policy-rc.d >/dev/null && "${as_root[@]}" chmod 755 /usr/sbin/policy-rc.d &&
      policy_created=1
  fi
  mapfile -t servers_before < <(pgrep -x prometheus || true)
  apt_install prometheus
  install_rc=$?
  remove_policy
  [ "$install_rc" = 0 ] || fatal "could not install Debian package prometheus (for promtool)"
  # Whatever prometheus process appeared during the install was started by it:
  # stop it by its id.
  for pid in $(pgrep -x prometheus || true); do
    if ! printf '%s\n' "${servers_before[@]}" | grep -qx "$pid"; then
      echo "the prometheus install started a server (pid $pid): stopping it"
      "${as_root[@]}" kill "$pid" 2>/dev/null || true
      bad "installing prometheus must not leave a server running (pid $pid was started)"
    fi
  done
  command -v promtool >/dev/null 2>&1 || fatal "prometheus is installed but promtool is not on PATH"
fi
echo "tools: $(promtool --version 2>&1 | head -n1), $(curl --version | head -n1 | cut -d' ' -f1-2)"

# --- the server ---------------------------------------------------------------------------
BIN=${USERS_API_BINARY:-build/release/users-api}
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || fatal "no users-api binary at $BIN (build it, or set USERS_API_BINARY)"

work=$(mktemp -d "${TMPDIR:-/tmp}/users-api-metrics.XXXXXX")
server_pid=
cleanup() {
  remove_policy
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The ops port: a free one (OPS_PORT=0 would put /metrics back on the API
# port, and the API port is PORT=0, an ephemeral one read from the log).
ops_port=$(free_port) || fatal "no free TCP port for OPS_PORT below the ephemeral range"
env -i PATH="$PATH" HOME="$work" PORT=0 OPS_PORT="$ops_port" HOST=127.0.0.1 THREADS=2 LOG_FORMAT=json SHUTDOWN_DELAY=0 \
  DATABASE_URL="sqlite:///$work/db.sqlite3" "$BIN" serve </dev/null >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
ops="http://127.0.0.1:$ops_port"
port=
for _ in $(seq 1 100); do
  # The API's listener: a "listening" line whose port is not the ops port.
  port=$(grep '"msg":"listening"' "$work/server.out" 2>/dev/null | sed -E 's/.*"port":([0-9]+).*/\1/' | grep -vxF "$ops_port" | head -n1)
  [ -n "$port" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$ops/healthz" 2>/dev/null)" = 200 ] && break
  kill -0 "$server_pid" 2>/dev/null || fatal "users-api exited before listening: $(cat "$work/server.err")"
  sleep 0.1
done
[ -n "$port" ] || fatal "users-api did not log {\"msg\":\"listening\"} for the API port within 10 s"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$ops/healthz" 2>/dev/null)" = 200 ] ||
  fatal "the ops port (OPS_PORT=$ops_port) did not answer GET /healthz with 200 within 10 s: $(grep -m3 . "$work/server.out")"
base="http://127.0.0.1:$port"
echo "server: $BIN on $base, ops port $ops (pid $server_pid)"

# status METHOD PATH [curl args...]: prints the status code
status() {
  local method=$1 path=$2
  shift 2
  curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -X "$method" "$@" "$base$path"
}
expect() { # code METHOD PATH [curl args...]
  local want=$1
  shift
  local got
  got=$(status "$@")
  [ "$got" = "$want" ] || bad "traffic: $1 $2 answered $got, expected $want"
}

# --- traffic -------------------------------------------------------------------------------
created=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' -d '{"dni":"m-1","name":"Metrics"}' \
  -w '\n%{http_code}' "$base/api/users/")
[ "$(tail -n1 <<<"$created")" = 201 ] || fatal "POST /api/users/ did not create a user: $created"
id=$(head -n1 <<<"$created" | sed -E 's/.*"id":([0-9]+).*/\1/')
expect 200 GET "/api/users/$id/"
expect 200 GET /api/users/
expect 404 GET /api/users/999999/
expect 404 GET /no/such/path
expect 405 DELETE /api/users/
expect 301 GET /api/users
expect 200 GET /healthz
expect 200 GET /readyz

# /metrics is on the ops port only.
scrape() { curl -sS --max-time 5 -o "$1" -w '%{http_code} %{content_type}' "$ops/metrics"; }
# An idle connection on the API port, open during the first scrape: the open
# connections gauge counts at least this one, whether or not the ops
# listener's connections are counted with the API's.
exec 4<>"/dev/tcp/127.0.0.1/$port" || fatal "could not open a connection to the API port $port"
sleep 0.2 # the last exchange is recorded just after its response is written
answer=$(scrape "$work/scrape1.txt") || fatal "GET /metrics on the ops port failed"
exec 4<&-
check "GET /metrics on the ops port answers 200 text/plain; version=0.0.4 (got: $answer)" \
  grep -qE '^200 text/plain; *version=0\.0\.4' <<<"$answer"

# --- promtool --------------------------------------------------------------------------------
promtool check metrics <"$work/scrape1.txt" >"$work/promtool.out" 2>&1
promtool_rc=$?
echo "promtool check metrics (exit $promtool_rc):"
if [ -s "$work/promtool.out" ]; then sed 's/^/    /' "$work/promtool.out"; else echo "    (no findings)"; fi
check "promtool check metrics exits 0 with no findings" test "$promtool_rc" = 0 -a ! -s "$work/promtool.out"

# --- the series ------------------------------------------------------------------------------------
# value FILE SERIES: the sample value of one exact series (name and labels as rendered), or empty.
value() { awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $2; exit }' "$1"; }
has_type() { grep -qx "# TYPE $2 $3" "$1"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
ge() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

s1="$work/scrape1.txt"
req='users_api_http_requests_total'
check "$req is a counter" has_type "$s1" "$req" counter
check "$req: POST /api/users/ 2xx = 1" test "$(value "$s1" "$req{route=\"/api/users/\",method=\"POST\",status=\"2xx\"}")" = 1
check "$req: GET /api/users/{id}/ 2xx = 1 (route template, not /api/users/$id/)" \
  test "$(value "$s1" "$req{route=\"/api/users/{id}/\",method=\"GET\",status=\"2xx\"}")" = 1
check "$req: GET /api/users/{id}/ 4xx = 1 (the 404 of a missing user)" \
  test "$(value "$s1" "$req{route=\"/api/users/{id}/\",method=\"GET\",status=\"4xx\"}")" = 1
check "$req: DELETE /api/users/ 4xx = 1 (the 405)" \
  test "$(value "$s1" "$req{route=\"/api/users/\",method=\"DELETE\",status=\"4xx\"}")" = 1
check "$req: an unknown path is counted under a fixed label, not its raw path" \
  test "$(value "$s1" "$req{route=\"not-found\",method=\"GET\",status=\"4xx\"}")" = 1
check "$req: the slashless redirect is counted as 3xx" \
  test "$(value "$s1" "$req{route=\"redirect\",method=\"GET\",status=\"3xx\"}")" = 1

# Every label value comes from a fixed set: the labels of kRouteTable in
# src/api/route_table.hpp (rows {"template", "ALLOW", "label", kind, ops}), or a
# pseudo-route like not-found, known methods, status classes.
mapfile -t templates < <(sed -nE 's/^ *\{"\/[^"]*", *"[A-Z, ]+", *"(\/[^"]*)",.*$/\1/p' src/api/route_table.hpp)
[ "${#templates[@]}" -ge 5 ] || bad "could not read kRouteTable from src/api/route_table.hpp (${#templates[@]} labels)"
label_problems=$(awk -v templates="$(printf '%s\n' "${templates[@]}")" '
  BEGIN { n = split(templates, t, "\n"); for (i = 1; i <= n; i++) known[t[i]] = 1 }
  /^users_api_http_request(s_total|_duration_seconds_(bucket|sum|count))\{/ {
    if (match($0, /route="[^"]*"/)) {
      r = substr($0, RSTART + 7, RLENGTH - 8)
      if (!(r in known) && r !~ /^[a-z-]+$/) print "route=" r
      if (r ~ /\/[0-9]+\//) print "raw id in route=" r
    } else print "no route label: " $1
  }
  /^users_api_http_requests_total\{/ {
    if (!match($0, /method="(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|other)"/)) print "method: " $1
    if (!match($0, /status="[1-5]xx"/)) print "status: " $1
  }' "$s1" | sort -u)
check "every route label is a template or a fixed pseudo-route; methods and status classes are fixed sets${label_problems:+ (bad: $(tr '\n' ' ' <<<"$label_problems"))}" \
  test -z "$label_problems"
check "no series anywhere carries the raw path /api/users/$id/" bash -c "! grep -qF '/api/users/$id/' '$s1'"

# The histogram: cumulative buckets in increasing order of le, +Inf equal to
# _count, a positive _sum, for every route that has one.
hist=users_api_http_request_duration_seconds
check "$hist is a histogram" has_type "$s1" "$hist" histogram
hist_problems=$(awk -v h="$hist" '
  function route_of(line) { match(line, /route="[^"]*"/); return substr(line, RSTART + 7, RLENGTH - 8) }
  index($0, h "_bucket{") == 1 {
    r = route_of($0); match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
    lev = (le == "+Inf") ? 1e308 : le + 0
    if ((r in last_le) && lev <= last_le[r]) print r ": le not increasing at " le
    if ((r in last_v) && $2 + 0 < last_v[r]) print r ": bucket le=" le " below the previous one"
    last_le[r] = lev; last_v[r] = $2 + 0; if (le == "+Inf") inf[r] = $2 + 0; routes[r] = 1
  }
  index($0, h "_sum{") == 1 { sum[route_of($0)] = $2 + 0 }
  index($0, h "_count{") == 1 { count[route_of($0)] = $2 + 0 }
  END {
    for (r in routes) {
      if (!(r in inf)) print r ": no +Inf bucket"
      if (!(r in count)) print r ": no _count"; else if (count[r] != inf[r]) print r ": _count " count[r] " != +Inf " inf[r]
      if (!(r in sum)) print r ": no _sum"; else if (sum[r] <= 0 || sum[r] > 60 * count[r]) print r ": implausible _sum " sum[r]
    }
  }' "$s1")
check "$hist: buckets cumulative and ordered, +Inf = _count, 0 < _sum${hist_problems:+ (bad: $(tr '\n' ';' <<<"$hist_problems"))}" \
  test -z "$hist_problems"
check "$hist: /api/users/{id}/ has _count 2 (the 200 and the 404)" \
  test "$(value "$s1" "$hist""_count{route=\"/api/users/{id}/\"}")" = 2
check "$hist: /api/users/ has a le=\"0.005\" bucket and +Inf" \
  bash -c "grep -qF '$hist""_bucket{route=\"/api/users/\",le=\"0.005\"}' '$s1' && grep -qF '$hist""_bucket{route=\"/api/users/\",le=\"+Inf\"}' '$s1'"

in_flight=$(value "$s1" users_api_http_requests_in_flight)
# 1 if the ops listener's requests count (the scrape itself is in flight),
# else 0; checked against the counters after the second scrape.
check "users_api_http_requests_in_flight is a gauge, 0 or 1 (got '$in_flight')" \
  bash -c "grep -qx '# TYPE users_api_http_requests_in_flight gauge' '$s1' && [[ '$in_flight' =~ ^[01]\$ ]]"
open=$(value "$s1" users_api_http_connections_open)
check "users_api_http_connections_open is a gauge, between 1 (the idle API connection) and 20 (got '$open')" \
  bash -c "grep -qx '# TYPE users_api_http_connections_open gauge' '$s1' && [[ '$open' =~ ^[0-9]+\$ ]] && [ '$open' -ge 1 ] && [ '$open' -le 20 ]"
db_errors=$(grep -E '^users_api_database_errors_total(\{| )' "$s1")
check "users_api_database_errors_total is a counter with kind labels, all 0 here (got: $(tr '\n' ' ' <<<"$db_errors"))" \
  bash -c "grep -qx '# TYPE users_api_database_errors_total counter' '$s1' && [ -n \"\$1\" ] && ! grep -vE '^users_api_database_errors_total\\{kind=\"[a-z_]+\"\\} 0\$' <<<\"\$1\"" _ "$db_errors"
dropped=$(value "$s1" users_api_log_lines_dropped_total)
check "users_api_log_lines_dropped_total is a counter, 0 at this load (got '$dropped')" \
  bash -c "grep -qx '# TYPE users_api_log_lines_dropped_total counter' '$s1' && [ '$dropped' = 0 ]"
start_time=$(value "$s1" process_start_time_seconds)
now=$(date +%s.%N)
check "process_start_time_seconds is between this script's start and now (got '$start_time', script $started, now $now)" \
  bash -c "grep -qx '# TYPE process_start_time_seconds gauge' '$s1' && awk -v t='$start_time' -v a='$started' -v b='$now' 'BEGIN { exit !(t != \"\" && t + 0 >= a - 1 && t + 0 <= b + 1) }'"
version=$("$BIN" --version 2>/dev/null | head -n1 | awk '{print $NF}')
check "users_api_build_info{version=\"$version\"} 1 (version from users-api --version)" \
  test "$(value "$s1" "users_api_build_info{version=\"$version\"}")" = 1

# --- counters grow with traffic ----------------------------------------------------------------------
for _ in 1 2 3 4 5; do expect 200 GET "/api/users/$id/"; done
expect 201 POST /api/users/ -H 'Content-Type: application/json' -d '{"dni":"m-2","name":"Metrics two"}'
expect 405 PUT /api/users/
sleep 0.2
answer=$(scrape "$work/scrape2.txt") || fatal "second GET /metrics failed"
s2="$work/scrape2.txt"
delta() { # series: scrape2 - scrape1 (a missing series counts 0)
  local a b
  a=$(value "$s1" "$1")
  b=$(value "$s2" "$1")
  awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { print b - a }'
}
check "$req: GET /api/users/{id}/ 2xx grew by exactly 5" \
  test "$(delta "$req{route=\"/api/users/{id}/\",method=\"GET\",status=\"2xx\"}")" = 5
check "$req: POST /api/users/ 2xx grew by exactly 1" \
  test "$(delta "$req{route=\"/api/users/\",method=\"POST\",status=\"2xx\"}")" = 1
check "$req: PUT /api/users/ 4xx (405) grew by exactly 1" \
  test "$(delta "$req{route=\"/api/users/\",method=\"PUT\",status=\"4xx\"}")" = 1
# The first scrape (on the ops listener) is counted in the second like any
# request; the gauges are the API listener's, so the scrape is not in flight
# on it.
ops_counted=$(delta "$req{route=\"/metrics\",method=\"GET\",status=\"2xx\"}")
check "$req: GET /metrics 2xx grew by exactly 1 (the first scrape, on the ops listener), got $ops_counted" \
  test "$ops_counted" = 1
check "users_api_http_requests_in_flight during the first scrape is the API listener's: 0 (got $in_flight)" \
  test "$in_flight" = 0
check "$hist: /api/users/{id}/ _count grew by exactly 5 and _sum grew" \
  bash -c "[ '$(delta "$hist""_count{route=\"/api/users/{id}/\"}")' = 5 ] && awk -v d='$(delta "$hist""_sum{route=\"/api/users/{id}/\"}")' 'BEGIN { exit !(d > 0) }'"
total() { awk '/^users_api_http_requests_total\{/ { s += $2 } END { print s + 0 }' "$1"; }
check "the sum of $req grew by exactly $((7 + ops_counted)) (5 GET, 1 POST, 1 PUT, $ops_counted scrape): $(total "$s1") -> $(total "$s2")" \
  test "$(($(total "$s2") - $(total "$s1")))" = "$((7 + ops_counted))"
promtool check metrics <"$s2" >"$work/promtool2.out" 2>&1
check "promtool check metrics accepts the second scrape too" test $? = 0 -a ! -s "$work/promtool2.out"
[ -s "$work/promtool2.out" ] && sed 's/^/    /' "$work/promtool2.out"

# --- the two ports (after the scrapes: these requests change no count above) --------------------
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
got=$(code "$base/metrics")
check "GET /metrics on the API port answers 404 (got $got): served on the ops port only" test "$got" = 404
got=$(code "$ops/metrics")
check "GET /metrics on the ops port answers 200 (got $got)" test "$got" = 200
for path in /healthz /readyz; do
  got="$(code "$base$path") $(code "$ops$path")"
  check "GET $path answers 200 on the API port and on the ops port (got $got)" test "$got" = "200 200"
done
got=$(code "$ops/api/users/")
check "the ops port serves nothing else: GET /api/users/ there answers 404 (got $got)" test "$got" = 404

kill -0 "$server_pid" 2>/dev/null || bad "users-api died during the check: $(tail -n5 "$work/server.err")"
summary
[ "$failed" = 0 ]
