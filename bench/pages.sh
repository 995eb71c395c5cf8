#!/usr/bin/env bash
# Pages of a big table: on N users (default 1,000,000), with default settings
# otherwise (access log on), wrk measures
#   - a cursor page of 100 at the start, and at depth 900,000 (the deep one
#     should cost at most 2x the first: keysets, no OFFSET),
#   - a ?dni= lookup (through the unique index),
#   - a limit_offset first page of 100, which COUNTs the table, and the same
#     page at offset 900,000,
# and the COUNT alone is timed in the database's own shell. SQLite, then
# PostgreSQL (a throwaway cluster with durable settings) when its binaries
# are installed. Not a test: it prints a table and writes
# bench/results/pages.json.
#
# Settings (environment):
#   USERS_API_BINARY  the server (default build/server/users-api, as make build makes it)
#   USERS             rows (default 1000000)
#   DURATION          wrk -d of each case (default 3s)
#   CONNECTIONS       wrk -c (default 8)
#   BACKENDS          "sqlite postgres" (default), or one of them
#   RESULTS_DIR       where pages.json goes (default bench/results)
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "$bench_dir")
binary=${USERS_API_BINARY:-$root_dir/build/server/users-api}
users=${USERS:-1000000}
duration=${DURATION:-3s}
connections=${CONNECTIONS:-8}
backends=${BACKENDS:-sqlite postgres}
results_dir=${RESULTS_DIR:-$bench_dir/results}
cluster_script=$root_dir/tests/support/postgres_cluster.sh

fail() {
  printf 'pages: %s\n' "$*" >&2
  exit 1
}
say() { printf 'pages: %s\n' "$*"; }

[[ $users =~ ^[1-9][0-9]{6,8}$ ]] || fail "USERS must be at least 1000000 (the deep page is at 900000), got '$users'"
[[ -x $binary ]] || fail "no users-api binary at $binary (make build, or set USERS_API_BINARY)"
for tool in wrk curl sqlite3; do command -v "$tool" >/dev/null || fail "$tool missing (scripts/install-deps bench test)"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/users-api-pages.XXXXXX")
pids=()
cluster_dir=""
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n $cluster_dir ]] && bash "$cluster_script" destroy "$cluster_dir" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME DATABASE_URL VAR=VALUE...: a server on a free port; sets $port.
start_server() {
  local name=$1 url=$2
  shift 2
  env HOST=127.0.0.1 PORT=0 OPS_PORT=0 DATABASE_URL="$url" "$@" "$binary" serve >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$tmp/$name.log" | head -n 1)
    [[ -n $port ]] && break
    sleep 0.05
  done
  [[ -n $port ]] || fail "$name did not listen: $(tail -n 3 "$tmp/$name.log")"
  for _ in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 200 ]] && return 0
    sleep 0.1
  done
  fail "$name never became ready"
}

# measure CASE URL: wrk, then "CASE req/s p50-ms p99-ms" into $tmp/rows.
measure() {
  local case_name=$1 url=$2 out
  local status
  status=$(curl -s -o "$tmp/body" -w '%{http_code}' "$url")
  [[ $status == 200 ]] || fail "$case_name: $url answered $status: $(head -c 200 "$tmp/body")"
  out=$(wrk -t1 -c"$connections" -d"$duration" --latency "$url")
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  [[ -z $non2xx ]] || fail "$case_name: $non2xx non-2xx answers"
  printf '%s %s %s %s %s\n' "$backend" "$case_name" "$rps" "$p50" "$p99" >>"$tmp/rows"
  printf '  %-34s %10s req/s   p50 %8s   p99 %8s\n' "$case_name" "$rps" "$p50" "$p99"
}

# The cursor users-api writes for the row with id N (dni %09dX, name
# "User number N"): base64url of r=0&i=N&d=..&n=.. (see src/api/cursor.cpp).
cursor_after() {
  printf 'r=0&i=%d&d=%09dX&n=User+number+%d' "$1" "$1" "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='
}

run_cases() { # URL of the database
  local url=$1 base first_id
  start_server "$backend-cursor" "$url" PAGINATION=cursor PAGE_SIZE=100 LIST_FILTERS=dni
  base="http://127.0.0.1:$port/api/users/"
  first_id=$(curl -s "$base?cursor=$(cursor_after 900000)" | sed -n 's/.*"results":\[{"id":\([0-9]*\).*/\1/p')
  [[ $first_id == 900001 ]] || fail "the deep cursor page starts at id '$first_id', not 900001"
  measure "cursor page 1" "$base"
  measure "cursor page at 900000" "$base?cursor=$(cursor_after 900000)"
  measure "?dni= lookup" "$base?dni=000500000X"
  start_server "$backend-offset" "$url" PAGINATION=limit_offset PAGE_SIZE=100
  base="http://127.0.0.1:$port/api/users/"
  measure "limit_offset page 1 (COUNT)" "$base?limit=100"
  measure "limit_offset offset 900000" "$base?limit=100&offset=900000"
}

