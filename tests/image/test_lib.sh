# shellcheck shell=bash
# Small helpers for the container tests that run the image for real
# (tests/image/compose_test.sh, tests/deploy/k8s/play.sh). Source it after
# scripts/image/lib.sh; it defines functions only.

now_ms() { date +%s%3N; }

# say TEXT: a progress line, with the seconds since the test began.
test_started_ms=$(now_ms)
say() { printf '[%6.1f s] %s\n' "$(($(now_ms) - test_started_ms))e-3" "$*"; }

# fail TEXT...: the reason, then exit 1 (the EXIT trap cleans up).
fail() {
  printf 'FAIL: %s\n' "$1" >&2
  [ $# -gt 1 ] && printf '      %s\n' "${@:2}" >&2
  exit 1
}

# skip TEXT: exit 77, which ctest reports as skipped, with the reason.
skip() {
  printf 'SKIP: %s\n' "$*" >&2
  exit 77
}

# free_port: see tests/support/free_port.sh.
# shellcheck source=tests/support/free_port.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/free_port.sh"

# http_status URL: the status code, 000 when nothing answers.
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true; }

# wait_status URL CODE SECONDS: polls every 100 ms; true once URL answers CODE.
wait_status() {
  local deadline=$(($(now_ms) + $3 * 1000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    [ "$(http_status "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# indent: prefixes each line, for logs shown on failure.
indent() { sed 's/^/      | /'; }
