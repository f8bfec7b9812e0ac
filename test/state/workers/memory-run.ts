/**
 * Decisions from distinct callers through memory-backed guards (rate limit + cumulative risk),
 * in a process of its own so RSS is measured cleanly. Prints one JSON line.
 * Usage: node --expose-gc --import tsx memory-run.ts <callers> <extra callers over the cap>
 */
import { Guards } from "../../../src/guards/guards.js";
import { MemoryBackend } from "../../../src/state/memory/backend.js";

const callers = Number(process.argv[2] ?? 100_000);
const extra = Number(process.argv[3] ?? 0);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rss = () => {
  gc();
  gc();
  return process.memoryUsage().rss;
};

const g = new Guards(new MemoryBackend(), {
  rate_limit: { max_requests: 100, window_seconds: 60 },
  cumulative_risk: {},
});
const allow = { result: "allow" as const, reason: "ok", effective_risk: "medium" as const };
const T = 1_700_000_000_000;

async function run(from: number, to: number) {
  const counts: Record<string, number> = {};
  for (let i = from; i < to; i++) {
    const now = T + i / 1000;
    const caller = `agent-${i}`;
    const before = await g.beforeDecision(caller, now);
    const result = before !== null ? before.deny : (await g.afterDecision(caller, allow, now)).result;
    counts[result] = (counts[result] ?? 0) + 1;
  }
  return counts;
}

// Warm up (JIT, maps) on other ids, then measure from a settled baseline.
const warm = new Guards(new MemoryBackend(), { rate_limit: {}, cumulative_risk: {} });
for (let i = 0; i < 20_000; i++) await warm.beforeDecision(`w${i}`, T);
const base = rss();
const t0 = performance.now();
const first = await run(0, callers);
const afterFirst = rss();
const second = await run(callers, callers + extra);
const afterSecond = rss();
process.stdout.write(
  `${JSON.stringify({
    callers,
    extra,
    first,
    second,
    rss_base_mb: base / 2 ** 20,
    rss_growth_mb: (afterFirst - base) / 2 ** 20,
    rss_growth_after_extra_mb: (afterSecond - base) / 2 ** 20,
    seconds: (performance.now() - t0) / 1000,
  })}\n`,
);
