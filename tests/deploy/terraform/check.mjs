// Structural policy tests over deploy/terraform parsed with @cdktf/hcl2json,
// and the same rules over a deliberately broken fixture that must trip each one.
// Usage: node --liftoff-only check.mjs --root REPO   (validate.sh does this)
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { blocksOf, check, WORKFLOW_VARIABLES } from "./lib/rules.mjs";

const require = createRequire(import.meta.url);
const { parse } = require("@cdktf/hcl2json");

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(process.argv[process.argv.indexOf("--root") + 1] ?? path.join(here, "../../.."));

function tfFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue; // .terraform and friends
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...tfFiles(full));
    else if (entry.endsWith(".tf")) out.push(full);
  }
  return out.sort();
}

async function load(tree, base) {
  const blocks = [];
  const errors = [];
  for (const file of tfFiles(tree)) {
    try {
      const json = await parse(path.basename(file), readFileSync(file, "utf8"));
      blocks.push(...blocksOf(path.relative(base, path.dirname(file)), path.relative(base, file), json));
    } catch (error) {
      errors.push(`${path.relative(base, file)}: ${error.message ?? error}`);
    }
  }
  return { blocks, errors };
}

// The repository variables release.yml reads (besides optional switches).
function workflowVariables() {
  const release = path.join(root, ".github/workflows/release.yml");
  if (!existsSync(release)) return WORKFLOW_VARIABLES;
  const used = new Set([...readFileSync(release, "utf8").matchAll(/\bvars\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
  for (const optional of ["COSIGN_SIGNING", "SONAR_ORGANIZATION", "SONAR_PROJECT_KEY"]) used.delete(optional);
  return [...used].sort();
}

const results = [];
function record(name, ok, detail = "") {
  results.push({ name, ok });
  console.log(`${ok ? "PASS" : "FAIL"}  ${name}`);
  if (!ok) for (const line of String(detail).split("\n").filter(Boolean).slice(0, 60)) console.log(`        ${line}`);
}

// --- the real configuration ---------------------------------------------------
const tree = path.join(root, "deploy/terraform");
const real = await load(tree, root);
record(`hcl2json parses every .tf file under deploy/terraform (${tfFiles(tree).length} files)`, real.errors.length === 0 && real.blocks.length > 0, real.errors.join("\n"));
const wanted = workflowVariables();
record(`release.yml reads the repository variables Terraform outputs (${wanted.join(", ")})`, wanted.every((v) => WORKFLOW_VARIABLES.includes(v)) && wanted.length === WORKFLOW_VARIABLES.length, `release.yml reads: ${wanted.join(", ")}; outputs cover: ${WORKFLOW_VARIABLES.join(", ")}`);

const findings = check(real.blocks, { workflowVariables: wanted });
const byRule = new Map();
for (const f of findings) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
const RULES = {
  REQ: "every required resource is present (state, VPC, EKS, ECR, RDS, OIDC, access entry)",
  MOD: "no registry modules: plain resources only",
  PROVIDER: "aws provider ~> 5.x and Terraform >= 1.11 in every root and module",
  BACKEND: "remote state encrypted and locked with the S3 lockfile",
  "STATE-VERSIONING": "state bucket versioned",
  "STATE-PUBLIC": "state bucket blocks all public access",
  ENCRYPTION: "encryption on: S3 (KMS), RDS storage, EKS secrets (KMS), node volumes, rotating keys",
  "EKS-ACCESS": "EKS access entries only, deployers scoped to namespaces, never cluster-admin",
  "EKS-NODES": "nodes require IMDSv2",
  "NODES-PRIVATE": "nodes in private subnets, no public IPs on launch",
  INGRESS: "no 0.0.0.0/0 or ::/0 ingress to any security group (database, nodes)",
  "DB-ENGINE": "PostgreSQL 15",
  "DB-PRIVATE": "RDS not publicly accessible",
  "DB-PASSWORD": "master password managed by RDS in Secrets Manager, never in state",
  "DB-INGRESS": "5432 only, from the node security group only",
  "DB-PROD": "prod database Multi-AZ with deletion protection",
  ECR: "ECR immutable tags, scan on push, lifecycle policy",
  "OIDC-TRUST": "OIDC trust: sts audience, subject limited to var.github_repository, no wildcard repository",
  VARIABLES: "variables described, typed, key inputs validated",
  SECRET: "no secret in variable defaults, literals or outputs",
  OUTPUTS: "env roots output what the workflows need",
};
for (const [rule, what] of Object.entries(RULES)) {
  const hits = byRule.get(rule) ?? [];
  record(`${rule}: ${what}`, hits.length === 0, hits.map((f) => `${f.where}: ${f.message}`).join("\n"));
}
const unknown = [...byRule.keys()].filter((r) => !(r in RULES));
if (unknown.length) record("no finding outside the named rules", false, unknown.join(", "));

// --- the broken fixture: every rule must fire -----------------------------------
const brokenTree = path.join(here, "fixtures/broken");
const broken = await load(brokenTree, brokenTree);
record("hcl2json parses the broken fixture (its defects are policy, not syntax)", broken.errors.length === 0 && broken.blocks.length > 0, broken.errors.join("\n"));
const brokenFindings = check(broken.blocks, { workflowVariables: WORKFLOW_VARIABLES });
const fired = new Set(brokenFindings.map((f) => f.rule));
for (const rule of Object.keys(RULES)) {
  record(`the broken fixture trips ${rule}`, fired.has(rule), `rules that fired: ${[...fired].sort().join(", ")}`);
}
// Specific defects, not merely "something fired".
const expectFinding = (rule, pattern, label) =>
  record(`the broken fixture: ${label}`, brokenFindings.some((f) => f.rule === rule && pattern.test(`${f.where} ${f.message}`)), brokenFindings.filter((f) => f.rule === rule).map((f) => `${f.where}: ${f.message}`).join("\n"));
expectFinding("INGRESS", /0\.0\.0\.0\/0/, "0.0.0.0/0 ingress on 5432 is caught");
expectFinding("DB-PRIVATE", /publicly_accessible/, "a public database is caught");
expectFinding("OIDC-TRUST", /wildcard/, "a repo:* trust subject is caught");
expectFinding("SECRET", /db_password/, "a password default is caught");
expectFinding("ECR", /mutable/, "mutable ECR tags are caught");
expectFinding("ENCRYPTION", /storage_encrypted/, "unencrypted RDS storage is caught");

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`\ntests/deploy/terraform (structure): ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
