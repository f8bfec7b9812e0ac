#!/usr/bin/env node
// The whole test suite: start the local test peers, build, run vitest, and end with the line CI
// reads: "N passed, N failed".
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: "inherit", ...opts });

// A fresh clone has no dependencies yet: install exactly what the lockfile pins.
if (!existsSync("node_modules/.package-lock.json")) {
  const install = run("npm", ["ci"]);
  if (install.status !== 0) {
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
}

const services = run("bash", ["scripts/ensure-services.sh"]);
if (services.status !== 0) console.error("test: some services are down; tests that need them will fail");

const build = run("npm", ["run", "--silent", "build"]);
if (build.status !== 0) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const out = mkdtempSync(join(tmpdir(), "agent-safe-test-"));
const report = join(out, "vitest.json");
const vitest = run("npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);

let passed = 0;
let failed = 0;
try {
  const result = JSON.parse(readFileSync(report, "utf8"));
  passed = result.numPassedTests;
  failed = result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0);
  if (!result.success && failed === 0) failed = 1;
} catch {
  failed = Math.max(failed, 1);
}
rmSync(out, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(vitest.status === 0 && failed === 0 ? 0 : 1);
