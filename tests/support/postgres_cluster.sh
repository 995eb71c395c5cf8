#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: its own data directory, its
# own unix socket directory, trust on the socket, scram-sha-256 on TCP.
#
#   postgres_cluster.sh init DIR [--tcp]   lay out DIR (data, socket, url), do not start
#   postgres_cluster.sh start DIR [--tcp]  init if needed, then start (waits until it accepts)
#   postgres_cluster.sh stop DIR           fast shutdown, keeping the data
#   postgres_cluster.sh crash DIR          immediate shutdown (every backend quits at once), keeping committed data
#   postgres_cluster.sh destroy DIR        stop at once and remove DIR (its log is kept as DIR.last.log)
#   postgres_cluster.sh fresh DIR [--tcp]  destroy what an aborted run left, then start
#
# DIR/url holds the superuser's URL over the socket; with --tcp the cluster
# also listens on 127.0.0.1 at a free port, written to DIR/port. Without
# --tcp it listens on the socket only (port 5432 names the socket file), so
# any number of clusters coexist. initdb runs once into a template directory
# ($USERS_API_PG_TEMPLATE, default /tmp/users-api-pg-template-15), copied for
# each cluster. As root, the server runs as the `postgres` user (initdb and
# postgres refuse root). PostgreSQL 15 is installed from Debian if missing.
# USERS_API_PG_DURABLE=1 (the benchmark) keeps PostgreSQL's durable defaults
# (fsync, synchronous_commit) in a template of its own.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command="${1:-}"
dir="${2:-}"
tcp=no
[ "${3:-}" = "--tcp" ] && tcp=yes
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 init|start|stop|crash|destroy|fresh DIR [--tcp]" >&2; exit 2; }
durable="${USERS_API_PG_DURABLE:-0}"
if [ "$durable" = 1 ]; then
  template="${USERS_API_PG_TEMPLATE:-/tmp/users-api-pg-template-15-durable}"
else
  template="${USERS_API_PG_TEMPLATE:-/tmp/users-api-pg-template-15}"
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # From /: the caller's directory may be one postgres cannot enter (a clone
    # under /root), and pg_ctl then fails to stop or restart the server.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

owner() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }

ensure_installed() {
  [ -x "$bin/initdb" ] && return 0
  "$here/../../scripts/install-deps" test
  [ -x "$bin/initdb" ] || { echo "postgres_cluster: $bin/initdb is still missing" >&2; exit 1; }
}

# initdb once, under a lock, so that parallel tests share one template.
ensure_template() {
  mkdir -p "$(dirname "$template")"
  exec 9>"$template.lock"
  flock 9
  if [ ! -f "$template/PG_VERSION" ]; then
    rm -rf "$template.tmp"
    mkdir -p "$template.tmp"
    chown "$(owner)" "$template.tmp"
    as_owner "$bin/initdb" -D "$template.tmp" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$template.log" 2>&1 ||
      { cat "$template.log" >&2; exit 1; }
    # Socket: trust (tests connect as the superuser). TCP: passwords only,
    # so the secrets test really authenticates.
    cat >"$template.tmp/pg_hba.conf" <<'HBA'
local all all trust
host all all 127.0.0.1/32 scram-sha-256
HBA
    if [ "$durable" = 1 ]; then
      cat >>"$template.tmp/postgresql.conf" <<'CONF'
max_connections = 300
logging_collector = off
CONF
    else
      # Fast and small: the tests check behaviour, not durability on power loss.
      cat >>"$template.tmp/postgresql.conf" <<'CONF'
fsync = off
full_page_writes = off
synchronous_commit = off
shared_buffers = 32MB
max_connections = 300
logging_collector = off
CONF
    fi
    mv "$template.tmp" "$template"
  fi
  flock -u 9
}

do_init() {
  ensure_installed
  ensure_template
  mkdir -p "$dir"
  rm -rf "$dir/data" "$dir/socket"
  cp -a "$template" "$dir/data"
  mkdir -p "$dir/socket"
  : >"$dir/log"
  chown -R "$(owner)" "$dir/data" "$dir/socket" "$dir/log"
  chmod 700 "$dir/data"
  # The socket directory must be reachable by the owner through DIR's parents.
  chmod 755 "$dir"
  local port=5432
  echo "$tcp" >"$dir/tcp"
  echo "$port" >"$dir/port"
  echo "postgresql://postgres@/postgres?host=$dir/socket&port=$port" >"$dir/url"
}

pick_port() { echo $((20000 + RANDOM % 40000)); }

do_start() {
  [ -f "$dir/data/PG_VERSION" ] || do_init
  [ "$(cat "$dir/tcp")" = yes ] && tcp=yes
  local attempt port
  for attempt in 1 2 3 4 5; do
    port="$(cat "$dir/port")"
    local listen="''"
    if [ "$tcp" = yes ]; then
      [ "$attempt" -gt 1 ] || [ "$port" = 5432 ] && port="$(pick_port)"
      listen=127.0.0.1
    fi
    echo "$port" >"$dir/port"
    echo "postgresql://postgres@/postgres?host=$dir/socket&port=$port" >"$dir/url"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-c port=$port -c listen_addresses=$listen -c unix_socket_directories=$dir/socket" start >/dev/null; then
      return 0
    fi
    # A TCP port someone else took: try another; anything else is fatal.
    [ "$tcp" = yes ] || break
  done
  echo "postgres_cluster: cannot start PostgreSQL in $dir" >&2
  tail -n 20 "$dir/log" >&2 || true
  exit 1
}

do_stop() {
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m "${1:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
}

case "$command" in
  init) do_init ;;
  start) do_start ;;
  stop) do_stop fast ;;
  crash) do_stop immediate ;;
  destroy)
    do_stop immediate
    # The server's log outlives the cluster, for a look after a failed run.
    [ -f "$dir/log" ] && cp "$dir/log" "$dir.last.log"
    rm -rf "$dir"
    ;;
  fresh)
    do_stop immediate
    rm -rf "$dir"
    do_start
    ;;
  *) echo "usage: $0 init|start|stop|crash|destroy|fresh DIR [--tcp]" >&2; exit 2 ;;
esac
