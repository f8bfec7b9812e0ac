// `check` cold start: wall time of one `agent-safe check` process (world cache warm), median of
// many runs, against bare `node -e 0` measured in the same run.
import { spawnSync } from "node:child_process";
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

function times(args, env, reps) {
  const out = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, args, { cwd: ROOT, env, stdio: "ignore" });
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
  result.note =
    "NODE_EXTRA_CA_CERTS (set on this machine) makes every node process load a CA bundle at start-up; the second row is a default environment.";
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(runColdStartBench(), null, 2));
