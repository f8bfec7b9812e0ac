/**
 * Cumulative risk on real decisions from the shipped policies (REFERENCE.md §7.2, §2.2 steps
 * 12–14, Appendix C's example) on every backend, and per delegation root (THREATS.md T7).
 */
import { afterAll, describe, expect, it } from "vitest";
import { evalTimeFromEpoch } from "../../src/core/time.js";
import type { Profile } from "../../src/core/types.js";
import { CumulativeRisk } from "../../src/guards/cumulative-risk.js";
import { Guards } from "../../src/guards/guards.js";
import type { CallerInput } from "../../src/pdp/caller.js";
import { evaluate } from "../../src/pdp/pdp.js";
import type { CheckRequest } from "../../src/pdp/request.js";
import { MemoryBackend } from "../../src/state/memory/backend.js";
import { shippedWorld } from "../helpers/world.js";
import { testBackends } from "../state/helpers.js";

const T = Date.parse("2025-01-15T10:00:00Z");
const deployer = (id: string, chain: string[] = []) => ({
  agent_id: id,
  roles: ["deployer"],
  delegation_chain: chain.map((agent_id) => ({ agent_id })),
  delegation_depth: chain.length,
});
const devLogs = (caller: CallerInput): CheckRequest => ({
  action: "get-pod-logs",
  target: "dev/test-app",
  caller,
  params: { namespace: "dev", pod: "api-0" },
});
const prodDelete = (caller: CallerInput): CheckRequest => ({
  action: "delete-namespace",
  target: "prod/payments-ns",
  caller,
  params: { namespace: "payments" },
});
const stagingRestart = (caller: CallerInput): CheckRequest => ({
  action: "restart-deployment",
  target: "staging/api-server",
  caller,
  params: { namespace: "staging", deployment: "api-server" },
});

const worlds = { reference: shippedWorld("reference"), strict: shippedWorld("strict") };

/** decide() then the guards, as the pipeline will. */
async function check(g: Guards, profile: Profile, req: CheckRequest, now: number, chain: string[] = []) {
  const d = evaluate(worlds[profile], req, evalTimeFromEpoch(now));
  return { decision: d, after: await g.afterDecision(d.caller, d, now, { chain }) };
}

