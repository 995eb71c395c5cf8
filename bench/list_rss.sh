#!/usr/bin/env bash
# Memory of users-api while it serves a huge list: builds a SQLite database
# of N users, starts users-api on it, fetches GET /api/users/ once with curl
# while sampling the server's VmRSS/VmHWM every 50 ms, and prints the peak
# resident memory, the time to first byte, the total time and whether the body
# is a JSON array of N users. Target (bench/README.md): peak under 64 MiB.
#
# Usage: bench/list_rss.sh [N]        (default 1000000)
# Settings (environment):
#   USERS_API_BINARY  the server (default build/server/users-api, as make build makes it)
#   THREADS           users-api IO threads (default nproc)
#   FETCHES           how many times to fetch the list, one after another (default 1)
#   TARGET_MIB        the peak RSS target (default 64)
#   STRICT            1: exit 1 when the target is missed (default 0)
#   KEEP_TMP          1: keep the temp dir (database, body, samples)
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "$bench_dir")
binary=${USERS_API_BINARY:-$root_dir/build/server/users-api}
users=${1:-1000000}
server_threads=${THREADS:-$(nproc)}
fetches=${FETCHES:-1}
target_mib=${TARGET_MIB:-64}
strict=${STRICT:-0}
keep_tmp=${KEEP_TMP:-0}

fail() {
  printf 'list_rss: %s\n' "$*" >&2
  exit 1
}

[[ $users =~ ^[1-9][0-9]{0,8}$ ]] || fail "N must be 1-999999999, got '$users'"
[[ $fetches =~ ^[1-9][0-9]?$ ]] || fail "FETCHES must be 1-99, got '$fetches'"
[[ $server_threads =~ ^[1-9][0-9]*$ ]] || fail "THREADS must be a positive integer"
[[ -x $binary ]] || fail "no users-api binary at $binary (make build, or set USERS_API_BINARY)"
missing=()
for tool in sqlite3 curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  # sqlite3 comes with the test group, curl with test and bench.
  printf 'list_rss: %s missing, installing\n' "${missing[*]}" >&2
  "$root_dir/scripts/install-deps" test bench
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/users-api-list-rss.XXXXXX")
api_pid=""
sampler_pid=""

alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

