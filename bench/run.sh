#!/usr/bin/env bash
# Throughput of users-api against nginx answering a fixed JSON body, on this
# machine, over 127.0.0.1. Not a test: it measures, prints a table and writes
# bench/results/latest.json. `make bench` builds, installs wrk and nginx, then
# runs this. See bench/README.md for the cases and the targets.
#
# Settings (environment):
#   USERS_API_BINARY  the server (default build/server/users-api, as make build makes it)
#   DURATION          wrk -d of every run (default 5s)
#   LOG_LEVEL         the server's (default info: access logs on, as by default)
#   ROUNDS            rounds per case, medians are taken over them (default 3)
#   WARMUP            wrk -d of one unrecorded run per server first (default 1s, 0 = none)
#   THREADS           users-api IO threads (default nproc)
#   NGINX_WORKERS     nginx worker_processes (default nproc)
#   WRK_THREADS       wrk -t (default 2)
#   CONNECTIONS       wrk -c (default 32)
#   NGINX             nginx binary (default /usr/sbin/nginx)
#   DATABASE_URL      default: a fresh SQLite file in a temp dir. Any other
#                     database (e.g. postgres://...) must hold no users yet;
#                     the run leaves its users there.
#   RESULTS_DIR       where latest.json and latest.log go (default bench/results)
#   STRICT            1: exit 1 when a target is missed (default 0)
#   KEEP_TMP          1: keep the temp dir (server and nginx logs) for a look
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "$bench_dir")
binary=${USERS_API_BINARY:-$root_dir/build/server/users-api}
duration=${DURATION:-5s}
rounds=${ROUNDS:-3}
warmup=${WARMUP:-1s}
server_threads=${THREADS:-$(nproc)}
nginx_workers=${NGINX_WORKERS:-$(nproc)}
wrk_threads=${WRK_THREADS:-2}
connections=${CONNECTIONS:-32}
nginx_bin=${NGINX:-/usr/sbin/nginx}
results_dir=${RESULTS_DIR:-$bench_dir/results}
strict=${STRICT:-0}
keep_tmp=${KEEP_TMP:-0}

seed_users=100
# nginx's answer: the shape of one user as users-api writes it. 34 bytes (the
# issue said 35; the string itself is 34, and that is what is checked).
fixed_body='{"id":1,"dni":"0987","name":"Ana"}'
# Targets (bench/README.md): ratio of users-api's median req/s to nginx's,
# and created users per second; PostgreSQL's are its issue's (set below,
# once the backend is known). TARGET_GET_ONE, TARGET_LIST and
# TARGET_CREATED_PER_S override them.

say() { printf '%s\n' "$*"; }
fail() {
  printf 'bench: %s\n' "$*" >&2
  exit 1
}

# ---- checks ---------------------------------------------------------------
[[ $rounds =~ ^[1-9][0-9]?$ ]] || fail "ROUNDS must be 1-99, got '$rounds'"
[[ $duration =~ ^[1-9][0-9]*[smh]?$ ]] || fail "DURATION must look like 5s, got '$duration'"
[[ $warmup =~ ^(0|[1-9][0-9]*[smh]?)$ ]] || fail "WARMUP must look like 1s or 0, got '$warmup'"
for n in server_threads nginx_workers wrk_threads connections; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || fail "$n must be a positive integer, got '${!n}'"
done
((connections >= wrk_threads)) || fail "CONNECTIONS must be at least WRK_THREADS"
[[ -x $binary ]] || fail "no users-api binary at $binary (make build, or set USERS_API_BINARY)"
[[ -x $nginx_bin ]] || fail "no nginx at $nginx_bin (scripts/install-deps bench)"
for tool in wrk curl pgrep awk sort openssl sha256sum base64; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps bench)"
done

# ---- processes and cleanup ------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/users-api-bench.XXXXXX")
api_pid=""
nginx_pid=""

# True while the process runs (a zombie of ours that exited counts as gone).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# describe_exit STATUS: how a process ended, from its wait status.
describe_exit() {
  if (($1 > 128)); then echo "killed by SIG$(kill -l $(($1 - 128)))"; else echo "exit status $1"; fi
}

