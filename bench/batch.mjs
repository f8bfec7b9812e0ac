// check --batch end to end: 200,000 requests against the shipped catalogue, through the real CLI,
// plus the same run on the compatibility fixture corpus (x10), and a parse-only baseline.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { writeShippedCorpus } from "./corpus.mjs";
import { fmt, median } from "./lib.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const BIN = join(ROOT, "bin", "agent-safe.js");
const COMPAT = join(ROOT, "..", "shared", "compat");

function timeRun(args, reps) {
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      encoding: "utf8",
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`batch failed: ${r.stderr}`);
    times.push(s);
  }
  return times;
}

/** How much two threads of pure CPU work gain over one on this machine (2.0 = two real cores). */
function parallelEfficiency() {
  const script = "let x=0;for(let i=0;i<3e8;i++)x+=i;";
  const one = timeNode([script]);
  const two = timeNode([script, script]);
  return fmt((2 * one) / two, 2);
}

function timeNode(scripts) {
  const t0 = process.hrtime.bigint();
  const src = `const {Worker}=require("node:worker_threads");let n=${scripts.length};for(const s of ${JSON.stringify(scripts)}){const w=new Worker(s,{eval:true});w.on("exit",()=>{});}`;
  spawnSync(process.execPath, ["-e", src]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function runBatchBench({ reps = 5 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-bench-"));
  try {
    const shipped = writeShippedCorpus(join(dir, "shipped.jsonl"), 200_000);
    const fixture = join(dir, "fixture.jsonl");
    const lines = gunzipSync(readFileSync(join(COMPAT, "fixture.requests.jsonl.gz"))).toString("utf8");
    writeFileSync(fixture, lines.repeat(10));
    const fixtureArgs = [
      "--profile",
      "reference",
      "--actions",
      join(COMPAT, "fixture", "actions"),
      "--policies",
      join(COMPAT, "fixture", "policies"),
      "--inventory",
      join(COMPAT, "fixture", "inventory.yaml"),
    ];
    // Warm the world cache once, so the figures are the steady state a script sees.
    timeRun(["check", "--batch", shipped], 1);
    timeRun(["check", "--batch", fixture, ...fixtureArgs], 1);
    const result = {};
    for (const [name, args] of [
      ["shipped_200k_2_workers", ["check", "--batch", shipped]],
      ["shipped_200k_1_worker", ["check", "--batch", shipped, "--workers", "1"]],
      ["fixture_200k_2_workers", ["check", "--batch", fixture, ...fixtureArgs]],
    ]) {
      const times = timeRun(args, reps);
      const m = median(times);
      result[name] = {
        requests: 200_000,
        median_s: fmt(m, 3),
        decisions_per_second: Math.round(200_000 / m),
        runs_s: times.map((t) => fmt(t, 3)),
      };
    }
    // Baseline in the same run: how fast can this machine merely JSON.parse the same lines?
    const text = readFileSync(shipped, "utf8").split("\n").filter(Boolean);
    const t0 = process.hrtime.bigint();
    for (const l of text) JSON.parse(l);
    result.baseline_json_parse_only_1_thread = {
      decisions_per_second: Math.round(text.length / (Number(process.hrtime.bigint() - t0) / 1e9)),
    };
    result.parallel_efficiency_2_threads = parallelEfficiency();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(runBatchBench(), null, 2));
