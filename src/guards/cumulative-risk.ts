/**
 * Cumulative risk (REFERENCE.md §7.2, §2.2 step 12): every non-DENY decision adds its
 * effective risk's score to a sliding window; the window's sum S escalates ALLOW to
 * REQUIRE_APPROVAL at `escalation_threshold` and any non-DENY result to DENY at `deny_threshold`.
 * The score is recorded before escalating, so a decision turned into DENY still counts.
 *
 * Deliberate extension (THREATS.md T7): a delegated caller's score is recorded under its own id
 * AND under the root of its delegation chain, and S is the larger of the two sums. A root agent
 * therefore cannot reset its budget by delegating to fresh ids: everything done in its name, by
 * itself or any delegate, lands in one window. Without delegation only the caller's window is
 * used, exactly as in 0.9.0.
 */

import { PyFloat } from "../core/pyvalue.js";
import type { DecisionResult, RiskClass } from "../core/types.js";
import type { RiskTotal, RiskWindowStore } from "../state/interfaces.js";
import type { MemorySyncStores } from "../state/memory/backend.js";
import { type CumulativeRiskConfig, cumulativeRiskConfig } from "./config.js";

export interface CumulativeScore {
  /** S: the window sum that decides (the larger of caller and root). */
  score: number;
  riskClass: RiskClass;
  entryCount: number;
  windowSeconds: number;
  /** Whose window gave S: the caller's own, or the delegation root's. */
  keyedBy: "caller" | "root";
  /** The root agent id when the caller acts by delegation, else null. */
  rootId: string | null;
}

export interface Escalation {
  result: DecisionResult;
  reason: string;
  escalatedFrom: DecisionResult | null;
}

export class CumulativeRisk {
  readonly config: CumulativeRiskConfig;
  readonly windowMs: number;

  constructor(
    config: Partial<CumulativeRiskConfig>,
    private readonly store: RiskWindowStore,
  ) {
    this.config = cumulativeRiskConfig(config);
    this.windowMs = this.config.window_seconds * 1000;
  }

  /** The score of one effective-risk class (0 for a class missing from `risk_scores`). */
  scoreOf(risk: RiskClass): number {
    return Object.hasOwn(this.config.risk_scores, risk) ? this.config.risk_scores[risk]! : 0;
  }

  /** ≥ deny → critical; ≥ escalation → high; ≥ escalation // 2 → medium; else low. */
  classify(score: number): RiskClass {
    const { deny_threshold: deny, escalation_threshold: esc } = this.config;
    if (score >= deny) return "critical";
    if (score >= esc) return "high";
    if (score >= Math.floor(esc / 2)) return "medium";
    return "low";
  }

  /** Records the decision's score (caller and delegation root) and returns the window sum S. */
  async recordAndEvaluate(
    callerId: string,
    effectiveRisk: RiskClass,
    nowMs: number,
    rootId: string | null = null,
  ): Promise<CumulativeScore> {
    const score = this.scoreOf(effectiveRisk);
    const root = rootId !== null && rootId !== callerId ? rootId : null;
    const [own, viaRoot] = await Promise.all([
      this.store.add(callerId, score, this.windowMs, nowMs),
      root === null ? null : this.store.add(root, score, this.windowMs, nowMs),
    ]);
    return this.result(own, viaRoot, root);
  }

  /** `recordAndEvaluate` on an in-process store that answers synchronously (the same steps). */
  recordAndEvaluateSync(
    store: Pick<MemorySyncStores, "riskAdd">,
    callerId: string,
    effectiveRisk: RiskClass,
    nowMs: number,
    rootId: string | null = null,
  ): CumulativeScore {
    const score = this.scoreOf(effectiveRisk);
    const root = rootId !== null && rootId !== callerId ? rootId : null;
    // Both are recorded even when the first fails, as the concurrent async form does.
    let failed = false;
    let error: unknown;
    let own: RiskTotal | undefined;
    try {
      own = store.riskAdd(callerId, score, this.windowMs, nowMs);
    } catch (err) {
      failed = true;
      error = err;
    }
    let viaRoot: RiskTotal | null = null;
    if (root !== null) {
      try {
        viaRoot = store.riskAdd(root, score, this.windowMs, nowMs);
      } catch (err) {
        if (!failed) error = err;
        failed = true;
      }
    }
    if (failed) throw error;
    return this.result(own!, viaRoot, root);
  }

  /** The current sums, recording nothing (0.9.0 `get_cumulative_score`). */
  async current(callerId: string, nowMs: number, rootId: string | null = null): Promise<CumulativeScore> {
    const root = rootId !== null && rootId !== callerId ? rootId : null;
    const [own, viaRoot] = await Promise.all([
      this.store.total(callerId, this.windowMs, nowMs),
      root === null ? null : this.store.total(root, this.windowMs, nowMs),
    ]);
    return this.result(own, viaRoot, root);
  }

  /** §2.2 step 12 applied to a non-DENY result. */
  escalate(result: DecisionResult, reason: string, score: number): Escalation {
    const { deny_threshold: deny, escalation_threshold: esc } = this.config;
    if (result === "deny") return { result, reason, escalatedFrom: null };
    if (score >= deny) {
      return {
        result: "deny",
        reason: `Cumulative risk threshold exceeded (${score} >= ${deny}). Original: ${reason}`,
        escalatedFrom: result,
      };
    }
    if (score >= esc && result === "allow") {
      return {
        result: "require_approval",
        reason: `Escalated by cumulative risk (${score} >= ${esc}). Original: ${reason}`,
        escalatedFrom: "allow",
      };
    }
    return { result, reason, escalatedFrom: null };
  }

  /** The audit-context fields of §2.2 step 14 (`cumulative_window_seconds` is a float). */
  auditFields(s: CumulativeScore): {
    cumulative_risk_score: number;
    cumulative_risk_class: RiskClass;
    cumulative_entry_count: number;
    cumulative_window_seconds: PyFloat;
  } {
    return {
      cumulative_risk_score: s.score,
      cumulative_risk_class: s.riskClass,
      cumulative_entry_count: s.entryCount,
      cumulative_window_seconds: new PyFloat(s.windowSeconds),
    };
  }

  private result(own: RiskTotal, viaRoot: RiskTotal | null, rootId: string | null): CumulativeScore {
    const useRoot = viaRoot !== null && viaRoot.score > own.score;
    const chosen = useRoot ? viaRoot : own;
    return {
      score: chosen.score,
      riskClass: this.classify(chosen.score),
      entryCount: chosen.count,
      windowSeconds: this.config.window_seconds,
      keyedBy: useRoot ? "root" : "caller",
      rootId,
    };
  }
}
