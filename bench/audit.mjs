// Audited decisions and audit verification (issue 3):
// - decisions/s with audit at fsync never and fsync batch, 64 concurrent callers, each call = a
//   PDP evaluate() on the shipped catalogue + an awaited AuditWriter.append(); p50/p99 per call;
// - audit verify events/s on a 100,000-event v2 log: the library (all threads, and one thread) and
//   the CLI end to end (process start included).
// Runs on the built library (dist/). Each figure is the median of several runs.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditWriter, decisionEvent, verifyLog } from "../dist/audit/index.js";
import { loadWorld } from "../dist/config/load-world.js";
import { evalTimeFromEpoch } from "../dist/core/time.js";
import { evaluate } from "../dist/pdp/pdp.js";
import { shippedRequests } from "./decide.mjs";
import { fmt, median, quantile } from "./lib.mjs";

const ROOT = new URL("..", import.meta.url).pathname;

function shipped() {
  return loadWorld(
    {
      actions: join(ROOT, "actions"),
      policies: join(ROOT, "policies"),
      inventory: join(ROOT, "inventory.yaml"),
    },
    { profile: "strict" },
  ).world;
}

/** `callers` concurrent loops of evaluate()+append() until `total` decisions are logged. */
async function auditedRun(world, requests, fsync, callers, total) {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-bench-audit-"));
  const writer = await AuditWriter.open({ path: join(dir, "audit.jsonl"), fsync });
  const time = evalTimeFromEpoch(Date.now());
  const samples = new Float64Array(total);
  let next = 0;
  const loop = async () => {
    for (;;) {
      const k = next++;
      if (k >= total) return;
      const q = requests[k % requests.length];
      const t0 = performance.now();
      const decision = evaluate(world, q, time);
      await writer.append(decisionEvent(decision, { params: q.params }));
      samples[k] = performance.now() - t0;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: callers }, loop));
  const seconds = (performance.now() - t0) / 1000;
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
  samples.sort();
  return {
    decisions_per_second: Math.round(total / seconds),
    p50_ms: fmt(quantile(samples, 0.5), 3),
    p99_ms: fmt(quantile(samples, 0.99), 3),
  };
}

async function audited(world, requests, fsync, callers, total, runs) {
  await auditedRun(world, requests, fsync, callers, Math.min(total, 20_000)); // warm-up
  const all = [];
  for (let r = 0; r < runs; r++) all.push(await auditedRun(world, requests, fsync, callers, total));
  return {
    callers,
    decisions: total,
    decisions_per_second: median(all.map((x) => x.decisions_per_second)),
    p50_ms: median(all.map((x) => x.p50_ms)),
    p99_ms: median(all.map((x) => x.p99_ms)),
    runs: all,
  };
}

async function verifyBench(world, requests, events, runs) {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-bench-verify-"));
  const log = join(dir, "audit.jsonl");
  const writer = await AuditWriter.open({ path: log, fsync: "never" });
  const time = evalTimeFromEpoch(Date.now());
  for (let i = 0; i < events; i += 1000) {
    const batch = [];
    for (let k = i; k < Math.min(events, i + 1000); k++) {
      const q = requests[k % requests.length];
      batch.push(writer.append(decisionEvent(evaluate(world, q, time), { params: q.params })));
    }
    await Promise.all(batch);
  }
  await writer.close();
  const bytes = statSync(log).size;
  const time1 = async (opts) => {
    const t0 = performance.now();
    const r = await verifyLog(log, opts);
    const s = (performance.now() - t0) / 1000;
    if (!r.ok || r.events !== events)
      throw new Error(`bench log did not verify: ${JSON.stringify(r.issues.slice(0, 3))}`);
    return Math.round(events / s);
  };
  const cli = () => {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [join(ROOT, "bin", "agent-safe.js"), "audit", "verify", log, "--json"],
      {
        encoding: "utf8",
        cwd: dir,
      },
    );
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`audit verify failed: ${r.stdout}${r.stderr}`);
    return Math.round(events / s);
  };
  await time1({}); // warm-up
  const parallel = [];
  const single = [];
  const viaCli = [];
  for (let r = 0; r < runs; r++) {
    parallel.push(await time1({}));
    single.push(await time1({ workers: 1 }));
    viaCli.push(cli());
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    events,
    log_mb: fmt(bytes / 2 ** 20, 1),
    events_per_second: median(parallel),
    one_thread_events_per_second: median(single),
    cli_events_per_second: median(viaCli),
    runs: { parallel, single, cli: viaCli },
  };
}

export async function runAuditBench() {
  const world = shipped();
  const requests = shippedRequests(world, 20_000);
  return {
    fsync_never_64: await audited(world, requests, "never", 64, 200_000, 3),
    fsync_batch_64: await audited(world, requests, "batch", 64, 200_000, 3),
    fsync_batch_1: await audited(world, requests, "batch", 1, 5_000, 3),
    verify_100k: await verifyBench(world, requests, 100_000, 5),
  };
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await runAuditBench(), null, 2));