# count_ms COMMAND...: the median of 5 timings of the COUNT, in ms.
count_ms() {
  local samples=() start end
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    samples+=($(((end - start) / 1000)))
  done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 / 1000 }'
}

: >"$tmp/rows"
declare -A count_cost
for backend in $backends; do
  case $backend in
    sqlite)
      db=$tmp/db.sqlite3
      DATABASE_URL="sqlite:///$db" "$binary" migrate >/dev/null 2>&1 || fail "migrate failed"
      sqlite3 "$db" <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $users)
INSERT INTO api_user (id, dni, name) SELECT x, printf('%09dX', x), 'User number ' || x FROM n;
COMMIT;
SQL
      say "SQLite $(sqlite3 --version | cut -d' ' -f1), $users users"
      run_cases "sqlite:///$db"
      count_cost[sqlite]=$(count_ms sqlite3 "$db" 'SELECT count(*) FROM api_user')
      ;;
    postgres)
      if ! command -v psql >/dev/null; then
        say "PostgreSQL skipped: psql is not installed (scripts/install-deps test installs it)"
        continue
      fi
      cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/users-api-pages-pg.XXXXXX")
      USERS_API_PG_DURABLE=1 bash "$cluster_script" start "$cluster_dir" >/dev/null
      admin=$(cat "$cluster_dir/url")
      psql "$admin" -v ON_ERROR_STOP=1 -qc 'CREATE DATABASE users_api_pages' >/dev/null
      url=${admin/\/postgres\?//users_api_pages?}
      DATABASE_URL=$url "$binary" migrate >/dev/null 2>&1 || fail "migrate failed on PostgreSQL"
      psql "$url" -v ON_ERROR_STOP=1 -q >/dev/null <<SQL
INSERT INTO api_user (id, dni, name)
  SELECT x, lpad(x::text, 9, '0') || 'X', 'User number ' || x FROM generate_series(1, $users) AS x;
SELECT setval(pg_get_serial_sequence('api_user', 'id'), $users);
VACUUM ANALYZE api_user;
SQL
      say "PostgreSQL $(psql "$url" -Atc 'SHOW server_version'), $users users (durable settings)"
      run_cases "$url"
      count_cost[postgres]=$(count_ms psql "$url" -Atc 'SELECT count(*) FROM api_user')
      ;;
    *) fail "unknown backend '$backend'" ;;
  esac
  say "  COUNT(*) of $users users in the $backend shell: ${count_cost[$backend]} ms (median of 5, shell start included)"
done

# The ratio the issue asks for: the deep cursor page within 2x the first.
mkdir -p "$results_dir"
awk -v date="$(date -u +%FT%TZ)" -v users="$users" -v sqlite_count="${count_cost[sqlite]:-}" \
  -v pg_count="${count_cost[postgres]:-}" '
  {
    name = $2; for (i = 3; i <= NF - 3; i++) name = name " " $i
    rows[++n] = sprintf("    {\"backend\":\"%s\",\"case\":\"%s\",\"requests_per_second\":%s,\"p50\":\"%s\",\"p99\":\"%s\"}",
                        $1, name, $(NF - 2), $(NF - 1), $NF)
    if (name == "cursor page 1") first[$1] = $(NF - 2)
    if (name == "cursor page at 900000") deep[$1] = $(NF - 2)
  }
  END {
    printf "{\n  \"date\":\"%s\",\n  \"users\":%s,\n  \"count_ms\":{\"sqlite\":\"%s\",\"postgres\":\"%s\"},\n  \"cases\":[\n", date, users, sqlite_count, pg_count
    for (i = 1; i <= n; i++) printf "%s%s\n", rows[i], i < n ? "," : ""
    printf "  ]\n}\n"
    for (b in first) if (b in deep) printf "pages: %s: the page at 900000 costs %.2fx the first (target at most 2x)\n", b, first[b] / deep[b] > "/dev/stderr"
  }' "$tmp/rows" >"$results_dir/pages.json"
say "wrote $results_dir/pages.json"
