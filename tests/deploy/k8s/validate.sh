#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests under deploy/k8s (issue 7).
#
#   bash tests/deploy/k8s/validate.sh        (from anywhere; ctest: deploy.k8s)
#
# 1. `kubectl kustomize` renders overlays/dev, overlays/prod, and prod with
#    each optional component (ServiceMonitor; api-tokens).
# 2. validate.mjs checks every rendered object against the Kubernetes API
#    schema (npm kubernetes-models, unknown fields rejected) and the policy
#    rules (among them access control, issue 14: prod runs AUTH_MODE=jwt with
#    its issuer, audience and https JWKS URL, ALLOWED_HOSTS names the Ingress
#    host and is never "*", THROTTLE_* and TRUSTED_PROXIES are set, the
#    Ingress carries ingress-nginx's limit-rps and limit-connections; dev runs
#    AUTH_MODE=none and says so) and the ops port (issue 15: OPS_PORT set and
#    named "ops"; all three probes, the prometheus.io/port annotation and the
#    ServiceMonitor on it; no Ingress backend, NodePort or API Service reaches
#    it; the NetworkPolicies open 8000 to ingress-nginx only (dev: any source,
#    for the NodePort) and 9000 to monitoring only), then breaks the sets on purpose
#    (--self-test) and requires every break to be caught.
# 3. Two deliberately broken kustomizations (an unknown field, a missing
#    probe) are rendered through kubectl too, and the validator must fail on
#    each with exactly the expected finding.
# No cluster is needed. Needs kubectl >= 1.27 (kustomize v5): without it the
# check is skipped (exit 77) with the reason. Installs Node.js >= 20 when missing
# (tests/lib/tools.sh) and the pinned npm packages with `npm ci` when they are
# missing or stale. Prints PASS/FAIL per step and "deploy.k8s: N passed, M
# failed"; exits 1 on any failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE="$ROOT/tests/deploy/k8s"
cd "$ROOT" || exit 1

passed=0
failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
fatal() {
  echo "FAIL $1"
  echo "deploy.k8s: $passed passed, $((failed + 1)) failed"
  exit 1
}

# --- tools -------------------------------------------------------------------
# shellcheck source=../../lib/tools.sh
source "$ROOT/tests/lib/tools.sh"
! reason=$(kustomize_missing) || skip_check "$reason"
ensure_node || fatal "no Node.js >= 20 could be installed"
echo "tools: kubectl $(kubectl version --client 2>/dev/null | tr '\n' ' ' | sed 's/ *$//'), node $(node --version)"

work=$(mktemp -d "${TMPDIR:-/tmp}/users-api-k8s.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- pinned npm packages ---------------------------------------------------------
stamp="$HERE/node_modules/.users-api-lock.sha256"
want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing pinned npm packages (npm ci)"
  if npm ci --prefix "$HERE" --no-audit --no-fund >"$work/npm-ci.log" 2>&1; then
    echo "$want" >"$stamp"
  else
    cat "$work/npm-ci.log" >&2
    fatal "npm ci --prefix tests/deploy/k8s failed (log above)"
  fi
fi

render() { # name dir
  if kubectl kustomize "$2" >"$work/$1.yaml" 2>"$work/$1.err"; then
    ok "render $1 ($2): $(grep -c '^kind:' "$work/$1.yaml") objects"
    return 0
  fi
  sed 's/^/    /' "$work/$1.err"
  bad "render $1 ($2)"
  return 1
}

# --- 1. render -----------------------------------------------------------------------
rendered=1
render dev deploy/k8s/overlays/dev || rendered=0
render prod deploy/k8s/overlays/prod || rendered=0
render prod-servicemonitor tests/deploy/k8s/fixtures/prod-servicemonitor || rendered=0
render prod-api-tokens tests/deploy/k8s/fixtures/prod-api-tokens || rendered=0

# --- 2. schema, policy and self-test -------------------------------------------------
if [ "$rendered" = 1 ]; then
  if node "$HERE/validate.mjs" --self-test \
    dev="$work/dev.yaml" prod="$work/prod.yaml" prod-servicemonitor="$work/prod-servicemonitor.yaml" \
    prod-api-tokens="$work/prod-api-tokens.yaml" >"$work/validate.out" 2>&1; then
    sed 's/^/    /' "$work/validate.out"
    ok "schema + policy + self-test over the rendered overlays"
  else
    sed 's/^/    /' "$work/validate.out"
    bad "schema + policy + self-test over the rendered overlays"
  fi
else
  bad "schema + policy + self-test not run: an overlay did not render"
fi

# --- 3. deliberately broken fixtures must fail, for the expected reason only ---------
expect_failure() { # fixture regex
  local name=$1 want=$2 out rc lines
  render "$name" "tests/deploy/k8s/fixtures/$name" || return
  out=$(node "$HERE/validate.mjs" "$name=$work/$name.yaml" 2>&1)
  rc=$?
  lines=$(grep -c '^FAIL ' <<<"$out")
  if [ "$rc" = 1 ] && [ "$lines" = 1 ] && grep -Eq "^FAIL .*$want" <<<"$out"; then
    ok "broken fixture $name rejected: $(grep '^FAIL ' <<<"$out" | sed 's/^FAIL //')"
  else
    sed 's/^/    /' <<<"$out"
    bad "broken fixture $name: wanted exit 1 with exactly one finding matching /$want/, got exit $rc and $lines finding(s)"
  fi
}
expect_failure dev-broken-unknown-field 'livenessProbe\.httpGet\.initialDelaySeconds: unknown field'
expect_failure dev-broken-missing-probe 'container "users-api": missing readinessProbe'

echo "deploy.k8s: $passed passed, $failed failed"
[ "$failed" = 0 ]
