// Supply-chain and least-privilege rules for GitHub Actions files, checked on
// the parsed YAML (and, for version comments, on the raw lines).
//
//   PIN001  every `uses:` outside this repository names a full 40-hex commit SHA
//           (docker:// images: a sha256 digest)
//   PIN002  every SHA-pinned `uses:` line says which release it is: `# vX.Y.Z`
//   PERM001 no `permissions: write-all` (or read-all) at workflow or job level
//   PERM002 every job declares `permissions:`, or the workflow sets a default
//           that grants no write scope
//   PERM003 the workflow-level default grants no write scope (writes belong to
//           the one job that needs them)
//   JOB001  every job that runs steps has `timeout-minutes` (a hung job cannot
//           burn six hours)
import { parseDocument } from "yaml";

const FULL_SHA = /^[^@\s]+@[0-9a-f]{40}$/;
const DOCKER_DIGEST = /^docker:\/\/[^@\s]+@sha256:[0-9a-f]{64}$/;
const VERSION_COMMENT = /#\s*v?\d+(\.\d+){0,3}\b/;

function isMapping(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function grantsWrite(permissions) {
  if (permissions === "write-all") return true;
  if (!isMapping(permissions)) return false;
  return Object.values(permissions).some((level) => level === "write");
}

// Finds the 1-based line of the n-th raw line that contains `uses:` with that value.
function usesLines(text) {
  const lines = text.split("\n");
  const found = [];
  lines.forEach((line, index) => {
    const match = line.match(/^\s*(?:-\s*)?uses:\s*["']?([^"'\s#]+)["']?\s*(#.*)?$/);
    if (match) found.push({ line: index + 1, value: match[1], comment: match[2] ?? "" });
  });
  return found;
}

function checkUses(file, text, usesValues, findings) {
  const raw = usesLines(text);
  for (const { where, value } of usesValues) {
    if (typeof value !== "string") {
      findings.push({ rule: "PIN001", file, where, message: "`uses:` is not a string" });
      continue;
    }
    if (value.startsWith("./")) continue; // an action or workflow from this repository, same commit
    if (value.startsWith("docker://")) {
      if (!DOCKER_DIGEST.test(value)) {
        findings.push({ rule: "PIN001", file, where, message: `${value} is not pinned by sha256 digest` });
      }
      continue;
    }
    if (!FULL_SHA.test(value)) {
      findings.push({ rule: "PIN001", file, where, message: `${value} is not pinned to a full 40-hex commit SHA` });
      continue;
    }
    const line = raw.find((entry) => entry.value === value && !entry.checked);
    if (line) line.checked = true;
    if (!line || !VERSION_COMMENT.test(line.comment)) {
      findings.push({ rule: "PIN002", file, where, message: `${value} has no "# vX.Y.Z" comment naming the release` });
    }
  }
}

function parse(file, text, findings) {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    findings.push({ rule: "YAML", file, where: "", message: document.errors.map((e) => e.message).join("; ") });
    return null;
  }
  return document.toJS();
}

export function checkWorkflow(file, text) {
  const findings = [];
  const workflow = parse(file, text, findings);
  if (!isMapping(workflow)) {
    if (findings.length === 0) findings.push({ rule: "YAML", file, where: "", message: "not a mapping" });
    return findings;
  }
  const jobs = isMapping(workflow.jobs) ? workflow.jobs : {};
  const topLevel = workflow.permissions;
  const hasTopLevel = Object.hasOwn(workflow, "permissions");

  if (topLevel === "write-all" || topLevel === "read-all") {
    findings.push({ rule: "PERM001", file, where: "permissions", message: `workflow grants ${topLevel}` });
  }
  if (grantsWrite(topLevel)) {
    findings.push({ rule: "PERM003", file, where: "permissions", message: "the workflow-level default grants a write scope to every job" });
  }
  const restrictiveDefault = hasTopLevel && !grantsWrite(topLevel) && topLevel !== "read-all";

  const usesValues = [];
  for (const [name, job] of Object.entries(jobs)) {
    if (!isMapping(job)) continue;
    const where = `jobs.${name}`;
    if (job.permissions === "write-all" || job.permissions === "read-all") {
      findings.push({ rule: "PERM001", file, where: `${where}.permissions`, message: `job grants ${job.permissions}` });
    }
    if (!Object.hasOwn(job, "permissions") && !restrictiveDefault) {
      findings.push({ rule: "PERM002", file, where, message: "job declares no permissions and the workflow sets no restrictive default" });
    }
    if (typeof job.uses === "string") usesValues.push({ where: `${where}.uses`, value: job.uses });
    if (Array.isArray(job.steps)) {
      if (!Object.hasOwn(job, "timeout-minutes")) {
        findings.push({ rule: "JOB001", file, where, message: "job has no timeout-minutes" });
      }
      job.steps.forEach((step, index) => {
        if (isMapping(step) && Object.hasOwn(step, "uses")) usesValues.push({ where: `${where}.steps[${index}]`, value: step.uses });
      });
    }
  }
  checkUses(file, text, usesValues, findings);
  return findings;
}

export function checkAction(file, text) {
  const findings = [];
  const action = parse(file, text, findings);
  if (!isMapping(action)) {
    if (findings.length === 0) findings.push({ rule: "YAML", file, where: "", message: "not a mapping" });
    return findings;
  }
  const steps = isMapping(action.runs) && Array.isArray(action.runs.steps) ? action.runs.steps : [];
  const usesValues = [];
  steps.forEach((step, index) => {
    if (isMapping(step) && Object.hasOwn(step, "uses")) usesValues.push({ where: `runs.steps[${index}]`, value: step.uses });
  });
  checkUses(file, text, usesValues, findings);
  return findings;
}