# stop_process PID NAME SECONDS: SIGTERM, then SIGKILL (and to its children)
# if it is still there after SECONDS; says so when it does not exit 0 (a
# graceful stop), or when it had already stopped by itself.
stop_process() {
  local pid=$1 name=$2 limit=$3 i children status=0
  [[ -n $pid ]] || return 0
  if ! alive "$pid"; then
    wait "$pid" 2>/dev/null || status=$?
    printf 'bench: %s (pid %s) had already stopped (%s)\n' "$name" "$pid" "$(describe_exit "$status")" >&2
    return 0
  else
    children=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < limit * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      printf 'bench: %s (pid %s) ignored SIGTERM for %ss, killing it\n' "$name" "$pid" "$limit" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    for child in $children; do
      alive "$child" && kill -KILL "$child" 2>/dev/null
    done
  fi
  wait "$pid" 2>/dev/null || status=$?
  ((status == 0)) || printf 'bench: %s (pid %s) stopped with %s after SIGTERM\n' "$name" "$pid" "$(describe_exit "$status")" >&2
  return 0
}

cleanup() {
  local status=$?
  set +e
  stop_process "$api_pid" users-api 25
  stop_process "$nginx_pid" nginx 10
  if [[ $status -ne 0 ]]; then
    for log in "$tmp/users-api.log" "$tmp/nginx/error.log"; do
      [[ -s $log ]] && { printf -- '--- last lines of %s\n' "$log" >&2; tail -n 20 "$log" >&2; }
    done
  fi
  if [[ $keep_tmp == 1 ]]; then
    printf 'bench: temp dir kept: %s\n' "$tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'printf "bench: command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# The TCP port a process of ours listens on, from its socket inodes and
# /proc/net/tcp{,6}; empty while it listens on none.
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

# A port nothing on this machine uses right now (nginx cannot take port 0).
pick_port() {
  local used port hex _
  used=$(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
  for _ in {1..100}; do
    port=$((20000 + RANDOM % 30000))
    printf -v hex '%04X' "$port"
    grep -qx "$hex" <<<"$used" || { echo "$port"; return 0; }
  done
  return 1
}

# wait_http URL PID WHAT: until URL answers (any status), bounded to 10 s.
wait_http() {
  local url=$1 pid=$2 what=$3 i
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || return 1
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  fail "$what did not answer $url within 10 s"
}

start_nginx() {
  local dir=$tmp/nginx attempt temp_paths="" key
  mkdir -p "$dir"
  # Every temp path this build has, inside the temp dir, so that nginx never
  # touches /var/lib/nginx (it creates them at start-up even when unused).
  while read -r key _; do
    key=${key#--http-}
    key=${key%-temp-path}
    key=${key//-/_}
    mkdir -p "$dir/$key"
    temp_paths+="    ${key}_temp_path $dir/$key;"$'\n'
  done < <("$nginx_bin" -V 2>&1 | tr ' ' '\n' | grep -E '^--http-[a-z-]+-temp-path=' | tr '=' ' ')
  for attempt in 1 2 3 4 5; do
    nginx_port=$(pick_port) || fail "found no free port for nginx"
    cat >"$dir/nginx.conf" <<EOF
# Generated by bench/run.sh: a fixed ${#fixed_body}-byte JSON body for every request.
daemon off;
master_process on;
worker_processes $nginx_workers;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    server_tokens off;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
${temp_paths}    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            default_type application/json;
            return 200 '$fixed_body';
        }
    }
}
EOF
    "$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >>"$dir/stdout.log" 2>&1 &
    nginx_pid=$!
    if wait_http "http://127.0.0.1:$nginx_port/" "$nginx_pid" nginx; then
      return 0
    fi
    wait "$nginx_pid" 2>/dev/null || true
    grep -q 'Address already in use' "$dir/error.log" 2>/dev/null ||
      fail "nginx failed to start: $(tail -n 3 "$dir/error.log" 2>/dev/null)"
    say "bench: port $nginx_port was taken meanwhile, trying another (attempt $attempt)"
  done
  fail "nginx found no free port"
}

# start_api [NAME=VALUE...]: the server, with these settings added.
start_api() {
  local i
  # Default settings, access logs on, as a user runs it (LOG_LEVEL=warning
  # in the environment measures without them).
  env DATABASE_URL="$database_url" HOST=127.0.0.1 PORT=0 OPS_PORT=0 THREADS="$server_threads" LOG_LEVEL="${LOG_LEVEL:-info}" \
    "$@" "$binary" serve >>"$tmp/users-api.log" 2>&1 &
  api_pid=$!
  api_port=""
  for ((i = 0; i < 100; i++)); do
    check_alive "$api_pid" users-api "at start-up"
    api_port=$(listening_port "$api_pid")
    [[ -n $api_port ]] && break
    sleep 0.1
  done
  [[ -n $api_port ]] || fail "users-api did not listen within 10 s"
  wait_http "http://127.0.0.1:$api_port/api/" "$api_pid" users-api || check_alive "$api_pid" users-api "at start-up"
}

# check_alive PID NAME WHEN: fail, saying how, if the process has stopped.
check_alive() {
  local status=0
  alive "$1" && return 0
  wait "$1" 2>/dev/null || status=$?
  [[ $1 == "$api_pid" ]] && api_pid=""
  [[ $1 == "$nginx_pid" ]] && nginx_pid=""
  fail "$2 stopped $3 ($(describe_exit "$status"); this script did not stop it)"
}

# count_users: how many users GET /api/users/ lists.
count_users() {
  curl -sS --fail --max-time 300 -o "$tmp/list.json" "$api/api/users/" || fail "GET /api/users/ failed"
  { grep -o '"id":' "$tmp/list.json" || true; } | wc -l
}

# ---- numbers --------------------------------------------------------------
# median FORMAT VALUE...
median() {
  local format=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v format="$format" '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "null"; exit }
      printf format "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}
# cpu_ticks PID...: user + system CPU time the processes (all their threads)
# have used, in clock ticks.
cpu_ticks() {
  local total=0 pid stat fields
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    read -r -a fields <<<"$stat"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}
clock_ticks=$(getconf CLK_TCK)
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# Per case (get_one, list, post, nginx_get, nginx_post), space-separated
# samples of every round, and sums.
declare -A rps_samples=() p99_samples=() cpu_samples=() non2xx_total=() socket_total=() statuses_seen=() rounds_json=()
declare -A created_samples=() created_total=() ok_total=()

# Extra wrk options (-H "Authorization: ..." for the auth cases).
wrk_headers=()

# bench_run CASE URL SCRIPT [ARGS...]: one wrk run, recorded under CASE,
# with the CPU time the server (users-api, or nginx's master and workers for
# the nginx_* cases) used meanwhile.
bench_run() {
  local case_name=$1 url=$2 script=$3 out line kv rps p99 sockets round_json ticks cpu_us
  local -a server_pids=("$api_pid")
  shift 3
  if [[ $case_name == nginx_* ]]; then
    mapfile -t server_pids < <(echo "$nginx_pid"; pgrep -P "$nginx_pid")
  fi
  out=$tmp/wrk.txt
  local -a extra=()
  [[ $# -gt 0 ]] && extra=(-- "$@")
  if [[ $case_name == nginx_* ]]; then check_alive "$nginx_pid" nginx "before the $case_name run"; else
    check_alive "$api_pid" users-api "before the $case_name run"
  fi
  ticks=$(cpu_ticks "${server_pids[@]}")
  if ! wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency "${wrk_headers[@]}" \
    -s "$bench_dir/wrk/$script" "$url" "${extra[@]}" >"$out" 2>&1; then
    cat "$out" >&2
    fail "wrk failed for $case_name"
  fi
  ticks=$(($(cpu_ticks "${server_pids[@]}") - ticks))
  if [[ $case_name == nginx_* ]]; then check_alive "$nginx_pid" nginx "during the $case_name run"; else
    check_alive "$api_pid" users-api "during the $case_name run"
  fi
  {
    printf '=== %s round %s: %s\n' "$case_name" "$round" "$url"
    cat "$out"
  } >>"$log_file"
  line=$(grep '^BENCH-RESULT ' "$out") || fail "wrk printed no result for $case_name"
  declare -A r=()
  # shellcheck disable=SC2086 # key=value words, split on purpose
  for kv in ${line#BENCH-RESULT }; do r[${kv%%=*}]=${kv#*=}; done
  rps=$(calc '%.1f' "${r[requests]} / (${r[duration_us]} / 1000000)")
  p99=$(calc '%.3f' "${r[p99_us]} / 1000")
  sockets=$((r[connect] + r[read] + r[write] + r[timeout]))
  cpu_us=$(calc '%.1f' "$ticks * 1000000 / $clock_ticks / (${r[requests]} > 0 ? ${r[requests]} : 1)")
  cpu_samples[$case_name]+=" $cpu_us"
  rps_samples[$case_name]+=" $rps"
  p99_samples[$case_name]+=" $p99"
  non2xx_total[$case_name]=$((${non2xx_total[$case_name]:-0} + r[non2xx]))
  socket_total[$case_name]=$((${socket_total[$case_name]:-0} + sockets))
  ok_total[$case_name]=$((${ok_total[$case_name]:-0} + r[ok]))
  [[ ${r[statuses]} != - ]] && statuses_seen[$case_name]+="${statuses_seen[$case_name]:+,}${r[statuses]}"
  last_ok=${r[ok]}
  last_duration_us=${r[duration_us]}
  round_json=$(printf '{"round":%d,"requests":%d,"duration_s":%s,"requests_per_s":%s,"p50_ms":%s,"p99_ms":%s,"max_ms":%s,"server_cpu_us_per_request":%s,"non2xx":%d,"statuses":%s,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}' \
    "$round" "${r[requests]}" "$(calc '%.3f' "${r[duration_us]} / 1000000")" "$rps" \
    "$(calc '%.3f' "${r[p50_us]} / 1000")" "$p99" "$(calc '%.3f' "${r[max_us]} / 1000")" "$cpu_us" \
    "${r[non2xx]}" "$(json_string "${r[statuses]/#-/}")" "${r[connect]}" "${r[read]}" "${r[write]}" "${r[timeout]}")
  rounds_json[$case_name]+="${rounds_json[$case_name]:+,}$round_json"
  printf '  %-10s round %d/%d: %10s req/s  p99 %8s ms  server CPU %6s us/req  non-2xx %d  socket errors %d\n' \
    "$case_name" "$round" "$rounds" "$rps" "$p99" "$cpu_us" "${r[non2xx]}" "$sockets"
}
# syscalls_per_request CASE URL PID...: system calls the processes make per
# request over one wrk run (not one of the measured rounds), counted with
# perf's raw_syscalls tracepoint when perf can read it (little overhead), else
# with strace -c -f (which slows the server, so requests batch differently;
# the note says which). Recorded in syscalls[CASE] and syscall_detail[CASE].
declare -A syscalls=() syscall_detail=()
syscall_counter=none
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -x, -- true >/dev/null 2>&1; then
  syscall_counter=perf
elif command -v strace >/dev/null; then
  syscall_counter=strace
fi
syscalls_per_request() {
  local case_name=$1 url=$2 counter_pid total requests pids
  shift 2
  pids=$(IFS=,; echo "$*")
  case $syscall_counter in
    perf)
      perf stat -e raw_syscalls:sys_enter -x, -p "$pids" -o "$tmp/syscalls.txt" -- sleep 3 &
      ;;
    strace)
      # shellcheck disable=SC2046 # one -p per process
      timeout -s INT 3 strace -c -f $(printf -- '-p %s ' "$@") -o "$tmp/syscalls.txt" 2>/dev/null &
      ;;
    *)
      syscalls[$case_name]=null
      syscall_detail[$case_name]="skipped: neither perf nor strace (scripts/install-deps bench installs strace)"
      return 0
      ;;
  esac
  counter_pid=$!
  sleep 0.3
  wrk -t"$wrk_threads" -c"$connections" -d2s -s "$bench_dir/wrk/get.lua" "$url" >"$tmp/syscalls-wrk.txt" 2>&1 ||
    fail "wrk failed while counting system calls for $case_name"
  wait "$counter_pid" 2>/dev/null || true
  requests=$(grep '^BENCH-RESULT ' "$tmp/syscalls-wrk.txt" | tr ' ' '\n' | sed -n 's/^requests=//p')
  if [[ $syscall_counter == perf ]]; then
    total=$(awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$tmp/syscalls.txt")
    syscall_detail[$case_name]="perf stat -e raw_syscalls:sys_enter"
  else
    total=$(awk '$NF == "total" { print $(NF-2) }' "$tmp/syscalls.txt")
    syscall_detail[$case_name]="strace -c -f: $(awk 'NR > 2 && $NF != "total" && $NF !~ /^-/ && $4 ~ /^[0-9]+$/ { printf "%s%s %s", sep, $NF, $4; sep=", " }' "$tmp/syscalls.txt" | cut -c1-200)"
  fi
  if [[ -z $total || -z $requests || $requests -eq 0 ]]; then
    syscalls[$case_name]=null
    syscall_detail[$case_name]="not counted: $syscall_counter printed no total"
    return 0
  fi
  syscalls[$case_name]=$(calc '%.2f' "$total / $requests")
  printf '  %-14s %s system calls per request (%s over %d requests, %s)\n' "$case_name" "${syscalls[$case_name]}" \
    "$total" "$requests" "$syscall_counter"
}

# Closes the round's JSON object opened by bench_run (POST adds fields first).
close_round() { rounds_json[$1]+="${2:-}}"; }

# ---- credentials for the auth cases ------------------------------------------
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# AUTH_MODE=token: a tokens file with one reader; prints the token.
make_api_token() {
  local token
  token=$(head -c 32 /dev/urandom | b64url)
  printf 'bench users:read %s\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" >"$tmp/tokens"
  printf '%s' "$token"
}

# AUTH_MODE=jwt: an Ed25519 key, its JWKS file, and an access token signed
# with it (openssl's CLI signs Ed25519 raw, as JWS wants it); prints the token.
make_jwt() {
  local x header payload signature now
  openssl genpkey -algorithm ed25519 -out "$tmp/jwt-key.pem" 2>/dev/null
  x=$(openssl pkey -in "$tmp/jwt-key.pem" -pubout -outform DER | tail -c 32 | b64url)
  printf '{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"bench","alg":"EdDSA","use":"sig","x":"%s"}]}' "$x" \
    >"$tmp/jwks.json"
  now=$(date +%s)
  header=$(printf '{"alg":"EdDSA","kid":"bench","typ":"JWT"}' | b64url)
  payload=$(printf '{"iss":"https://issuer.bench/","aud":"users-api","sub":"bench","iat":%d,"exp":%d,"scope":"users:read"}' \
    "$now" "$((now + 3600))" | b64url)
  printf '%s.%s' "$header" "$payload" >"$tmp/jwt-input"
  signature=$(openssl pkeyutl -sign -inkey "$tmp/jwt-key.pem" -rawin -in "$tmp/jwt-input" | b64url)
  printf '%s.%s.%s' "$header" "$payload" "$signature"
}

# restart_api [NAME=VALUE...]: a new server on the same database.
restart_api() {
  stop_process "$api_pid" users-api 25
  api_pid=""
  start_api "$@"
  api="http://127.0.0.1:$api_port"
}

# ---- run ------------------------------------------------------------------
if [[ -n ${DATABASE_URL:-} ]]; then
  database_url=$DATABASE_URL
else
  database_url="sqlite:///$tmp/db.sqlite3"
fi
backend=${database_url%%:*}
if [[ $backend == postgres* ]]; then
  target_get_one=${TARGET_GET_ONE:-0.5}
  target_list=${TARGET_LIST:-0.3}
  target_created_per_s=${TARGET_CREATED_PER_S:-10000}
else
  target_get_one=${TARGET_GET_ONE:-0.8}
  target_list=${TARGET_LIST:-0.5}
  target_created_per_s=${TARGET_CREATED_PER_S:-25000}
fi
target_auth=${TARGET_AUTH:-0.9}
mkdir -p "$results_dir"
log_file=$results_dir/latest.log
rm -f "$results_dir/latest.json"
: >"$log_file"
round=0

start_nginx
nginx_url="http://127.0.0.1:$nginx_port/"
headers=$(curl -sS --max-time 5 -D - -o "$tmp/nginx-body" "$nginx_url")
body_bytes=$(wc -c <"$tmp/nginx-body")
[[ $body_bytes -eq ${#fixed_body} && $(cat "$tmp/nginx-body") == "$fixed_body" ]] ||
  fail "nginx answered a $body_bytes-byte body, not the ${#fixed_body}-byte $fixed_body"
grep -qi '^content-type: application/json' <<<"$headers" || fail "nginx's Content-Type is not application/json"

start_api
api="http://127.0.0.1:$api_port"
existing=$(count_users)
[[ $existing -eq 0 ]] || fail "the database already holds $existing users; the bench needs an empty one"
# The first user is the one nginx's body shows, so that GET one user answers
# the same 34 bytes as nginx (on a fresh database its id is 1, as there). The
# other 99 go in one curl run (one process, one keep-alive connection).
code=$(curl -sS --max-time 10 -o "$tmp/seed.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data '{"dni":"0987","name":"Ana"}' "$api/api/users/")
[[ $code == 201 ]] || fail "seeding the first user: HTTP $code $(cat "$tmp/seed.json")"
first_id=$(grep -o '"id":[0-9]*' "$tmp/seed.json" | head -n 1 | cut -d: -f2)
for ((i = 2; i <= seed_users; i++)); do
  printf 'url = "%s"\nheader = "Content-Type: application/json"\n' "$api/api/users/"
  printf 'data = "{\\"dni\\":\\"seed%d\\",\\"name\\":\\"Seed User %d\\"}"\n' "$i" "$i"
  printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
  ((i == seed_users)) || printf 'next\n'
done >"$tmp/seed.curl"
codes=$(curl -sS --max-time 60 -K "$tmp/seed.curl" | sort | uniq -c | tr -s ' ')
[[ $codes == " $((seed_users - 1)) 201" ]] || fail "seeding: the answers were ($codes), not all 201"
[[ $(count_users) -eq $seed_users ]] || fail "after seeding, the list does not hold $seed_users users"
one_url="$api/api/users/$first_id/"
list_url="$api/api/users/"
one_body=$(curl -sS --max-time 5 "$one_url")
[[ $one_body == "{\"id\":$first_id,\"dni\":\"0987\",\"name\":\"Ana\"}" ]] ||
  fail "GET $one_url answers $one_body, not the first seeded user"

say "users-api $("$binary" --version 2>/dev/null | head -n 1) ($backend, THREADS=$server_threads) on :$api_port," \
  "nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///') (workers=$nginx_workers) on :$nginx_port"
say "wrk -t$wrk_threads -c$connections -d$duration, $rounds round(s), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ $warmup != 0 ]]; then
  wrk -t"$wrk_threads" -c"$connections" -d"$warmup" "$one_url" >/dev/null 2>&1 || fail "warm-up against users-api failed"
  wrk -t"$wrk_threads" -c"$connections" -d"$warmup" "$nginx_url" >/dev/null 2>&1 || fail "warm-up against nginx failed"
fi

say "GET one user: $one_url"
for ((round = 1; round <= rounds; round++)); do
  bench_run get_one "$one_url" get.lua
  close_round get_one
  bench_run nginx_get "$nginx_url" get.lua
  close_round nginx_get
done

# GET one user again with credentials, against the same GET without them,
# each on a server of its own (restarted on the same database) and
# alternating within each round.
api_token=$(make_api_token)
jwt=$(make_jwt)
user_path="/api/users/$first_id/"
say "GET one user with AUTH_MODE=token and AUTH_MODE=jwt, with LOG_LEVEL=warning, and without either: $user_path"
for ((round = 1; round <= rounds; round++)); do
  restart_api AUTH_MODE=token API_TOKENS_FILE="$tmp/tokens"
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Token $api_token" "$api$user_path")
  [[ $code == 200 ]] || fail "AUTH_MODE=token: GET $user_path answered $code"
  wrk_headers=(-H "Authorization: Token $api_token")
  bench_run get_one_token "$api$user_path" get.lua
  close_round get_one_token
  restart_api AUTH_MODE=jwt JWT_JWKS_FILE="$tmp/jwks.json" JWT_ISSUER=https://issuer.bench/ JWT_AUDIENCE=users-api
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $jwt" "$api$user_path")
  [[ $code == 200 ]] || fail "AUTH_MODE=jwt: GET $user_path answered $code"
  wrk_headers=(-H "Authorization: Bearer $jwt")
  bench_run get_one_jwt "$api$user_path" get.lua
  close_round get_one_jwt
  wrk_headers=()
  restart_api LOG_LEVEL=warning
  bench_run get_one_quiet "$api$user_path" get.lua
  close_round get_one_quiet
  if ((round == rounds)); then syscalls_per_request get_one_quiet "$api$user_path" "$api_pid"; fi
  restart_api
  bench_run get_one_noauth "$api$user_path" get.lua
  close_round get_one_noauth
done
say "System calls per keep-alive GET of one user (one more wrk -d2s run each, not one of the rounds above):"
syscalls_per_request get_one "$api$user_path" "$api_pid"
mapfile -t nginx_pids < <(echo "$nginx_pid"; pgrep -P "$nginx_pid")
syscalls_per_request nginx_get "$nginx_url" "${nginx_pids[@]}"
one_url="$api$user_path"
list_url="$api/api/users/"

say "GET the list of $seed_users: $list_url"
for ((round = 1; round <= rounds; round++)); do
  bench_run list "$list_url" get.lua
  close_round list
  bench_run nginx_get "$nginx_url" get.lua
  close_round nginx_get
done

say "POST new users: $list_url"
for ((round = 1; round <= rounds; round++)); do
  before=$(count_users)
  bench_run post "$list_url" post.lua "$round"
  after=$(count_users)
  created=$((after - before))
  created_rate=$(calc '%.1f' "$created / ($last_duration_us / 1000000)")
  created_samples[post]+=" $created_rate"
  created_total[post]=$((${created_total[post]:-0} + created))
  # wrk counts the answers it got before it stopped; up to one request per
  # connection may have been written without its answer being counted.
  if ((created < last_ok)); then
    say "  WARNING: $last_ok POSTs answered 2xx but only $created users were created"
  elif ((created > last_ok + connections)); then
    say "  WARNING: $created users were created but only $last_ok POSTs answered 2xx"
  fi
  printf '  %-10s round %d/%d: %10s created users/s (%d created, %d answered 2xx)\n' \
    post "$round" "$rounds" "$created_rate" "$created" "$last_ok"
  close_round post "$(printf ',"created_users":%d,"created_per_s":%s' "$created" "$created_rate")"
  bench_run nginx_post "$nginx_url" post.lua "$round"
  close_round nginx_post
done

# ---- report ---------------------------------------------------------------
all_cases="get_one list post get_one_token get_one_jwt get_one_quiet get_one_noauth nginx_get nginx_post"
declare -A rps_median=() p99_median=() cpu_median=()
for c in $all_cases; do
  # shellcheck disable=SC2086 # the samples are space-separated numbers
  rps_median[$c]=$(median %.1f ${rps_samples[$c]})
  # shellcheck disable=SC2086
  p99_median[$c]=$(median %.3f ${p99_samples[$c]})
  # shellcheck disable=SC2086
  cpu_median[$c]=$(median %.1f ${cpu_samples[$c]})
done
# shellcheck disable=SC2086
created_median=$(median %.1f ${created_samples[post]})

declare -A label=(
  [get_one]="GET /api/users/$first_id/"
  [list]="GET /api/users/ ($seed_users)"
  [post]="POST /api/users/"
  [get_one_token]="GET one, AUTH_MODE=token"
  [get_one_jwt]="GET one, AUTH_MODE=jwt"
  [get_one_quiet]="GET one, LOG_LEVEL=warning"
  [get_one_noauth]="GET one, no auth (same)"
  [nginx_get]="nginx GET fixed ${#fixed_body} B"
  [nginx_post]="nginx POST fixed ${#fixed_body} B"
)
# The auth cases' baseline is the same GET without auth, on a server started
# the same way in the same rounds.
declare -A baseline=([get_one]=nginx_get [list]=nginx_get [post]=nginx_post [get_one_token]=get_one_noauth
  [get_one_jwt]=get_one_noauth [get_one_quiet]=nginx_get)
declare -A ratio=() target_text=() target_met=()
all_met=true
for c in get_one list post get_one_token get_one_jwt get_one_quiet; do
  ratio[$c]=$(calc '%.3f' "${rps_median[$c]} / ${rps_median[${baseline[$c]}]}")
done
check_target() { # case text condition
  target_text[$1]=$2
  if [[ $(calc '%d' "($3) ? 1 : 0") == 1 && ${non2xx_total[$1]} -eq 0 ]]; then
    target_met[$1]=true
  else
    target_met[$1]=false
    all_met=false
  fi
}
check_target get_one ">= ${target_get_one}x nginx" "${ratio[get_one]} >= $target_get_one"
check_target list ">= ${target_list}x nginx" "${ratio[list]} >= $target_list"
check_target post ">= $target_created_per_s created/s" "$created_median >= $target_created_per_s"
check_target get_one_token ">= ${target_auth}x no auth" "${ratio[get_one_token]} >= $target_auth"
check_target get_one_jwt ">= ${target_auth}x no auth" "${ratio[get_one_jwt]} >= $target_auth"
check_target get_one_quiet ">= ${target_get_one}x nginx" "${ratio[get_one_quiet]} >= $target_get_one"

say ""
printf '%-24s %10s %8s %8s %8s %8s %8s  %s\n' case "req/s" "p99 ms" "x base" "CPU us" "non-2xx" "sock err" "target"
for c in $all_cases; do
  shown_ratio="-" t=""
  if [[ -n ${baseline[$c]:-} ]]; then
    shown_ratio=${ratio[$c]}
    t="${target_text[$c]}, no non-2xx: $([[ ${target_met[$c]} == true ]] && echo met || echo MISSED)"
  fi
  printf '%-24s %10s %8s %8s %8s %8s %8s  %s\n' "${label[$c]}" "${rps_median[$c]}" "${p99_median[$c]}" "$shown_ratio" \
    "${cpu_median[$c]}" "${non2xx_total[$c]}" "${socket_total[$c]}" "$t"
done
printf '%-24s %10s created users/s (median; %d users created in all, %d POSTs answered 2xx)\n' \
  "POST created" "$created_median" "${created_total[post]}" "${ok_total[post]}"
for c in $all_cases; do
  [[ -n ${statuses_seen[$c]:-} ]] && say "non-2xx statuses in $c: ${statuses_seen[$c]}"
done
for c in get_one get_one_quiet nginx_get; do
  [[ -n ${syscalls[$c]:-} ]] && printf '%-24s %s system calls per request (%s)\n' "${label[$c]}" "${syscalls[$c]}" "${syscall_detail[$c]}"
done
say "x base: against nginx, or (auth cases) against the same GET without auth"
say "medians over $rounds round(s); CPU us = server CPU time (user + system, all threads or workers) per request"
say "raw wrk output: $log_file"

{
  printf '{\n'
  printf '  "generated_at": %s,\n' "$(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "commit": %s,\n' "$(json_string "$(git -C "$root_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)")"
  printf '  "users_api_version": %s,\n' "$(json_string "$("$binary" --version 2>/dev/null | head -n 1)")"
  printf '  "machine": {"cores": %d, "load_average_at_end": %s},\n' "$(nproc)" \
    "$(json_string "$(cut -d' ' -f1-3 /proc/loadavg)")"
  printf '  "settings": {"backend": %s, "duration": %s, "rounds": %d, "wrk_threads": %d, "connections": %d, "server_threads": %d, "nginx_workers": %d, "seed_users": %d},\n' \
    "$(json_string "$backend")" "$(json_string "$duration")" "$rounds" "$wrk_threads" "$connections" \
    "$server_threads" "$nginx_workers" "$seed_users"
  printf '  "nginx_body": %s,\n' "$(json_string "$fixed_body")"
  printf '  "cases": [\n'
  sep=""
  for c in $all_cases; do
    printf '%s    {"case": %s, "label": %s, "requests_per_s_median": %s, "p99_ms_median": %s, "server_cpu_us_per_request_median": %s, "non2xx": %d, "non2xx_statuses": %s, "socket_errors": %d' \
      "$sep" "$(json_string "$c")" "$(json_string "${label[$c]}")" "${rps_median[$c]}" "${p99_median[$c]}" "${cpu_median[$c]}" \
      "${non2xx_total[$c]}" "$(json_string "${statuses_seen[$c]:-}")" "${socket_total[$c]}"
    if [[ -n ${baseline[$c]:-} ]]; then
      printf ', "baseline": %s, "ratio_to_baseline": %s, "target": %s, "target_met": %s' \
        "$(json_string "${baseline[$c]}")" "${ratio[$c]}" "$(json_string "${target_text[$c]}, no non-2xx")" \
        "${target_met[$c]}"
    fi
    if [[ -n ${syscalls[$c]:-} ]]; then
      printf ', "syscalls_per_request": %s, "syscalls_counted_by": %s' "${syscalls[$c]}" "$(json_string "${syscall_detail[$c]}")"
    fi
    if [[ $c == post ]]; then
      printf ', "created_users": %d, "answered_2xx": %d, "created_per_s_median": %s' \
        "${created_total[post]}" "${ok_total[post]}" "$created_median"
    fi
    printf ', "rounds": [%s]}' "${rounds_json[$c]}"
    sep=$',\n'
  done
  printf '\n  ],\n'
  printf '  "all_targets_met": %s\n' "$all_met"
  printf '}\n'
} >"$results_dir/latest.json.tmp"
mv "$results_dir/latest.json.tmp" "$results_dir/latest.json"
say "results: $results_dir/latest.json"

if [[ $strict == 1 && $all_met != true ]]; then
  fail "a target was missed (STRICT=1)"
fi
