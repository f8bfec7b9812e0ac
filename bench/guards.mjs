// Guard checks (kill switch + breaker + rate limit before the decision, cumulative risk + breaker
// after it) per second and per-call latency on memory, SQLite and Redis state; and the
// million-distinct-caller memory run (RSS growth, in a child process of its own with --expose-gc).
// Usage (after a build): node bench/guards.mjs, or through `npm run bench -- guards`.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Guards } from "../dist/guards/guards.js";
import { openStateBackend } from "../dist/state/factory.js";
import { cleanupRedis, fmt, median, quantile } from "./lib.mjs";

const SELF = fileURLToPath(import.meta.url);
const REDIS_URL = process.env.AGENT_SAFE_BENCH_REDIS ?? "redis://127.0.0.1:6379";
const ALLOW = { result: "allow", reason: "ok", effective_risk: "low" };
const GUARDS = {
  // The defaults (100 requests per 60 s) with the breaker on; callers are spread so none is limited.
  rate_limit: { max_requests: 100, window_seconds: 60, circuit_breaker_threshold: 5 },
  cumulative_risk: { escalation_threshold: 1_000_000_000, deny_threshold: 2_000_000_000 },
};

/** One guarded decision as the pipeline makes it: before → (decide) → after. */
async function guarded(g, caller) {
  const now = Date.now();
  const deny = await g.beforeDecision(caller, now);
  if (deny !== null) return deny.code;
  return (await g.afterDecision(caller, ALLOW, now)).result;
}

async function sequential(g, count, callers) {
  const lat = new Float64Array(count);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    const r = await guarded(g, `caller-${i % callers}`);
    lat[i] = performance.now() - s;
    if (r !== "allow") throw new Error(`unexpected ${r}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  lat.sort();
  return {
    checks_per_second: Math.round(count / seconds),
    p50_us: fmt(quantile(lat, 0.5) * 1000, 1),
    p99_us: fmt(quantile(lat, 0.99) * 1000, 1),
  };
}

/** `inFlight` concurrent pipelines (a server handling many requests at once). */
async function concurrent(g, count, callers, inFlight) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await guarded(g, `caller-${next++ % callers}`);
    }),
  );
  return Math.round(count / ((performance.now() - t0) / 1000));
}

async function backendRun(url, options, { count, concurrentCount, rounds, callers }) {
  const backend = await openStateBackend(url, options);
  const g = new Guards(backend, GUARDS);
  try {
    await sequential(g, Math.min(2000, count), callers); // warm-up
    const runs = [];
    for (let r = 0; r < rounds; r++) runs.push(await sequential(g, count, callers));
    const conc = [];
    for (let r = 0; r < rounds; r++) conc.push(await concurrent(g, concurrentCount, callers, 32));
    return {
      checks_per_second: median(runs.map((x) => x.checks_per_second)),
      p50_us: median(runs.map((x) => x.p50_us)),
      p99_us: median(runs.map((x) => x.p99_us)),
      concurrent_32_checks_per_second: median(conc),
      rounds,
      callers,
    };
  } finally {
    await g.close();
  }
}

/** The child: N decisions from N distinct callers on memory guards; prints one JSON line. */
async function millionChild(count, scenario) {
  const gc = globalThis.gc ?? (() => {});
  const rss = () => {
    gc();
    gc();
    return process.memoryUsage().rss;
  };
  // burst: every caller at once, default settings (60 s rate window, 1 h risk window): the cap
  // (100,000) fills with live state and later callers are denied.
  // steady: the same callers spread over an hour with 60 s windows: eviction keeps up.
  const steady = scenario === "steady";
  const config = steady
    ? { rate_limit: { window_seconds: 60 }, cumulative_risk: { window_seconds: 60 } }
    : { rate_limit: {}, cumulative_risk: {} };
  const g = new Guards(await openStateBackend("memory"), config);
  const warm = new Guards(await openStateBackend("memory"), config);
  const T = 1_700_000_000_000;
  for (let i = 0; i < 20_000; i++) await warm.beforeDecision(`w${i}`, T);
  const step = steady ? 3_600_000 / count : 0.001;
  const base = rss();
  const counts = {};
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const now = T + i * step;
    const caller = `agent-${i}`;
    const before = await g.beforeDecision(caller, now);
    const result = before !== null ? before.code : (await g.afterDecision(caller, ALLOW, now)).result;
    counts[result] = (counts[result] ?? 0) + 1;
  }
  const seconds = (performance.now() - t0) / 1000;
  const growth = (rss() - base) / 2 ** 20;
  process.stdout.write(
    `${JSON.stringify({ decisions: count, scenario, results: counts, rss_growth_mb: fmt(growth, 1), seconds: fmt(seconds, 1) })}\n`,
  );
}

function million(scenario, count = 1_000_000) {
  const r = spawnSync(process.execPath, ["--expose-gc", SELF, "--million-child", String(count), scenario], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`million run failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export async function runGuardsBench() {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-bench-"));
  const prefix = `agent-safe-bench:${randomUUID()}:`;
  const out = {};
  try {
    out.memory = await backendRun(
      "memory",
      {},
      {
        count: 200_000,
        concurrentCount: 200_000,
        rounds: 3,
        callers: 50_000,
      },
    );
    out.sqlite = await backendRun(
      `sqlite:${join(dir, "state.db")}`,
      {},
      {
        count: 20_000,
        concurrentCount: 20_000,
        rounds: 3,
        callers: 10_000,
      },
    );
    try {
      out.redis = await backendRun(
        REDIS_URL,
        { keyPrefix: prefix },
        {
          count: 20_000,
          concurrentCount: 50_000,
          rounds: 3,
          callers: 10_000,
        },
      );
    } catch (err) {
      out.redis = { error: String(err?.message ?? err) };
    } finally {
      await cleanupRedis(prefix, REDIS_URL);
    }
    out.million_burst = million("burst");
    out.million_steady = million("steady");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[2] === "--million-child") {
  await millionChild(Number(process.argv[3]), process.argv[4]);
} else if (process.argv[1] === SELF) {
  console.log(JSON.stringify(await runGuardsBench(), null, 2));
}
