#!/usr/bin/env bash
# Offline validation of deploy/terraform, in three layers:
#   1. terraform fmt -check (and the misformatted fixture must fail it)
#   2. structural policy over the HCL parsed to JSON with @cdktf/hcl2json
#      (check.mjs; the broken fixture must trip every rule)
#   3. where a local provider mirror exists (this machine image has the AWS
#      provider under /opt/tf-plugins): terraform init from that mirror and
#      terraform test (it validates the configuration, then plans every root
#      against a mocked AWS provider and asserts on the computed values); then
#      the same tests on mutated copies (public database, wildcard trust) must
#      fail.
# Nothing here talks to AWS or downloads anything but the pinned npm packages.
# Usage: validate.sh [fmt|structure|plan|all] (ctest runs the three parts as
# deploy.terraform.{fmt,structure,plan}). Exit status: 0 passed, 1 a check
# failed, 77 skipped (the part's tool is missing: terraform, or the provider mirror).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
tf_dir="$root/deploy/terraform"
# shellcheck source=../../lib/tools.sh
source "$root/tests/lib/tools.sh"

# One part per ctest entry, so that a part whose tool is missing is reported as
# skipped on its own while the others run: fmt and plan need terraform, which
# no Debian or npm package provides; structure needs only Node.js (installed
# when missing) and npm's hcl2json.
part="${1:-all}"
case "$part" in
  fmt | structure | plan | all) ;;
  *) echo "usage: validate.sh [fmt|structure|plan|all]" >&2; exit 2 ;;
esac
wants() { [ "$part" = all ] || [ "$part" = "$1" ]; }
plugin_dir="${TF_PLUGIN_DIR:-/opt/tf-plugins}"
if { wants fmt || wants plan; } && ! command -v terraform >/dev/null 2>&1; then
  [ "$part" = all ] || skip_check "terraform is not installed and no Debian or npm package provides it: install it from HashiCorp (developer.hashicorp.com/terraform/install); the structure part runs without it"
  echo "SKIP  terraform fmt and terraform test: terraform is not installed"
fi
# Unpacked (this machine image) or packed (`terraform providers mirror`, as CI makes it) layout.
have_provider_mirror() {
  compgen -G "$plugin_dir/registry.terraform.io/hashicorp/aws/5.*/*/terraform-provider-aws_*" > /dev/null ||
    compgen -G "$plugin_dir/registry.terraform.io/hashicorp/aws/terraform-provider-aws_5.*.zip" > /dev/null
}
if [ "$part" = plan ] && ! have_provider_mirror; then
  skip_check "terraform test needs an AWS provider 5.x mirror at $plugin_dir (terraform providers mirror, where the Terraform registry is reachable; then set TF_PLUGIN_DIR)"
fi
if wants structure; then
  ensure_node || { echo "FAIL no Node.js >= 20 could be installed (needed for the HCL structure checks)"; exit 1; }
fi
have_terraform() { command -v terraform >/dev/null 2>&1; }

# No network: no version check-ins, no CLI configuration from the home directory.
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
: > "$scratch/terraformrc"
export TF_CLI_CONFIG_FILE="$scratch/terraformrc"

# Results go to a file so that checks run in background jobs count too.
results="$scratch/results"
: > "$results"
pass() { echo "PASS  $1" | tee -a "$results"; }
fail() {
  echo "FAIL  $1" | tee -a "$results"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then sed -e 's/^/        /' "$2" | grep -v '^ *$' | head -n 60; fi
  return 0
}
skip() { echo "SKIP  $1" | tee -a "$results"; }

tools=()
have_terraform && tools+=("$(terraform version | head -n 1)")
wants structure && tools+=("node $(node --version)")
echo "part ${part}; tools: ${tools[*]}"

# --- 1. formatting -----------------------------------------------------------
if wants fmt && have_terraform; then
if terraform fmt -check -recursive -no-color "$tf_dir" > "$scratch/fmt.log" 2>&1; then
  pass "terraform fmt -check -recursive deploy/terraform"
else
  fail "terraform fmt -check -recursive deploy/terraform (fix: terraform fmt -recursive deploy/terraform)" "$scratch/fmt.log"
fi
if terraform fmt -check -recursive -no-color "$here/tftest" > "$scratch/fmt-tests.log" 2>&1; then
  pass "terraform fmt -check of the terraform test files"
else
  fail "terraform fmt -check of the terraform test files" "$scratch/fmt-tests.log"
fi
if terraform fmt -check -recursive -no-color "$here/fixtures/broken" > /dev/null 2>&1; then
  fail "terraform fmt -check rejects the misformatted fixture (it passed)"
else
  pass "terraform fmt -check rejects the misformatted fixture"
