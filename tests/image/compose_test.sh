#!/usr/bin/env bash
# compose.yaml for real, with Debian's podman-compose: `up -d`, wait for
# /readyz 200, create a user, `down` (the volume stays), `up -d` again, the
# user is still there (it lives in PostgreSQL's named volume). Also checks
# what compose.yaml promises: the password in no container's environment,
# read-only root and no capabilities for users-api, both health checks
# passing; the ops port (9000) published on 127.0.0.1 only, /metrics on it
# and 404 on the API port, /healthz on both. Everything it creates
# (containers, the volume, the network) is removed at the end, on failure too.
#
# It does not build the users-api image: it uses $USERS_API_IMAGE (default
# localhost/users-api:dev, from `make image` or ctest's image.build). The
# official postgres image cannot be pulled here: scripts/image/lib.sh builds
# a stand-in from Debian's postgresql-15 under its name when it is missing.
#
# It runs a copy of compose.yaml in a temporary project directory, byte for
# byte (only the users-api image line changes when USERS_API_IMAGE names
# another image), with secrets made there by scripts/compose-secrets.sh, a
# unique project name and free host ports (USERS_API_PORT, and
# USERS_API_OPS_PORT on 127.0.0.1 for the ops port): the work tree's
# own ./secrets and any running stack are left alone.
# Usage: tests/image/compose_test.sh          Exit: 0 pass, 1 fail, 77 skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/image/lib.sh
source "$root/scripts/image/lib.sh"
# shellcheck source=tests/image/test_lib.sh
source "$root/tests/image/test_lib.sh"

image=${USERS_API_IMAGE:-localhost/users-api:dev}
project="users-api-compose-test-$$"
tmp=$(mktemp -d /tmp/users-api-compose-test.XXXXXX)
log="$tmp/compose.log"
compose_version=""
# Anonymous volumes of the project's containers (the image's VOLUME /data):
# podman-compose down -v removes only the named ones.
anonymous_volumes=()

cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  if [ "$rc" -ne 0 ] && [ -n "${compose_ready:-}" ]; then
    echo "--- podman-compose log (last 40 lines)"
    tail -n 40 "$log" | indent
    for c in $(image_podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}' 2>/dev/null); do
      echo "--- logs of $c (last 20 lines)"
      image_podman logs "$c" 2>&1 | tail -n 20 | indent
    done
  fi
  if [ -n "${compose_ready:-}" ]; then
    say "cleaning up: podman-compose down -v, then anything labelled with project $project"
    compose down -v -t 10 >>"$log" 2>&1
  fi
  # podman-compose 1.0.3 leaves the network, and a failed `up` may leave more.
  image_podman ps -a -q --filter "label=io.podman.compose.project=$project" 2>/dev/null |
    xargs -r podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs rm -f -v -t 0 >/dev/null 2>&1
  image_podman volume ls -q --filter "label=io.podman.compose.project=$project" 2>/dev/null |
    xargs -r podman --storage-driver vfs volume rm -f >/dev/null 2>&1
  image_podman network rm -f "${project}_default" >/dev/null 2>&1
  for v in "${anonymous_volumes[@]}"; do
    image_podman volume rm -f "$v" >/dev/null 2>&1
  done
  local left
  left=$( (image_podman ps -a -q --filter "label=io.podman.compose.project=$project"
    image_podman volume ls -q --filter "label=io.podman.compose.project=$project"
    image_podman network ls -q --filter "name=^${project}_"
    for v in "${anonymous_volumes[@]}"; do image_podman volume exists "$v" && echo "$v"; done) 2>/dev/null | wc -l)
  if [ "$left" -ne 0 ]; then
    echo "FAIL: cleanup left $left container(s), volume(s) or network(s) of project $project" >&2
    [ "$rc" -eq 0 ] && rc=1
  else
    say "cleaned up: no container, volume or network of project $project is left"
  fi
  rm -rf "$tmp"
  if [ "$rc" -eq 0 ]; then say "PASS: compose (podman-compose $compose_version)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Tools ---------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null && ! command -v podman-compose >/dev/null; then
  skip "podman-compose is missing and cannot be installed (neither root nor sudo)"
fi
image_install_tools
# podman-compose; the CNI dnsname plugin, so that containers on the project's
# network find each other by service name (podman 4.3 here uses CNI); curl.
image_apt_install podman-compose golang-github-containernetworking-plugin-dnsname curl
image_setup_env
compose_version=$(podman-compose version 2>/dev/null | sed -n 's/^podman-composer* version *//p' | head -n 1)

image_podman image exists "$image" ||
  fail "the image $image is not in podman's storage: build it first (make image, or ctest's image.build)"
