/**
 * THREATS.md T18: a store outage never turns into ALLOW. A private redis-server (never the shared
 * one) is killed mid-run, then hung (SIGSTOP), and restarted; a SQLite file is locked by another
 * process, and made unopenable. Every decision during the outage is a quick DENY with a clear
 * reason; nothing crashes; decisions resume when the store is back.
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GuardDeny, Guards } from "../../src/guards/guards.js";
import { openStateBackend } from "../../src/state/factory.js";
import { PrivateRedis, sleep, tempDir } from "../state/helpers.js";

const config = {
  rate_limit: { max_requests: 1_000_000, window_seconds: 60, circuit_breaker_threshold: 5 },
  cumulative_risk: { window_seconds: 60, escalation_threshold: 1_000_000, deny_threshold: 2_000_000 },
};
const allowed = { result: "allow" as const, reason: "ok", effective_risk: "low" as const };

/** The pipeline's view: before → (decide: ALLOW) → after. */
async function decide(g: Guards, caller: string): Promise<{ result: string; reason: string; ms: number }> {
  const t0 = performance.now();
  const before: GuardDeny | null = await g.beforeDecision(caller, Date.now());
  if (before !== null) return { result: "deny", reason: before.deny, ms: performance.now() - t0 };
  const after = await g.afterDecision(caller, allowed, Date.now());
  return { result: after.result, reason: after.reason, ms: performance.now() - t0 };
}

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

describe("Redis outage", () => {
  let redis: PrivateRedis;
  let g: Guards;

  afterAll(async () => {
    await g?.close();
    redis?.resume();
    await redis?.kill();
  });

  it("killed mid-run: DENY with a clear reason, fast, never ALLOW; resumes when it is back", async () => {
    redis = await PrivateRedis.start();
    g = new Guards(await openStateBackend(redis.url, { timeoutMs: 300 }), config);
    for (let i = 0; i < 20; i++) expect((await decide(g, `c${i % 3}`)).result).toBe("allow");

    await redis.kill();
    const during: Awaited<ReturnType<typeof decide>>[] = [];
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      during.push(await decide(g, `c${during.length % 3}`));
      await sleep(20);
    }
    expect(during.length).toBeGreaterThan(20);
    expect(during.every((d) => d.result === "deny")).toBe(true);
    for (const d of during)
      expect(d.reason).toMatch(new RegExp(`^State store unavailable: Redis 127\\.0\\.0\\.1:${redis.port}: `));
    console.log(`redis killed: ${during.length} decisions, all DENY; e.g. "${during.at(-1)!.reason}"`);
    const slowest = Math.max(...during.map((d) => d.ms));
    expect(slowest).toBeLessThan(1000);

    await redis.start();
    const back = Date.now();
    let first: Awaited<ReturnType<typeof decide>> | null = null;
    while (Date.now() - back < 5000) {
      const d = await decide(g, "c0");
      if (d.result === "allow") {
        first = d;
        break;
      }
      expect(d.result).toBe("deny");
      await sleep(50);
    }
    expect(first).not.toBeNull();
    console.log(`redis back: decisions resumed after ${Date.now() - back} ms`);
    // The restarted server is empty (no persistence): state restarts from zero, not an error.
    for (let i = 0; i < 5; i++) expect((await decide(g, "c1")).result).toBe("allow");
  });

  it("hung (SIGSTOP): DENY after the command timeout, not a stall; resumes on SIGCONT", async () => {
    redis.pause();
    const d = await decide(g, "c2");
    redis.resume();
    expect(d.result).toBe("deny");
    expect(d.reason).toMatch(/^State store unavailable: Redis 127\.0\.0\.1:\d+: /);
    expect(d.ms).toBeLessThan(1500);
    console.log(`redis hung: DENY in ${d.ms.toFixed(0)} ms: "${d.reason}"`);
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = (await decide(g, "c2")).result === "allow";
      if (!ok) await sleep(50);
    }
    expect(ok).toBe(true);
  });
});

describe("SQLite outage", () => {
  it("locked by another process beyond the busy timeout: DENY, then recovery when released", async () => {
    const dir = tempDir();
    const file = join(dir, "state.db");
    const g = new Guards(await openStateBackend(`sqlite:${file}`, { timeoutMs: 200 }), config);
    expect((await decide(g, "s")).result).toBe("allow");

    // Another process takes an exclusive lock on the file and holds it.
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const D = require(${JSON.stringify(require.resolve("better-sqlite3"))});
         const db = new D(${JSON.stringify(file)}); db.exec("BEGIN EXCLUSIVE");
         process.stdout.write("locked\\n"); setTimeout(() => {}, 60000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    try {
      const during = [await decide(g, "s"), await decide(g, "s2")];
      for (const d of during) {
        expect(d.result).toBe("deny");
        expect(d.reason).toBe(
          `State store unavailable: SQLite ${file}: database is locked (still busy after 200 ms)`,
        );
        expect(d.ms).toBeLessThan(1000);
      }
    } finally {
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
    }
    expect((await decide(g, "s")).result).toBe("allow");
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a database that cannot be opened: DENY naming the file, then recovery", async () => {
    const dir = tempDir();
    const file = join(dir, "state.db");
    mkdirSync(file); // a directory where the database file should be
    const g = new Guards(await openStateBackend(`sqlite:${file}`, {}), config);
    const d = await decide(g, "u");
    expect(d.result).toBe("deny");
    expect(d.reason).toMatch(new RegExp(`^State store unavailable: SQLite ${file}: .+`));
    console.log(`sqlite unopenable: "${d.reason}"`);
    rmSync(file, { recursive: true });
    expect((await decide(g, "u")).result).toBe("allow");
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
