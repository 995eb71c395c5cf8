#!/usr/bin/env node
// Offline validation of rendered users-api Kubernetes manifests.
//
//   node validate.mjs [--self-test] NAME=FILE.yaml ...
//
// Each FILE is the output of `kubectl kustomize`. NAME's first word picks the
// profile: "dev...", "prod..." or anything else (no overlay-specific rules).
// Every object must be valid against the Kubernetes API schema
// (kubernetes-models, with unknown fields rejected) and the whole set must
// pass the policy rules in lib/policy.mjs. With --self-test, each case in
// lib/mutations.mjs must also be caught. Exit status: 0 when everything
// passed, 1 on any failure, 2 on bad usage.

import fs from "node:fs";
import YAML from "yaml";
import { validateObject, kubernetesModelsVersion } from "./lib/schema.mjs";
import { checkPolicies } from "./lib/policy.mjs";
import { CASES } from "./lib/mutations.mjs";

function usage(msg) {
  console.error(`validate.mjs: ${msg}\nusage: node validate.mjs [--self-test] NAME=FILE.yaml ...`);
  process.exit(2);
}

function loadSet(name, file) {
  const text = fs.readFileSync(file, "utf8");
  const docs = YAML.parseAllDocuments(text);
  const objects = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${file}: YAML error: ${d.errors[0].message}`);
    const js = d.toJS();
    if (js !== null && js !== undefined) objects.push(js);
  }
  const profile = name.startsWith("dev") ? "dev" : name.startsWith("prod") ? "prod" : "other";
  return { name, profile, objects };
}

async function schemaFindings(set) {
  const findings = [];
  for (const o of set.objects) {
    const errors = await validateObject(o);
    for (const e of errors) {
      findings.push({ set: set.name, object: `${o?.kind}/${o?.metadata?.name}`, rule: "schema", message: e });
    }
  }
  return findings;
}

async function evaluate(sets) {
  const findings = [];
  for (const s of sets) findings.push(...(await schemaFindings(s)));
  const policy = checkPolicies(sets);
  findings.push(...policy.findings);
  return { findings, rulesRun: policy.rulesRun };
}

const fmt = (f) => `[${f.set}] ${f.object}: ${f.rule}: ${f.message}`;

async function main() {
  const args = process.argv.slice(2);
  const selfTest = args.includes("--self-test");
  const pairs = args.filter((a) => a !== "--self-test");
  if (pairs.length === 0) usage("no rendered sets given");
  const sets = pairs.map((p) => {
    const i = p.indexOf("=");
    if (i <= 0) usage(`expected NAME=FILE, got "${p}"`);
    return loadSet(p.slice(0, i), p.slice(i + 1));
  });
  const versions = kubernetesModelsVersion();
  console.log(
    `schema source: kubernetes-models ${versions["kubernetes-models"]}, ` +
      `@kubernetes-models/prometheus-operator ${versions["@kubernetes-models/prometheus-operator"]} (unknown fields rejected)`,
  );

  let failed = 0;
  let passed = 0;

  // 1. The rendered sets as they are must pass.
  const { findings, rulesRun } = await evaluate(sets);
  for (const s of sets) {
    const bad = findings.filter((f) => f.set === s.name);
    const kinds = [...new Set(s.objects.map((o) => o.kind))].sort().join(", ");
    console.log(`[${s.name}] profile ${s.profile}: ${s.objects.length} objects (${kinds}): ${bad.length === 0 ? "ok" : `${bad.length} problem(s)`}`);
  }
  console.log(`policy rules evaluated: ${rulesRun.size}`);
  for (const s of sets) {
    const images = new Set(s.objects.flatMap((o) => JSON.stringify(o).match(/"image":"[^"]*@sha256:0{64}"/g) ?? []));
    for (const i of images) {
      console.log(`note: [${s.name}] ${i.slice(9, -1)} is the placeholder digest; the release workflow sets the real one`);
    }
    const placeholders = new Set(
      s.objects.filter((o) => o.kind === "ConfigMap").flatMap((o) => Object.entries(o.data ?? {}).filter(([, v]) => /REPLACE-ME/.test(String(v))).map(([k]) => k)),
    );
    if (placeholders.size > 0)
      console.log(`note: [${s.name}] ${[...placeholders].sort().join(", ")} hold REPLACE-ME placeholders; the operator fills them in (docs/DEPLOYMENT.md, "Access control")`);
  }
  for (const f of findings) console.log(`FAIL ${fmt(f)}`);
  if (findings.length === 0) passed++;
  else failed++;

  // 2. Self-test: every mutation of a passing set must be caught.
  if (selfTest) {
    if (findings.length > 0) {
      console.log("self-test skipped: the unmodified sets must pass first");
      failed++;
    } else {
      let caught = 0;
      for (const c of CASES) {
        const base = sets.find((s) => s.name === c.set);
        if (!base) {
          console.log(`FAIL self-test "${c.name}": no set named ${c.set} was given`);
          failed++;
          continue;
        }
        const mutated = { ...base, objects: structuredClone(base.objects) };
        let result;
        try {
          c.mutate(mutated.objects);
          result = await evaluate(sets.map((s) => (s === base ? mutated : s)));
        } catch (e) {
          console.log(`FAIL self-test "${c.name}": ${e.stack}`);
          failed++;
          continue;
        }
        const hit = result.findings.find((f) => c.expect.test(f.message));
        if (hit) {
          caught++;
          passed++;
        } else {
          failed++;
          console.log(`FAIL self-test "${c.name}": not caught (wanted ${c.expect}); findings were:`);
          for (const f of result.findings) console.log(`    ${fmt(f)}`);
        }
      }
      console.log(`self-test: ${caught}/${CASES.length} broken variants caught`);
    }
  }

  console.log(`validate.mjs: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`validate.mjs: internal error: ${e.stack}`);
  process.exit(1);
});
