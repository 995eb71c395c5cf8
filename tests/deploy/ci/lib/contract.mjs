// The decisions of docs/DEPLOYMENT.md (Pipeline) that a careless edit could undo, checked
// on the parsed workflows. Each function returns a list of problems (empty = ok).
import { parse } from "yaml";

const isMapping = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const steps = (job) => (isMapping(job) && Array.isArray(job.steps) ? job.steps.filter(isMapping) : []);
const uses = (step, action) => typeof step.uses === "string" && step.uses.startsWith(`${action}@`);
const runText = (step) => (typeof step.run === "string" ? step.run : "");

function needsOf(job) {
  if (!isMapping(job) || job.needs === undefined) return [];
  return Array.isArray(job.needs) ? job.needs : [job.needs];
}

// Every job that `name` depends on, directly or not.
function ancestors(jobs, name, seen = new Set()) {
  for (const parent of needsOf(jobs[name])) {
    if (!seen.has(parent)) {
      seen.add(parent);
      ancestors(jobs, parent, seen);
    }
  }
  return seen;
}

export function ciContract(text) {
  const problems = [];
  const wf = parse(text);
  const on = wf.on ?? {};
  for (const event of ["pull_request", "push"]) {
    if (!Object.hasOwn(on, event)) problems.push(`ci.yml does not run on ${event}`);
  }
  if (!Object.hasOwn(on, "workflow_call")) problems.push("ci.yml cannot be called by release.yml (no workflow_call)");
  if (wf.concurrency?.["cancel-in-progress"] !== true) problems.push("ci.yml does not cancel superseded runs");
  const jobs = wf.jobs ?? {};
  const sonarJobs = Object.entries(jobs).filter(([, job]) => steps(job).some((s) => uses(s, "SonarSource/sonarqube-scan-action")));
  if (sonarJobs.length !== 1) problems.push(`expected one SonarCloud job, found ${sonarJobs.length}`);
  for (const [name, job] of sonarJobs) {
    if (typeof job.if !== "string" || !/needs\.[\w-]+\.outputs\./.test(job.if)) {
      problems.push(`SonarCloud job ${name} is not skipped through a job-level if on a needs output`);
    }
  }
  for (const [name, job] of Object.entries(jobs)) {
    if (typeof job.if === "string" && job.if.includes("secrets.")) problems.push(`job ${name} uses secrets in its job-level if`);
  }
  const gcovr = Object.values(jobs).flatMap(steps).some((s) => /gcovr[\s\S]*--fail-under-line\s+(\d+)/.test(runText(s)) && Number(runText(s).match(/--fail-under-line\s+(\d+)/)[1]) >= 80);
  if (!gcovr) problems.push("no gcovr step with --fail-under-line of at least 80");
  const sarifCategories = Object.values(jobs).flatMap(steps).filter((s) => uses(s, "github/codeql-action/upload-sarif")).map((s) => s.with?.category);
  for (const tool of ["clang-tidy", "cppcheck"]) {
    if (!sarifCategories.includes(tool)) problems.push(`no SARIF upload for ${tool}`);
  }
  if (!Object.values(jobs).flatMap(steps).some((s) => /make format-check/.test(runText(s)))) problems.push("no make format-check step");
  return problems;
}

export function releaseContract(text) {
  const problems = [];
  const wf = parse(text);
  const jobs = wf.jobs ?? {};

  // The Trivy gate: HIGH/CRITICAL, fixable only, failing the job.
  const gateJobs = Object.entries(jobs).filter(([, job]) =>
    steps(job).some(
      (s) =>
        uses(s, "aquasecurity/trivy-action") &&
        String(s.with?.["exit-code"]) === "1" &&
        /HIGH/.test(s.with?.severity ?? "") &&
        /CRITICAL/.test(s.with?.severity ?? "") &&
        String(s.with?.["ignore-unfixed"]) === "true",
    ),
  );
  if (gateJobs.length === 0) problems.push("no Trivy step fails on HIGH/CRITICAL fixable findings");

  // Nothing reaches a registry before the gate has passed.
  const pushes = (job) =>
    steps(job).some(
      (s) =>
        (uses(s, "docker/build-push-action") && String(s.with?.push) === "true") ||
        /\bdocker push\b|imagetools create|\bcosign (sign|attest)\b/.test(runText(s)),
    );
  for (const [name, job] of Object.entries(jobs)) {
    if (!pushes(job)) continue;
    if (gateJobs.some(([gate]) => gate === name)) problems.push(`job ${name} pushes in the same job as the Trivy gate`);
    const before = ancestors(jobs, name);
    if (!gateJobs.some(([gate]) => before.has(gate))) problems.push(`job ${name} pushes without needing the Trivy gate job`);
  }

  // Short-lived AWS credentials only where they are used.
  for (const [name, job] of Object.entries(jobs)) {
    const wantsToken = job.permissions?.["id-token"] === "write";
    const usesAws = steps(job).some((s) => uses(s, "aws-actions/configure-aws-credentials"));
    if (wantsToken && !usesAws) problems.push(`job ${name} asks for id-token: write but assumes no AWS role`);
    if (usesAws && !wantsToken) problems.push(`job ${name} assumes an AWS role without id-token: write`);
    for (const s of steps(job).filter((s) => uses(s, "aws-actions/configure-aws-credentials"))) {
      if (s.with?.["aws-access-key-id"] || s.with?.["aws-secret-access-key"]) problems.push(`job ${name} passes long-lived AWS keys`);
      if (!s.with?.["role-to-assume"]) problems.push(`job ${name} does not assume a role`);
    }
  }
  if (wf.permissions?.["id-token"]) problems.push("id-token granted at workflow level");

  // Deploy: protected environment, migration before rollout, rollback on failure.
  const deployJobs = Object.entries(jobs).filter(([, job]) => steps(job).some((s) => /rollout status/.test(runText(s))));
  if (deployJobs.length !== 1) problems.push(`expected one deploy job, found ${deployJobs.length}`);
  for (const [name, job] of deployJobs) {
    const environment = isMapping(job.environment) ? job.environment.name : job.environment;
    if (environment !== "production") problems.push(`deploy job ${name} is not in the production environment`);
    if (job.concurrency?.["cancel-in-progress"] !== false) problems.push(`deploy job ${name} could be cancelled half-way`);
    const list = steps(job);
    const applyK = list.findIndex((s) => /kustomize edit set image "?users-api=/.test(runText(s)));
    const migrate = list.findIndex((s) => /condition=complete/.test(runText(s)));
    const rollout = list.findIndex((s) => /rollout status/.test(runText(s)) && !/rollout undo/.test(runText(s)));
    const undo = list.findIndex((s) => /rollout undo/.test(runText(s)));
    if (applyK < 0) problems.push("deploy does not set the image digest with kustomize edit set image");
    if (migrate < 0 || rollout < 0 || migrate > rollout) problems.push("the migration Job does not complete before the rollout");
    if (undo < 0 || !/failure\(\)/.test(String(list[undo]?.if ?? ""))) problems.push("no rollout undo step that runs on failure");
    if (!ancestors(jobs, name).size) problems.push(`deploy job ${name} needs nothing`);
  }
  return problems;
}
