#!/usr/bin/env node
// `npm run bench`: builds, runs every benchmark, merges the figures into bench/results.json and
// regenerates the table in bench/README.md. Usage: npm run bench [-- decide batch cold-start]
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { machine } from "../bench/lib.mjs";

const build = spawnSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
if (build.status !== 0) process.exit(1);

const suites = {
  decide: async () => (await import("../bench/decide.mjs")).runDecideBench(),
  batch: async () => (await import("../bench/batch.mjs")).runBatchBench(),
  "cold-start": async () => (await import("../bench/cold-start.mjs")).runColdStartBench(),
  guards: async () => (await import("../bench/guards.mjs")).runGuardsBench(),
  tickets: async () => (await import("../bench/tickets.mjs")).runTicketsBench(),
  audit: async () => (await import("../bench/audit.mjs")).runAuditBench(),
  pipeline: async () => (await import("../bench/pipeline.mjs")).runPipelineBench(),
  sidecar: async () => (await import("../bench/sidecar.mjs")).runSidecarBench(),
};
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(suites);
const path = new URL("../bench/results.json", import.meta.url);
const results = existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : { suites: {} };
for (const name of wanted) {
  if (!suites[name]) throw new Error(`unknown benchmark ${name}; have ${Object.keys(suites).join(", ")}`);
  process.stderr.write(`bench: ${name}…\n`);
  results.suites[name] = { machine: machine(), results: await suites[name]() };
}
writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
const { renderReadme } = await import("../bench/report.mjs");
writeFileSync(new URL("../bench/README.md", import.meta.url), renderReadme(results));
console.log(JSON.stringify(results, null, 2));