fi
fi

# --- 2. structure (hcl2json) ----------------------------------------------------
if wants structure; then
if [ ! -d "$here/node_modules" ]; then
  echo "tests/deploy/terraform: installing the pinned npm packages (npm ci)"
  if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error); then
    fail "npm ci in tests/deploy/terraform"
  fi
fi
# --liftoff-only: hcl2json is Go compiled to wasm; without it Node lingers ~10 s at exit.
node --liftoff-only "$here/check.mjs" --root "$root" > "$scratch/structure.log" 2>&1
structure_status=$?
grep -E '^(PASS|FAIL|SKIP|        )' "$scratch/structure.log"
grep -E '^(PASS|FAIL|SKIP)' "$scratch/structure.log" >> "$results"
if [ "$structure_status" -ne 0 ] && ! grep -q '^FAIL' "$scratch/structure.log"; then
  fail "the structure checks crashed" "$scratch/structure.log"
fi
fi

# --- 3. terraform test (validation and mocked plans), from a local provider mirror
if ! wants plan || ! have_terraform; then
  :
elif ! have_provider_mirror; then
  skip "terraform test (validate + mocked plans): no AWS provider 5.x mirror at $plugin_dir (set TF_PLUGIN_DIR to a provider mirror)"
else
  good="$scratch/good"
  mkdir -p "$good"
  cp -r "$tf_dir/." "$good/"
  cp -r "$here/tftest/." "$good/"

  # init from the mirror, then test (which validates the configuration first;
  # a separate `terraform validate` would load the 700 MB provider once more).
  run_root() { # DIR LOG [TEST FILE] (at most 5 minutes)
    timeout 300 bash -c '
      terraform -chdir="$1" init -backend=false -input=false -no-color -plugin-dir="$3" > /dev/null &&
        terraform -chdir="$1" test -no-color ${4:+-filter="$4"}' _ "$1" "$2" "$plugin_dir" "${3:-}" > "$2" 2>&1
  }
  check_root() { # ROOT
    local log="$scratch/good-${1//\//_}.log"
    if run_root "$good/$1" "$log"; then
      pass "terraform test (validate, then plans with a mocked AWS provider): $1 — $(grep -E '^(Success|Failure)!' "$log" | tail -n 1)"
    else
      fail "terraform test (validate, then plans with a mocked AWS provider): $1" "$log"
    fi
  }
  mutant() { # NAME FILE OLD NEW: a copy of the tree with one defect
    local copy="$scratch/bad-$1"
    mkdir -p "$copy"
    cp -r "$good/." "$copy/"
    node -e '
      const fs = require("fs");
      const [file, from, to] = process.argv.slice(1);
      const text = fs.readFileSync(file, "utf8");
      if (!text.includes(from)) process.exit(1);
      fs.writeFileSync(file, text.replace(from, to));' "$copy/$2" "$3" "$4"
  }
  expect_failure() { # LABEL NAME ROOT TEST-FILE
    local log="$scratch/bad-$2.log"
    if run_root "$scratch/bad-$2/$3" "$log" "$4"; then
      fail "terraform test rejects a mutation: $1 (it passed)"
    elif grep -q "Test assertion failed" "$log"; then
      pass "terraform test rejects a mutation: $1"
    else
      fail "terraform test rejects a mutation: $1 (it failed, but not on an assertion)" "$log"
    fi
  }

  jobs_in_flight() { while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 0.2; done; }
  for r in bootstrap envs/dev envs/prod modules/database modules/github-oidc; do
    jobs_in_flight
    check_root "$r" &
  done
  if mutant public-db modules/database/main.tf 'publicly_accessible    = false' 'publicly_accessible    = true'; then
    jobs_in_flight
    expect_failure "a publicly accessible database" public-db modules/database database.tftest.hcl &
  else
    fail "mutation public-db no longer applies to modules/database/main.tf (update validate.sh)"
  fi
  # shellcheck disable=SC2016 # Terraform interpolation, not shell
  if mutant wildcard-trust modules/github-oidc/main.tf 'deploy_subject    = "repo:${var.github_repository}:environment:${var.deploy_environment}"' 'deploy_subject    = "repo:*"'; then
    jobs_in_flight
    expect_failure "a deploy role that trusts every repository" wildcard-trust modules/github-oidc github-oidc.tftest.hcl &
  else
    fail "mutation wildcard-trust no longer applies to modules/github-oidc/main.tf (update validate.sh)"
  fi
  wait
fi

passed=$(grep -c '^PASS' "$results")
failed=$(grep -c '^FAIL' "$results")
skipped=$(grep -c '^SKIP' "$results")
echo
echo "tests/deploy/terraform ${part}: ${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
