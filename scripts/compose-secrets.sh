#!/usr/bin/env bash
# Writes the two secret files compose.yaml mounts, from one new random
# password: secrets/postgres_password (the PostgreSQL superuser's password,
# read by the postgres image through POSTGRES_PASSWORD_FILE) and
# secrets/database_url (users-api's connection URL with that password, read
# through DATABASE_URL_FILE). Leaves existing files alone: the database volume
# keeps the password it was initialised with, so a new password needs
# `docker compose down -v` (dropping the data) or an ALTER ROLE first.
# Usage: scripts/compose-secrets.sh [DIRECTORY]   (default: ./secrets next to compose.yaml)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/secrets}

if [ -e "$dir/postgres_password" ] || [ -e "$dir/database_url" ]; then
  if [ -s "$dir/postgres_password" ] && [ -s "$dir/database_url" ]; then
    echo "compose-secrets: $dir already holds both secrets; left as they are"
    exit 0
  fi
  echo "compose-secrets: $dir holds only one of postgres_password and database_url; remove it and run again" >&2
  exit 1
fi

# 32 hex digits: nothing to escape in a URL.
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
[ ${#password} -eq 32 ] || { echo "compose-secrets: could not read /dev/urandom" >&2; exit 1; }

# The directory keeps other host users out; the files are bind-mounted into
# the containers, whose users (postgres 999, users-api 10001) must read them.
mkdir -p "$dir"
chmod 0700 "$dir"
umask 022
printf '%s\n' "$password" >"$dir/postgres_password.tmp"
printf 'postgres://users:%s@postgres:5432/users?sslmode=disable\n' "$password" >"$dir/database_url.tmp"
chmod 0644 "$dir/postgres_password.tmp" "$dir/database_url.tmp"
mv "$dir/postgres_password.tmp" "$dir/postgres_password"
mv "$dir/database_url.tmp" "$dir/database_url"
echo "compose-secrets: wrote $dir/postgres_password and $dir/database_url"
