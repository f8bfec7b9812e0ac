/**
 * DESIGN.md §4 item 11 / THREATS.md T6: per-caller state is bounded. Distinct callers with rate
 * limiting and cumulative risk on: memory grows with live state up to the cap and no further;
 * callers beyond a cap full of live state are denied, never allowed; expired state is evicted
 * and makes room. (The million-caller run is `npm run bench -- guards`.)
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CAPACITY_REASON, Guards } from "../../src/guards/guards.js";
import { MemoryBackend } from "../../src/state/memory/backend.js";

const WORKER = join(import.meta.dirname, "workers", "memory-run.ts");
const T = 1_700_000_000_000;
const allow = { result: "allow" as const, reason: "ok", effective_risk: "low" as const };

describe("bounded guard state (memory)", () => {
  it("100,000 distinct callers: RSS growth bounded; 50,000 more over the full cap are all denied", () => {
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", WORKER, "100000", "50000"], {
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as {
      first: Record<string, number>;
      second: Record<string, number>;
      rss_growth_mb: number;
      rss_growth_after_extra_mb: number;
    };
    console.log(
      `memory: 100k callers → RSS +${m.rss_growth_mb.toFixed(1)} MB; 50k more over the cap → ` +
        `+${m.rss_growth_after_extra_mb.toFixed(1)} MB total; ${JSON.stringify(m.second)}`,
    );
    // The default cap (100,000) holds every one of them: all allowed.
    expect(m.first).toEqual({ allow: 100_000 });
    // The cap is full of live state: every new caller is denied, none allowed.
    expect(m.second).toEqual({ [CAPACITY_REASON]: 50_000 });
    expect(m.rss_growth_mb).toBeLessThan(100);
    expect(m.rss_growth_after_extra_mb - m.rss_growth_mb).toBeLessThan(15);
  });

  it("no caller over the cap is allowed while the cap is full of live state; expiry makes room", async () => {
    const g = new Guards(new MemoryBackend({ maxCallers: 1000 }), {
      rate_limit: { max_requests: 10, window_seconds: 60 },
      cumulative_risk: { window_seconds: 60 },
    });
    const decide = async (caller: string, now: number) =>
      (await g.beforeDecision(caller, now))?.deny ?? (await g.afterDecision(caller, allow, now)).result;
    for (let i = 0; i < 1000; i++) expect(await decide(`a${i}`, T)).toBe("allow");
    for (let i = 0; i < 500; i++) expect(await decide(`b${i}`, T + 1000)).toBe(CAPACITY_REASON);
    // Callers already tracked keep being served.
    expect(await decide("a7", T + 2000)).toBe("allow");
    // A minute later the first wave has expired (a7 included, touched at T+2 s, expires at T+62 s).
    for (let i = 0; i < 999; i++) expect(await decide(`c${i}`, T + 61_000)).toBe("allow");
    expect(await decide("c999", T + 61_000)).toBe(CAPACITY_REASON);
    expect(await decide("c999", T + 62_001)).toBe("allow");
  });

  it("each kind is capped: a full risk window store denies after the decision", async () => {
    const g = new Guards(new MemoryBackend({ maxCallers: 3 }), { cumulative_risk: {} });
    for (const c of ["x", "y", "z"]) expect((await g.afterDecision(c, allow, T)).result).toBe("allow");
    expect(await g.afterDecision("w", allow, T)).toMatchObject({
      result: "deny",
      reason: CAPACITY_REASON,
      code: "state_capacity",
    });
  });
});
