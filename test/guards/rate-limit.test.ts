/**
 * Rate limit and circuit breaker through `Guards`, with an injected clock: 0.9.0's semantics and
 * reason strings byte for byte (REFERENCE.md §7.1, §2.2 steps 7 and 13).
 */
import { describe, expect, it } from "vitest";
import { GuardConfigError } from "../../src/guards/config.js";
import { Guards } from "../../src/guards/guards.js";
import { MemoryBackend } from "../../src/state/memory/backend.js";

const T = 1_700_000_000_000;
const allow = { result: "allow" as const, reason: "ok", effective_risk: "low" as const };
const deny = {
  result: "deny" as const,
  reason: "No matching policy (default deny)",
  effective_risk: "low" as const,
};

function guards(rate_limit: Record<string, number>) {
  return new Guards(new MemoryBackend(), { rate_limit });
}

describe("rate limit", () => {
  it("allows max_requests per window, then denies with 0.9.0's reason", async () => {
    const g = guards({ max_requests: 3, window_seconds: 60 });
    for (let i = 0; i < 3; i++) expect(await g.beforeDecision("agent-1", T + i)).toBeNull();
    expect(await g.beforeDecision("agent-1", T + 3)).toEqual({
      deny: "Rate limit exceeded for caller 'agent-1': 3 requests per 60s window.",
      code: "rate_limit",
    });
    // Other callers have their own window; "anonymous" is one shared bucket like any id.
    expect(await g.beforeDecision("agent-2", T + 4)).toBeNull();
    // The oldest request (at T) is still counted at exactly T + 60 s, and forgotten just after.
    expect(await g.beforeDecision("agent-1", T + 60_000)).not.toBeNull();
    expect(await g.beforeDecision("agent-1", T + 60_000.5)).toBeNull();
    // Now T+1, T+2 and T+60000.5 fill the window: T+1 counts at T+60001 and is gone just after.
    expect(await g.beforeDecision("agent-1", T + 60_001)).not.toBeNull();
    expect(await g.beforeDecision("agent-1", T + 60_001.5)).toBeNull();
  });

  it("formats the window with Python's :.0f (round half to even)", async () => {
    for (const [w, text] of [
      [2.5, "2"],
      [10.5, "10"],
      [3.5, "4"],
      [0.25, "0"],
      [60.0, "60"],
    ] as const) {
      const g = guards({ max_requests: 1, window_seconds: w });
      await g.beforeDecision("c", T);
      expect((await g.beforeDecision("c", T))?.deny).toBe(
        `Rate limit exceeded for caller 'c': 1 requests per ${text}s window.`,
      );
    }
  });

  it("validates its settings with 0.9.0's constraints", () => {
    expect(() => guards({ max_requests: 0 })).toThrow(GuardConfigError);
    expect(() => guards({ window_seconds: 0 })).toThrow("rate_limit.window_seconds must be greater than 0");
    expect(() => guards({ circuit_breaker_threshold: -1 })).toThrow(GuardConfigError);
    expect(() => guards({ circuit_breaker_cooldown_seconds: 0 })).toThrow(GuardConfigError);
  });
});

describe("circuit breaker", () => {
  const config = {
    max_requests: 1000,
    window_seconds: 60,
    circuit_breaker_threshold: 3,
    circuit_breaker_window_seconds: 60,
    circuit_breaker_cooldown_seconds: 300,
  };

  it("opens after threshold denies, reports the cooldown left, closes after it", async () => {
    const g = guards(config);
    for (let i = 0; i < 2; i++) {
      expect(await g.beforeDecision("bot", T + i)).toBeNull();
      expect((await g.afterDecision("bot", deny, T + i)).breaker).toMatchObject({ opened: false });
    }
    expect(await g.beforeDecision("bot", T + 2)).toBeNull();
    expect((await g.afterDecision("bot", deny, T + 2)).breaker).toMatchObject({ opened: true, denies: 3 });
    const reason = (s: string) =>
      `Circuit breaker open for caller 'bot': too many denied requests. Auto-resumes in ${s}s.`;
    expect(await g.beforeDecision("bot", T + 2)).toEqual({ deny: reason("300"), code: "circuit_breaker" });
    // 299.5 s left → "300" (half to even), 298.5 → "298", 0.4 → "0".
    expect((await g.beforeDecision("bot", T + 502))?.deny).toBe(reason("300"));
    expect((await g.beforeDecision("bot", T + 1502))?.deny).toBe(reason("298"));
    expect((await g.beforeDecision("bot", T + 299_601.6))?.deny).toBe(reason("0"));
    // Other callers are unaffected.
    expect(await g.beforeDecision("other", T + 3)).toBeNull();
    // Cooldown over: closed, and the deny log cleared (two more denies do not reopen it).
    expect(await g.beforeDecision("bot", T + 300_002)).toBeNull();
    await g.afterDecision("bot", deny, T + 300_003);
    await g.afterDecision("bot", deny, T + 300_004);
    expect(await g.beforeDecision("bot", T + 300_005)).toBeNull();
  });

  it("records only final DENY results; rate-limit rejections are not recorded", async () => {
    const g = guards({ ...config, max_requests: 1, circuit_breaker_threshold: 1 });
    expect(await g.beforeDecision("x", T)).toBeNull();
    expect((await g.afterDecision("x", allow, T)).breaker).toBeNull();
    // Ten rate-limit rejections: none of them trips a threshold-1 breaker.
    for (let i = 1; i <= 10; i++) expect((await g.beforeDecision("x", T + i))?.code).toBe("rate_limit");
    // One DENY decision does.
    expect((await g.afterDecision("x", deny, T + 11)).breaker).toMatchObject({ opened: true });
    expect((await g.beforeDecision("x", T + 12))?.code).toBe("circuit_breaker");
  });

  it("a deny made by cumulative risk is recorded too (step 13)", async () => {
    const g = new Guards(new MemoryBackend(), {
      rate_limit: { ...config, circuit_breaker_threshold: 1 },
      cumulative_risk: { deny_threshold: 1, escalation_threshold: 1 },
    });
    const out = await g.afterDecision("y", allow, T);
    expect(out.result).toBe("deny");
    expect(out.breaker).toMatchObject({ opened: true });
  });

  it("threshold 0 disables the breaker", async () => {
    const g = guards({ max_requests: 10 });
    for (let i = 0; i < 5; i++) expect((await g.afterDecision("z", deny, T + i)).breaker).toBeNull();
    expect(await g.beforeDecision("z", T + 6)).toBeNull();
  });

  it("checks in order: kill switch, then breaker, then rate limit", async () => {
    const g = guards({ ...config, max_requests: 1, circuit_breaker_threshold: 1 });
    await g.beforeDecision("o", T);
    expect((await g.beforeDecision("o", T + 1))?.code).toBe("rate_limit");
    await g.afterDecision("o", deny, T + 2);
    expect((await g.beforeDecision("o", T + 3))?.code).toBe("circuit_breaker");
    await g.killSwitch!.engage({ caller: "o" });
    expect((await g.beforeDecision("o", T + 4))?.code).toBe("kill_switch");
  });
});