for (const tb of testBackends()) {
  describe(`cumulative risk: ${tb.name}`, () => {
    afterAll(() => tb.cleanup());

    for (const profile of ["reference", "strict"] as const) {
      it(`Appendix C: allow (1), require_approval (51), then DENY at 101 — ${profile}`, async () => {
        const g = new Guards(await tb.open(), { cumulative_risk: {} });
        const a = await check(g, profile, devLogs(deployer("A")), T);
        expect(a.decision.effective_risk).toBe("low");
        expect(a.after).toMatchObject({
          result: "allow",
          cumulative_risk_score: 1,
          cumulative_risk_class: "low",
          escalated_from: null,
          code: null,
        });
        expect(a.after.audit).toMatchObject({ cumulative_risk_score: 1, cumulative_entry_count: 1 });
        expect(Number(a.after.audit!.cumulative_window_seconds)).toBe(3600);
        expect(a.after.audit).not.toHaveProperty("escalated_from");

        const b = await check(g, profile, prodDelete(deployer("A")), T + 1000);
        expect(b.after).toMatchObject({
          result: "require_approval",
          cumulative_risk_score: 51,
          cumulative_risk_class: "high",
          escalated_from: null,
        });

        const c = await check(g, profile, prodDelete(deployer("A")), T + 2000);
        expect(c.decision.result).toBe("require_approval");
        expect(c.after).toMatchObject({
          result: "deny",
          reason:
            "Cumulative risk threshold exceeded (101 >= 75). Original: Critical-risk actions always require human approval",
          escalated_from: "require_approval",
          cumulative_risk_score: 101,
          cumulative_risk_class: "critical",
          code: "cumulative_risk",
        });
        expect(c.after.audit).toMatchObject({
          cumulative_risk_score: 101,
          cumulative_risk_class: "critical",
          cumulative_entry_count: 3,
          escalated_from: "require_approval",
        });
        // JSON as the audit log writes it: the window is a float.
        expect(JSON.stringify(c.after.audit)).toBe(
          '{"cumulative_risk_score":101,"cumulative_risk_class":"critical","cumulative_entry_count":3,' +
            '"cumulative_window_seconds":3600,"escalated_from":"require_approval"}',
        );
        // Locked out: every further non-DENY attempt is recorded and denied.
        const d = await check(g, profile, devLogs(deployer("A")), T + 3000);
        expect(d.after).toMatchObject({
          result: "deny",
          cumulative_risk_score: 102,
          escalated_from: "allow",
        });
        expect(d.after.reason).toBe(
          "Cumulative risk threshold exceeded (102 >= 75). Original: Development environment is unrestricted",
        );
        // Another caller is not affected.
        expect((await check(g, profile, devLogs(deployer("B")), T + 3000)).after.result).toBe("allow");
      });
    }

    it("ALLOW escalates to REQUIRE_APPROVAL at the escalation threshold, then DENY at the deny threshold", async () => {
      const g = new Guards(await tb.open(), { cumulative_risk: {} });
      // restart-deployment on staging: ALLOW, effective medium, 5 points each.
      const results: string[] = [];
      for (let i = 0; i < 16; i++) {
        const { after } = await check(g, "strict", stagingRestart(deployer("S")), T + i * 1000);
        results.push(`${after.result}:${after.cumulative_risk_score}:${after.cumulative_risk_class}`);
        if (i === 5) {
          expect(after.reason).toBe(
            "Escalated by cumulative risk (30 >= 30). Original: Deployer agents are authorized for staging deployment management",
          );
          expect(after.escalated_from).toBe("allow");
          expect(after.audit?.escalated_from).toBe("allow");
        }
      }
      expect(results).toEqual([
        "allow:5:low",
        "allow:10:low",
        "allow:15:medium",
        "allow:20:medium",
        "allow:25:medium",
        "require_approval:30:high",
        "require_approval:35:high",
        "require_approval:40:high",
        "require_approval:45:high",
        "require_approval:50:high",
        "require_approval:55:high",
        "require_approval:60:high",
        "require_approval:65:high",
        "require_approval:70:high",
        "deny:75:critical",
        "deny:80:critical",
      ]);
    });

    it("DENY results are neither scored nor given cumulative fields; scores age out of the window", async () => {
      const g = new Guards(await tb.open(), { cumulative_risk: { window_seconds: 10 } });
      const denied = await g.afterDecision(
        "D",
        { result: "deny", reason: "x", effective_risk: "critical" },
        T,
      );
      expect(denied).toMatchObject({ result: "deny", reason: "x", cumulative_risk_score: null, audit: null });
      const ok = { result: "allow" as const, reason: "ok", effective_risk: "critical" as const };
      expect((await g.afterDecision("D", ok, T)).cumulative_risk_score).toBe(50);
      expect((await g.afterDecision("D", ok, T + 10_000)).cumulative_risk_score).toBe(100);
      expect((await g.afterDecision("D", ok, T + 10_000.5)).cumulative_risk_score).toBe(100);
      expect((await g.afterDecision("D", ok, T + 30_000)).cumulative_risk_score).toBe(50);
    });

    it("T7: a root agent cannot reset its score by delegating to fresh ids", async () => {
      const g = new Guards(await tb.open(), { cumulative_risk: {} });
      const seen: string[] = [];
      // Root R acts itself once, then through a new delegate every time.
      seen.push((await check(g, "strict", stagingRestart(deployer("R")), T)).after.result);
      for (let i = 1; i < 16; i++) {
        const { after } = await check(g, "strict", stagingRestart(deployer(`fresh-${i}`, ["R"])), T + i, [
          "R",
        ]);
        seen.push(after.result);
        if (i === 5) expect(after).toMatchObject({ cumulative_risk_score: 30, cumulative_keyed_by: "root" });
        if (i === 14)
          expect(after.reason).toMatch(/^Cumulative risk threshold exceeded \(75 >= 75\)\. Original: /);
      }
      expect(seen.filter((r) => r === "allow")).toHaveLength(5);
      expect(seen.filter((r) => r === "require_approval")).toHaveLength(9);
      expect(seen.slice(14)).toEqual(["deny", "deny"]);
      // Each fresh delegate's own window holds only its own 5 points.
      const own = await g.cumulativeRisk!.current("fresh-3", T + 100);
      expect(own).toMatchObject({ score: 5, keyedBy: "caller" });
    });
  });
}

describe("cumulative risk: configuration", () => {
  const cr = (config = {}) => new CumulativeRisk(config, new MemoryBackend().risk);

  it("maps scores to classes with escalation // 2 as the medium boundary", () => {
    const c = cr({ escalation_threshold: 31, deny_threshold: 75 });
    expect([0, 14, 15, 30, 31, 74, 75, 1000].map((s) => c.classify(s))).toEqual([
      "low",
      "low",
      "medium",
      "medium",
      "high",
      "high",
      "critical",
      "critical",
    ]);
  });

  it("a partial risk_scores map replaces the whole default (missing classes score 0)", () => {
    const c = cr({ risk_scores: { critical: 10 } });
    expect(["low", "medium", "high", "critical"].map((r) => c.scoreOf(r as "low"))).toEqual([0, 0, 0, 10]);
    expect(cr().scoreOf("high")).toBe(15);
  });

  it("rejects bad settings", () => {
    expect(() => cr({ deny_threshold: 0 })).toThrow("cumulative_risk.deny_threshold must be an integer ≥ 1");
    expect(() => cr({ risk_scores: { low: 1.5 } })).toThrow(
      "cumulative_risk.risk_scores.low must be an integer",
    );
    expect(() => cr({ window_seconds: -1 })).toThrow("cumulative_risk.window_seconds");
  });

  it("stores fail closed: an unreachable store turns the decision into DENY", async () => {
    const backend = new MemoryBackend();
    backend.risk.add = async () => {
      throw new (await import("../../src/state/types.js")).StateUnavailableError("Redis x: down");
    };
    const g = new Guards(backend, { cumulative_risk: {} });
    const out = await g.afterDecision("E", { result: "allow", reason: "ok", effective_risk: "low" }, T);
    expect(out).toMatchObject({
      result: "deny",
      reason: "State store unavailable: Redis x: down",
      code: "state_unavailable",
      cumulative_risk_score: null,
    });
  });
});