stop_process() {
  local pid=$1 limit=$2 i
  [[ -n $pid ]] || return 0
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < limit * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  stop_process "$sampler_pid" 2
  stop_process "$api_pid" 25
  if [[ $status -ne 0 && -s $tmp/users-api.log ]]; then
    printf -- '--- last lines of the server log\n' >&2
    tail -n 20 "$tmp/users-api.log" >&2
  fi
  if [[ $keep_tmp == 1 ]]; then
    printf 'list_rss: temp dir kept: %s\n' "$tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'printf "list_rss: command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

listening_port() {
  local pid=$1 fd link inodes="" files=() hex
  for fd in /proc/"$pid"/fd/*; do
    link=$(readlink "$fd" 2>/dev/null) || continue
    [[ $link == socket:\[*\] ]] || continue
    link=${link#socket:[}
    inodes+=" ${link%]}"
  done
  [[ -n $inodes ]] || return 0
  for f in /proc/net/tcp /proc/net/tcp6; do [[ -r $f ]] && files+=("$f"); done
  hex=$(awk -v inodes="$inodes" '
    BEGIN { n = split(inodes, list, " "); for (i = 1; i <= n; i++) want[list[i]] = 1 }
    FNR > 1 && $4 == "0A" && ($10 in want) { split($2, a, ":"); print a[2]; exit }' "${files[@]}")
  [[ -n $hex ]] && echo $((16#$hex))
  return 0
}

# status_kb PID FIELD...: the fields (kB) of /proc/PID/status, space-separated.
status_kb() {
  local pid=$1 key value _ out=""
  shift
  declare -A seen=()
  while read -r key value _; do seen[${key%:}]=$value; done <"/proc/$pid/status"
  for key in "$@"; do out+="${seen[$key]:-0} "; done
  echo "${out% }"
}

mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# ---- the database -----------------------------------------------------------
db=$tmp/db.sqlite3
export DATABASE_URL="sqlite:///$db"
LOG_LEVEL=warning "$binary" migrate >"$tmp/migrate.log" 2>&1 || {
  cat "$tmp/migrate.log" >&2
  fail "users-api migrate failed"
}
started=$(date +%s.%N)
# dni: 9 digits and a letter (10 characters), name: "User number N".
sqlite3 "$db" <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $users)
INSERT INTO api_user (id, dni, name) SELECT x, printf('%09dX', x), 'User number ' || x FROM n;
COMMIT;
SQL
[[ $(sqlite3 "$db" 'SELECT count(*) FROM api_user') -eq $users ]] || fail "the database does not hold $users users"
db_seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
printf 'database: %d users in %s s, %s MiB on disk\n' "$users" "$db_seconds" \
  "$(mib $(($(stat -c %s "$db") / 1024)))"

# ---- the server ---------------------------------------------------------------
HOST=127.0.0.1 PORT=0 OPS_PORT=0 THREADS=$server_threads LOG_LEVEL=warning "$binary" serve >"$tmp/users-api.log" 2>&1 &
api_pid=$!
port=""
for ((i = 0; i < 100; i++)); do
  alive "$api_pid" || fail "users-api exited at start-up"
  port=$(listening_port "$api_pid")
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || fail "users-api did not listen within 10 s"
for ((i = 0; i < 100; i++)); do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/api/" && break
  sleep 0.1
done
read -r idle_rss idle_hwm <<<"$(status_kb "$api_pid" VmRSS VmHWM)"
printf 'users-api %s (THREADS=%d) on :%d, idle: VmRSS %s MiB, VmHWM %s MiB\n' \
  "$("$binary" --version 2>/dev/null | head -n 1)" "$server_threads" "$port" "$(mib "$idle_rss")" "$(mib "$idle_hwm")"

# Samples "ms VmRSS VmHWM RssAnon RssFile" (kB) every 50 ms while the server runs.
sample() {
  local start now
  start=$(date +%s%N)
  while alive "$api_pid"; do
    now=$(date +%s%N)
    echo "$(((now - start) / 1000000)) $(status_kb "$api_pid" VmRSS VmHWM RssAnon RssFile)" || break
    sleep 0.05
  done
}
sample >"$tmp/samples.txt" 2>/dev/null &
sampler_pid=$!

# ---- the fetches ------------------------------------------------------------
verdict_all=true
for ((fetch = 1; fetch <= fetches; fetch++)); do
  body=$tmp/list.json
  rm -f "$body"
  result=$(curl -sS --max-time 600 -D "$tmp/headers.txt" -o "$body" \
    -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}' "http://127.0.0.1:$port/api/users/") ||
    fail "curl failed: $result"
  read -r code ttfb total bytes <<<"$result"
  alive "$api_pid" || fail "users-api died while serving the list"
  framing=$(grep -i -E '^(content-length|transfer-encoding):' "$tmp/headers.txt" | tr -d '\r' | tr '\n' ' ' || true)

  # Validate the body: a JSON array of N users, ids 1..N in order.
  if command -v node >/dev/null; then
    # shellcheck disable=SC2016 # JavaScript, not shell
    check=$(node -e '
      const fs = require("fs");
      const [file, n] = [process.argv[1], Number(process.argv[2])];
      let users;
      try { users = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) { console.log("not JSON: " + e.message); process.exit(0); }
      if (!Array.isArray(users)) { console.log("not an array"); process.exit(0); }
      if (users.length !== n) { console.log(`${users.length} elements, not ${n}`); process.exit(0); }
      for (let i = 0; i < users.length; i++) {
        const u = users[i], keys = Object.keys(u).join(",");
        if (keys !== "id,dni,name" || u.id !== i + 1) { console.log(`element ${i} is ${JSON.stringify(u)}`); process.exit(0); }
      }
      console.log("ok");' "$body" "$users" 2>&1) || check="node failed: $check"
    how="JSON.parse"
  else
    count=$({ grep -o '"id":' "$body" || true; } | wc -l)
    first=$(head -c 9 "$body")
    last=$(tail -c 2 "$body")
    if [[ $first == '[{"id":1,' && $last == '}]' && $count -eq $users ]]; then check=ok; else
      check="starts '$first', ends '$last', $count ids"
    fi
    how="'\"id\":' count, no node"
  fi

  printf 'fetch %d: HTTP %s, %s bytes (%.1f MiB; %s), first byte %.3f s, total %.3f s\n' "$fetch" "$code" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "${framing% }" "$ttfb" "$total"
  printf 'fetch %d: body a JSON array of %d users (%s): %s\n' "$fetch" "$users" "$how" "$check"
  [[ $code == 200 && $check == ok ]] || verdict_all=false
done

sleep 0.1
stop_process "$sampler_pid" 2
sampler_pid=""
read -r hwm rss_peak <<<"$(awk '
  { if ($3 > hwm) hwm = $3; if ($2 > rss) { rss = $2; anon = $4; file = $5 } }
  END { print hwm + 0, rss + 0 }' "$tmp/samples.txt")"
read -r peak_anon peak_file <<<"$(awk -v rss="$rss_peak" '$2 == rss { print $4, $5; exit }' "$tmp/samples.txt")"
read -r final_rss <<<"$(status_kb "$api_pid" VmRSS)"
samples=$(wc -l <"$tmp/samples.txt")

printf 'peak RSS: VmHWM %s MiB; highest VmRSS sample %s MiB (anon %s, file %s) over %d samples; after: VmRSS %s MiB\n' \
  "$(mib "$hwm")" "$(mib "$rss_peak")" "$(mib "${peak_anon:-0}")" "$(mib "${peak_file:-0}")" "$samples" "$(mib "$final_rss")"
if awk -v kb="$hwm" -v t="$target_mib" 'BEGIN { exit !(kb < t * 1024) }'; then
  rss_verdict=met
else
  rss_verdict=MISSED
  verdict_all=false
fi
printf 'target: peak RSS under %s MiB while serving %d users: %s; body valid: %s\n' "$target_mib" "$users" \
  "$rss_verdict" "$([[ $check == ok ]] && echo yes || echo NO)"

if [[ $strict == 1 && $verdict_all != true ]]; then
  fail "a target was missed (STRICT=1)"
fi
