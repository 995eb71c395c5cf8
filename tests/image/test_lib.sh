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

# A TCP port on the host that nothing listens on (ephemeral range avoided).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  fail "no free TCP port found between 20000 and 40000"
}

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