image_prepare_postgres "$IMAGE_POSTGRES_NAME"
say "images: $image ($(image_size "$image") bytes), $IMAGE_POSTGRES_NAME ($(
  image_podman image inspect --format '{{index .Labels "org.users-api.standin-recipe"}}' "$IMAGE_POSTGRES_NAME" |
    sed 's/^<no value>$/the official image/; s/^[0-9a-f]\{12\}$/stand-in built from Debian packages/'))"

# --- The project: compose.yaml, its secrets, a port ---------------------------
mkdir -p "$tmp/project" "$tmp/bin"
cp "$root/compose.yaml" "$tmp/project/compose.yaml"
if [ "$image" != localhost/users-api:dev ]; then
  sed -i "s|^    image: localhost/users-api:dev\$|    image: $image|" "$tmp/project/compose.yaml"
  say "using $image for the users-api service instead of localhost/users-api:dev"
fi
"$root/scripts/compose-secrets.sh" "$tmp/project/secrets" >/dev/null
password=$(cat "$tmp/project/secrets/postgres_password")
port=$(free_port) || fail "no free TCP port below the ephemeral range"
export USERS_API_PORT=$port
base="http://127.0.0.1:$port"
ops_port=$(free_port) || fail "no free TCP port below the ephemeral range"
while [ "$ops_port" = "$port" ]; do ops_port=$(free_port) || fail "no free TCP port below the ephemeral range"; done
export USERS_API_OPS_PORT=127.0.0.1:$ops_port
ops="http://127.0.0.1:$ops_port"
# compose.yaml's own default keeps the ops port on the loopback.
# shellcheck disable=SC2016 # the literal text of compose.yaml
grep -qF -- '- "${USERS_API_OPS_PORT:-127.0.0.1:9000}:9000"' "$tmp/project/compose.yaml" ||
  fail "compose.yaml does not publish the ops port as \${USERS_API_OPS_PORT:-127.0.0.1:9000}:9000"
# podman with this machine's flags (shared/notes/containers.md) for every call
# podman-compose makes.
cat >"$tmp/bin/podman" <<EOF
#!/bin/sh
exec $(command -v podman) --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "\$@"
EOF
chmod +x "$tmp/bin/podman"
compose() {
  podman-compose --podman-path "$tmp/bin/podman" --podman-run-args='--ulimit host' \
    -p "$project" -f "$tmp/project/compose.yaml" "$@"
}
compose_ready=1
say "project $project: a copy of compose.yaml in $tmp/project, new secrets, USERS_API_PORT=$port, USERS_API_OPS_PORT=$USERS_API_OPS_PORT"

container_of() { image_podman ps -q --filter "label=io.podman.compose.project=$project" \
  --filter "label=com.docker.compose.service=$1" | head -n 1; }

# up_and_ready WHICH: podman-compose up -d, both containers running, then
# /readyz 200 within 120 s (the first start runs initdb).
up_and_ready() {
  local started
  started=$(now_ms)
  compose up -d >>"$log" 2>&1 || fail "podman-compose up -d ($1) failed" "$(tail -n 20 "$log")"
  local up_ms=$(($(now_ms) - started))
  [ -n "$(container_of users-api)" ] || fail "users-api is not running after up -d ($1)"
  [ -n "$(container_of postgres)" ] || fail "postgres is not running after up -d ($1)"
  say "podman-compose up -d ($1): both containers running after $up_ms ms"
  local c v
  for c in $(image_podman ps -a -q --filter "label=io.podman.compose.project=$project"); do
    for v in $(image_podman inspect --format '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' "$c"); do
      [ "$v" = "${project}_postgres-data" ] || anonymous_volumes+=("$v")
    done
  done
  if ! wait_status "$base/readyz" 200 120; then
    fail "/readyz did not answer 200 within 120 s ($1); last: $(curl -s --max-time 2 "$base/readyz")"
  fi
  say "GET /readyz 200 after $(($(now_ms) - started)) ms from up -d ($1)"
}

# --- First start ----------------------------------------------------------------
up_and_ready "first start"
api=$(container_of users-api)
db=$(container_of postgres)

dni="C$$"
dni=${dni:0:13}
created=$(curl -s --max-time 5 -H 'Content-Type: application/json' -w '\n%{http_code}' \
  -d "{\"dni\":\"$dni\",\"name\":\"Compose\"}" "$base/api/users/")
[ "$(tail -n 1 <<<"$created")" = 201 ] || fail "POST /api/users/ answered $(tail -n 1 <<<"$created")" "$created"
user=$(head -n 1 <<<"$created")
id=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' <<<"$user")
[ -n "$id" ] || fail "no id in the created user: $user"
say "POST /api/users/ -> 201 $user"

