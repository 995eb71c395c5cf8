#!/usr/bin/env bash
# bench/run.sh against PostgreSQL on this machine: a throwaway cluster with
# PostgreSQL's durable defaults (fsync and synchronous_commit on, as in
# production), reached over its unix socket, removed afterwards. Same cases,
# same settings as bench/run.sh; results in bench/results/postgres/.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "$bench_dir")
cluster_script=$root_dir/tests/support/postgres_cluster.sh
cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/users-api-bench-pg.XXXXXX")

cleanup() { bash "$cluster_script" destroy "$cluster_dir" || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

USERS_API_PG_DURABLE=1 bash "$cluster_script" start "$cluster_dir"
url=$(cat "$cluster_dir/url")
psql "$url" -v ON_ERROR_STOP=1 -qc 'CREATE DATABASE users_api_bench' >/dev/null
bench_url=${url/\/postgres\?//users_api_bench?}
printf 'bench: PostgreSQL %s, data in %s (durable settings)\n' \
  "$(psql "$url" -Atc 'SHOW server_version')" "$cluster_dir"

DATABASE_URL=$bench_url RESULTS_DIR=${RESULTS_DIR:-$bench_dir/results/postgres} "$bench_dir/run.sh"
