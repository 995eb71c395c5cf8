#!/usr/bin/env bash
# Entrypoint of the postgres:15-bookworm STAND-IN (see Containerfile): the
# subset of the official image's docker-entrypoint.sh that users-api's
# compose.yaml and dev overlay rely on, with the same variables and the same
# behaviour for them.
set -Eeuo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# VAR from VAR or VAR_FILE (not both), exported; VAR_FILE unset afterwards,
# so the user the server runs as never needs to read the file.
file_env() {
  local var=$1 file_var="${1}_FILE" default=${2:-}
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    die "both $var and $file_var are set (but are exclusive)"
  fi
  local value=$default
  if [ -n "${!var:-}" ]; then
    value=${!var}
  elif [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || die "$file_var: cannot read ${!file_var}"
    value=$(<"${!file_var}")
  fi
  export "$var"="$value"
  unset "$file_var"
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  export PGDATA=${PGDATA:-/var/lib/postgresql/data}
}

# Directories the server writes, owned by postgres when we are root.
create_directories() {
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" 2>/dev/null || :
  mkdir -p /var/run/postgresql 2>/dev/null || :
  chmod 03775 /var/run/postgresql 2>/dev/null || :
  if [ "$(id -u)" = 0 ]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' + 2>/dev/null || :
    find /var/run/postgresql \! -user postgres -exec chown postgres '{}' + 2>/dev/null || :
  fi
}

init_database() {
  if [ -z "$POSTGRES_PASSWORD" ]; then
    die "Database is uninitialized and superuser password is not specified.
  Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value for
  the superuser ($POSTGRES_USER). (This stand-in does not implement
  POSTGRES_HOST_AUTH_METHOD=trust.)"
  fi
  log "initialising a new cluster in $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >&2
  # As the official image: clients over TCP authenticate with a password.
  printf '\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  # A temporary server on the unix socket only, to create the database.
  PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >&2
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
      --dbname postgres --set db="$POSTGRES_DB" >&2 <<<'CREATE DATABASE :"db";'
  fi
  PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -m fast -w stop >&2
  log "PostgreSQL init process complete; ready for start up"
}

# "postgres -c x=y" may be written as "-c x=y".
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ]; then
  setup_env
  create_directories
  if [ "$(id -u)" = 0 ]; then
    # Again as postgres, with the variables read above.
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    init_database
  else
    log "PostgreSQL database directory appears to contain a database; skipping initialization"
  fi
  unset POSTGRES_PASSWORD
fi

exec "$@"
