#!/usr/bin/env bash
# The 60 s soak (ctest: soak.short, label soak, run alone): scripts/soak with
# SOAK_SECONDS=60 (override it in the environment), a line every 10 samples,
# output in test-artifacts/soak/ (samples.csv, soak.png, wrk.txt,
# hostile.txt, server-tail.log; git-ignored).
#
#   bash tests/soak/check.sh               (from anywhere)
#   USERS_API_BINARY=/path/to/users-api bash tests/soak/check.sh
#
# Installs Debian's wrk when it is missing, and reports itself skipped (exit
# 77) with the reason when it cannot. Node.js comes as for the other checks
# (tests/lib/tools.sh; 18 or later is enough here); gnuplot-nox is installed
# when missing, and without it only the picture is skipped (scripts/soak says
# so). Prints scripts/soak's PASS/FAIL lines and "soak: N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
fatal() {
  echo "FAIL $1"
  echo "soak: 0 passed, 1 failed"
  exit 1
}
# shellcheck source=../lib/tools.sh
source "$ROOT/tests/lib/tools.sh"

if ! command -v wrk >/dev/null 2>&1; then
  apt_install wrk >/dev/null 2>"${TMPDIR:-/tmp}/soak-wrk-install.err" ||
    skip_check "wrk (Debian package wrk) could not be installed: $(tail -n 1 "${TMPDIR:-/tmp}/soak-wrk-install.err")"
  command -v wrk >/dev/null 2>&1 || skip_check "wrk is installed but not on PATH"
fi
if ! command -v node >/dev/null 2>&1 || [ "$(node_major)" -lt 18 ]; then
  ensure_node || fatal "no Node.js 18 or later could be installed (the hostile clients)"
fi
command -v curl >/dev/null 2>&1 || apt_install curl || fatal "could not install curl"
if ! command -v gnuplot >/dev/null 2>&1; then
  apt_install gnuplot-nox || echo "gnuplot-nox could not be installed: soak.png will be skipped"
fi

export USERS_API_BINARY=${USERS_API_BINARY:-build/release/users-api}
export SOAK_SECONDS=${SOAK_SECONDS:-60}
export SOAK_PRINT_EVERY=${SOAK_PRINT_EVERY:-10}
export SOAK_OUT=${SOAK_OUT:-test-artifacts/soak}
exec bash "$ROOT/scripts/soak"
