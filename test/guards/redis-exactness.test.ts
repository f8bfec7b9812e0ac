/**
 * THREATS.md T6 / issue 4 acceptance: eight OS processes hammer one caller through Redis.
 * With max_requests 100 per 10 s, for one window length → exactly 100 allowed; and, on the
 * server's own timestamps of the allowed requests, never more than the limit in any window span.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteRedisPrefix, REDIS_URL, testPrefix } from "../state/helpers.js";
import { type Replica, startReplicas } from "./processes.js";

interface HammerResult {
  allowed: number[];
  denied: number;
  errors: number;
}

async function serverTimeMs(): Promise<number> {
  const r = new Redis(REDIS_URL, { lazyConnect: true });
  await r.connect();
  const [s, us] = await r.time();
  r.disconnect();
  return Number(s) * 1000 + Number(us) / 1000;
}

/** Every run of limit+1 consecutive allowed requests spans strictly more than the window. */
function maxInAnyClosedSpan(sorted: number[], spanMs: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! > spanMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

async function hammer(replicas: Replica[], caller: string, forMs: number) {
  // Start together: every replica is connected before the clock starts.
  const start = await serverTimeMs();
  const results = await Promise.all(
    replicas.map((r) => r.run<HammerResult>({ op: "hammer", caller, untilMs: start + forMs })),
  );
  const allowed = results.flatMap((r) => r.allowed).sort((a, b) => a - b);
  return {
    start,
    allowed,
    denied: results.reduce((n, r) => n + r.denied, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    perProcess: results.map((r) => r.allowed.length),
  };
}

describe("rate limit exactness: 8 processes through Redis", () => {
  const prefix = testPrefix();
  let replicas: Replica[] = [];

  beforeAll(async () => {
    replicas = await startReplicas(
      8,
      REDIS_URL,
      { keyPrefix: prefix },
      {
        rate_limit: { max_requests: 100, window_seconds: 10 },
        kill_switch: false,
      },
    );
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await deleteRedisPrefix(prefix);
  });

  it("max_requests 100 per 10 s, hammered for one window length: exactly 100 allowed", async () => {
    const run = await hammer(replicas, "flood", 9_800);
    console.log(
      `exactness: ${run.allowed.length} allowed, ${run.denied} denied, ${run.errors} errors; ` +
        `allowed per process ${run.perProcess.join("/")}; first allowed +${(run.allowed[0]! - run.start).toFixed(1)} ms, ` +
        `last +${(run.allowed.at(-1)! - run.start).toFixed(1)} ms`,
    );
    expect(run.errors).toBe(0);
    expect(run.allowed).toHaveLength(100);
    expect(run.denied).toBeGreaterThan(1000);
    expect(maxInAnyClosedSpan(run.allowed, 10_000)).toBeLessThanOrEqual(100);
    expect(run.allowed.every((t) => t >= run.start && t < run.start + 10_000)).toBe(true);
  });

  it("across several windows, never more than the limit in any window span (server timestamps)", async () => {
    // The same check with a short window, so the log slides several times: 20 per 2 s for 7 s.
    const quick = await startReplicas(
      8,
      REDIS_URL,
      { keyPrefix: prefix },
      {
        rate_limit: { max_requests: 20, window_seconds: 2 },
        kill_switch: false,
      },
    );
    try {
      const run = await hammer(quick, "slide", 7_000);
      console.log(
        `sliding: ${run.allowed.length} allowed, ${run.denied} denied; max in any 2 s span ` +
          `${maxInAnyClosedSpan(run.allowed, 2000)}`,
      );
      expect(run.errors).toBe(0);
      expect(maxInAnyClosedSpan(run.allowed, 2000)).toBe(20);
      // The window refilled as requests aged out: 20 at the start and 20 in each later 2 s.
      expect(run.allowed.length).toBeGreaterThanOrEqual(60);
      expect(run.allowed.length).toBeLessThanOrEqual(80);
    } finally {
      await Promise.all(quick.map((r) => r.stop()));
    }
  });
});
