// `check` cold start: wall time of one `agent-safe check` process (world cache warm), median of
// many runs, against bare `node -e 0` measured in the same run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, median } from "./lib.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const BIN = join(ROOT, "bin", "agent-safe.js");
const CHECK = [
  "check",
  "restart-deployment",
  "--target",
  "dev/test-app",
  "--params",
  '{"namespace":"dev","deployment":"test-app"}',
];

function times(args, env, reps, cwd = ROOT) {
  const out = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, args, { cwd, env, stdio: "ignore" });
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

export function runColdStartBench({ reps = 21 } = {}) {
  const withCa = { ...process.env };
  const withoutCa = { ...process.env };
  delete withoutCa.NODE_EXTRA_CA_CERTS;
  times([BIN, ...CHECK], withCa, 2); // warm the world cache and the page cache
  const result = {};
  for (const [name, env] of [
    ["environment_as_is", withCa],
    ["without_NODE_EXTRA_CA_CERTS", withoutCa],
  ]) {
    result[name] = {
      check_median_ms: fmt(median(times([BIN, ...CHECK], env, reps)), 1),
      bare_node_median_ms: fmt(median(times(["-e", "0"], env, reps)), 1),
    };
  }
  // The main job as a user runs it: a project made by `init` (audit log with a signed checkpoint
  // per process, SQLite guard state, keys) and an identity token as the caller.
  const base = mkdtempSync(join(tmpdir(), "agent-safe-cold-"));
  const dir = join(base, "p");
  try {
    spawnSync(process.execPath, [BIN, "init", dir], { env: withoutCa, stdio: "ignore" });
    const token = spawnSync(
      process.execPath,
      [BIN, "identity", "issue", "--agent-id", "deploy-bot", "--roles", "deployer"],
      { cwd: dir, env: withoutCa, encoding: "utf8" },
    ).stdout.trim();
    const full = [BIN, ...CHECK, "--caller", token];
    times(full, withoutCa, 2, dir);
    result.init_project_without_NODE_EXTRA_CA_CERTS = {
      check_median_ms: fmt(median(times(full, withoutCa, reps, dir)), 1),
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  result.note =
    "NODE_EXTRA_CA_CERTS (set on this machine) makes every node process load a CA bundle at start-up; the second row is a default environment. The last row runs in a project made by `init`: audit log (fsync, a signed checkpoint on close), SQLite state, an identity token verified.";
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(runColdStartBench(), null, 2));