# What compose.yaml promises about the containers.
for c in "$api" "$db"; do
  env_json=$(image_podman inspect --format '{{json .Config.Env}}' "$c")
  if grep -qF "$password" <<<"$env_json"; then
    fail "the password is in the environment of $(image_podman inspect --format '{{.Name}}' "$c")"
  fi
done
say "the password is in neither container's environment (secrets: DATABASE_URL_FILE, POSTGRES_PASSWORD_FILE)"
[ "$(image_podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$api")" = true ] ||
  fail "users-api's root file system is not read-only"
api_pid=$(image_podman inspect --format '{{.State.Pid}}' "$api")
cap_eff=$(awk '/^CapEff:/ {print $2}' "/proc/$api_pid/status")
[ "$cap_eff" = 0000000000000000 ] || fail "users-api has capabilities: CapEff $cap_eff"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$api_pid/status")
[ "$uid" = 10001 ] || fail "users-api runs as uid $uid, not 10001"
say "users-api: read-only root, CapEff 0, uid 10001"
# The ops port: published on 127.0.0.1 only; /healthz and /readyz on both
# ports, /metrics on the ops port only (404 on the API port), nothing else there.
published=$(image_podman port "$api" 9000/tcp 2>/dev/null || true)
[ "$published" = "127.0.0.1:$ops_port" ] || fail "the ops port 9000 is published as '$published', want 127.0.0.1:$ops_port only"
for url in "$base/healthz" "$base/readyz" "$ops/healthz" "$ops/readyz"; do
  [ "$(http_status "$url")" = 200 ] || fail "GET $url answered $(http_status "$url"), want 200"
done
metrics=$(curl -s --max-time 5 -w '\n%{http_code}' "$ops/metrics" || true)
[ "$(tail -n 1 <<<"$metrics")" = 200 ] || fail "GET $ops/metrics answered $(tail -n 1 <<<"$metrics"), want 200"
grep -q '^# TYPE users_api_http_requests_total counter$' <<<"$metrics" ||
  fail "GET $ops/metrics has no users_api_http_requests_total counter" "$(head -n 5 <<<"$metrics")"
[ "$(http_status "$base/metrics")" = 404 ] || fail "GET $base/metrics answered $(http_status "$base/metrics"), want 404 (ops port only)"
[ "$(http_status "$ops/api/users/")" = 404 ] || fail "GET $ops/api/users/ answered $(http_status "$ops/api/users/"), want 404 (ops paths only)"
say "ops port on 127.0.0.1:$ops_port only: /healthz, /readyz 200 on both ports; /metrics 200 there, 404 on the API port; /api/users/ 404 there"
health_test=$(image_podman inspect --format '{{json .Config.Healthcheck.Test}}' "$api")
[ "$health_test" = '["CMD","/usr/local/bin/users-api","healthcheck"]' ] ||
  fail "users-api's health check is $health_test, not the image's exec form"
# Without systemd podman schedules no health checks: run each once.
for c in "$api" "$db"; do
  name=$(image_podman inspect --format '{{.Name}}' "$c")
  ok=""
  for _ in $(seq 1 20); do
    if image_podman healthcheck run "$c" >/dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 1
  done
  [ -n "$ok" ] || fail "podman healthcheck run $name did not pass within 20 s"
  say "health check of $name: $(image_podman inspect --format '{{.State.Health.Status}}' "$c")"
done

# --- down (volume kept), up again ----------------------------------------------
started=$(now_ms)
compose down -t 30 >>"$log" 2>&1 || fail "podman-compose down failed" "$(tail -n 20 "$log")"
left=$(image_podman ps -a -q --filter "label=io.podman.compose.project=$project" | wc -l)
[ "$left" -eq 0 ] || fail "$left container(s) left after podman-compose down"
volume=$(image_podman volume ls -q --filter "label=io.podman.compose.project=$project")
[ -n "$volume" ] || fail "the PostgreSQL volume is gone after podman-compose down (without -v)"
say "podman-compose down in $(($(now_ms) - started)) ms: no container left, volume $volume kept"

up_and_ready "second start"
db=$(container_of postgres)
db_log=$(image_podman logs "$db" 2>&1)
if ! grep -q 'skipping initialization' <<<"$db_log"; then
  fail "postgres initialised a new cluster on the second start (volume not reused?)"
fi
again=$(curl -s --max-time 5 "$base/api/users/$id/")
[ "$again" = "$user" ] || fail "GET /api/users/$id/ after down and up" "got:  $again" "want: $user"
say "GET /api/users/$id/ after down and up -> $again (kept in the PostgreSQL volume)"
