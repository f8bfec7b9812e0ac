/**
 * `Guards`: the stateful checks around `decide()`, in the pipeline's order (DESIGN.md §3,
 * REFERENCE.md §2.2):
 *
 *   beforeDecision  → kill switch → circuit breaker → rate limit      (REFERENCE step 7)
 *   decide()
 *   afterDecision   → cumulative risk on non-DENY results             (step 12)
 *                   → recordDeny when the final result is DENY         (step 13)
 *
 * A deny from beforeDecision is final: the pipeline returns it at once, and it is neither
 * recorded as a deny nor scored (0.9.0 semantics for rate limits; the same for the kill switch,
 * the breaker and store failures). Guards fail closed: a store that is unreachable or full gives
 * DENY `State store unavailable: <why>` / `Guard state capacity reached`, never ALLOW.
 *
 * Time: pass the wall clock (`Date.now()`), never a request's own timestamp; a Redis store
 * judges by the server's clock anyway.
 */

import type { PyFloat } from "../core/pyvalue.js";
import type { DecisionResult, RiskClass } from "../core/types.js";
import type { BreakerRecord, StateBackend } from "../state/interfaces.js";
import type { MemorySyncStores } from "../state/memory/backend.js";
import { StateCapacityError } from "../state/types.js";
import type { CumulativeRiskConfig, RateLimitConfig } from "./config.js";
import { CumulativeRisk } from "./cumulative-risk.js";
import { KillSwitch } from "./kill-switch.js";
import { RateLimiter } from "./rate-limit.js";

export interface GuardsConfig {
  /** `rate_limit` settings; null or absent: no rate limit and no breaker. */
  rate_limit?: Partial<RateLimitConfig> | null;
  /** `cumulative_risk` settings; null or absent: no cumulative risk. */
  cumulative_risk?: Partial<CumulativeRiskConfig> | null;
  /** Check the kill switch (default true). */
  kill_switch?: boolean;
}

/** Who is asking, beyond the caller id. */
export interface GuardCallerContext {
  /** Agent ids of the delegation chain, root first (`delegation_chain[].agent_id`). */
  chain?: readonly string[];
}

export type GuardCode =
  | "kill_switch"
  | "circuit_breaker"
  | "rate_limit"
  | "cumulative_risk"
  | "state_unavailable"
  | "state_capacity";

export interface GuardDeny {
  deny: string;
  code: GuardCode;
}

/** The fields of a decision the guards read (a pdp `Decision` fits). */
export interface GuardedDecision {
  result: DecisionResult;
  reason: string;
  effective_risk: RiskClass;
}

/** REFERENCE §2.2 step 14: what cumulative risk adds to the audit context. */
export interface CumulativeAuditContext {
  cumulative_risk_score: number;
  cumulative_risk_class: RiskClass;
  cumulative_entry_count: number;
  /** A float (`3600.0` in 0.9.0-format JSON). */
  cumulative_window_seconds: PyFloat;
  /** Only when the result was escalated. */
  escalated_from?: DecisionResult;
}

export interface AfterDecision {
  /** The final result and reason (changed by escalation or a store failure). */
  result: DecisionResult;
  reason: string;
  /** Set when a guard changed the result. */
  code: GuardCode | null;
  /** Decision fields (null unless cumulative risk ran on a non-DENY result). */
  escalated_from: DecisionResult | null;
  cumulative_risk_score: number | null;
  cumulative_risk_class: RiskClass | null;
  /** Merge into the audit context; null when cumulative risk did not run. */
  audit: CumulativeAuditContext | null;
  /** Whose window gave the score (`root` when the delegation root's sum was larger). */
  cumulative_keyed_by: "caller" | "root" | null;
  /** The breaker after recording this DENY (null when not recorded). */
  breaker: BreakerRecord | null;
  /** Store problems that could not make the result stricter (it was already DENY). */
  warnings: string[];
}

export const CAPACITY_REASON = "Guard state capacity reached";

/** The DENY for a store failure: capacity, unavailable, or anything unexpected (fail closed). */
export function stateFailure(err: unknown): GuardDeny {
  if (err instanceof StateCapacityError) return { deny: CAPACITY_REASON, code: "state_capacity" };
  const why = err instanceof Error ? err.message : String(err);
  return { deny: `State store unavailable: ${why}`, code: "state_unavailable" };
}

export class Guards {
  readonly killSwitch: KillSwitch | null;
  readonly rateLimiter: RateLimiter | null;
  readonly cumulativeRisk: CumulativeRisk | null;
  /** An in-process backend that can answer synchronously (memory), else null. */
  private readonly inProcess: { sync(): MemorySyncStores | null } | null;

  constructor(
    readonly backend: StateBackend,
    config: GuardsConfig = {},
  ) {
    this.killSwitch = config.kill_switch === false ? null : new KillSwitch(backend.flags);
    this.rateLimiter =
      config.rate_limit == null
        ? null
        : new RateLimiter(config.rate_limit, backend.windows, backend.breakers);
    this.cumulativeRisk =
      config.cumulative_risk == null ? null : new CumulativeRisk(config.cumulative_risk, backend.risk);
    const candidate = backend as Partial<{ sync(): MemorySyncStores | null }>;
    this.inProcess =
      backend.kind === "memory" && typeof candidate.sync === "function"
        ? (candidate as { sync(): MemorySyncStores | null })
        : null;
  }

  /** The memory stores' synchronous forms when they are in use (no promise per step), else null. */
  private syncStores(): MemorySyncStores | null {
    return this.inProcess === null ? null : this.inProcess.sync();
  }

  /** Kill switch, then breaker, then rate limit. A deny to return at once, or null to go on. */
  async beforeDecision(
    callerId: string,
    nowMs: number,
    context: GuardCallerContext = {},
  ): Promise<GuardDeny | null> {
    const sync = this.syncStores();
    if (sync !== null) return this.beforeDecisionSync(sync, callerId, nowMs, context);
    const rl = this.rateLimiter;
    try {
      // Both are reads: one round trip for the two.
      const [killed, breaker] = await Promise.all([
        this.killSwitch?.check(callerId, context.chain ?? []) ?? null,
        rl?.checkBreaker(callerId, nowMs) ?? null,
      ]);
      if (killed !== null) return { deny: killed, code: "kill_switch" };
      if (breaker !== null) return { deny: breaker, code: "circuit_breaker" };
      if (rl !== null) {
        const limited = await rl.acquire(callerId, nowMs);
        if (limited !== null) return { deny: limited, code: "rate_limit" };
      }
      return null;
    } catch (err) {
      return stateFailure(err);
    }
  }

  /** `beforeDecision` on memory state: the same steps, in the same order, without awaiting. */
  private beforeDecisionSync(
    sync: MemorySyncStores,
    callerId: string,
    nowMs: number,
    context: GuardCallerContext,
  ): GuardDeny | null {
    const rl = this.rateLimiter;
    try {
      // Both reads run, as they do concurrently in the async form; the first failure wins.
      let failed = false;
      let error: unknown;
      let killed: string | null = null;
      let breaker: string | null = null;
      if (this.killSwitch !== null) {
        try {
          killed = this.killSwitch.checkSync(sync, callerId, context.chain ?? []);
        } catch (err) {
          failed = true;
          error = err;
        }
      }
      if (rl !== null) {
        try {
          breaker = rl.checkBreakerSync(sync, callerId, nowMs);
        } catch (err) {
          if (!failed) error = err;
          failed = true;
        }
      }
      if (failed) throw error;
      if (killed !== null) return { deny: killed, code: "kill_switch" };
      if (breaker !== null) return { deny: breaker, code: "circuit_breaker" };
      if (rl !== null) {
        const limited = rl.acquireSync(sync, callerId, nowMs);
        if (limited !== null) return { deny: limited, code: "rate_limit" };
      }
      return null;
    } catch (err) {
      return stateFailure(err);
    }
  }

  /**
   * After `decide()`: cumulative risk on a non-DENY result (records the score, then escalates),
   * then the breaker's deny log when the final result is DENY. Never throws.
   */
  async afterDecision(
    callerId: string,
    decision: GuardedDecision,
    nowMs: number,
    context: GuardCallerContext = {},
  ): Promise<AfterDecision> {
    const sync = this.syncStores();
    const out: AfterDecision = {
      result: decision.result,
      reason: decision.reason,
      code: null,
      escalated_from: null,
      cumulative_risk_score: null,
      cumulative_risk_class: null,
      audit: null,
      cumulative_keyed_by: null,
      breaker: null,
      warnings: [],
    };
    const cr = this.cumulativeRisk;
    if (cr !== null && decision.result !== "deny") {
      try {
        const root = context.chain?.[0] ?? null;
        const s =
          sync !== null
            ? cr.recordAndEvaluateSync(sync, callerId, decision.effective_risk, nowMs, root)
            : await cr.recordAndEvaluate(callerId, decision.effective_risk, nowMs, root);
        const e = cr.escalate(decision.result, decision.reason, s.score);
        out.result = e.result;
        out.reason = e.reason;
        out.escalated_from = e.escalatedFrom;
        if (e.escalatedFrom !== null) out.code = "cumulative_risk";
        out.cumulative_risk_score = s.score;
        out.cumulative_risk_class = s.riskClass;
        out.cumulative_keyed_by = s.keyedBy;
        out.audit = {
          ...cr.auditFields(s),
          ...(e.escalatedFrom === null ? {} : { escalated_from: e.escalatedFrom }),
        };
      } catch (err) {
        const failure = stateFailure(err);
        out.result = "deny";
        out.reason = failure.deny;
        out.code = failure.code;
      }
    }
    if (out.result === "deny" && this.rateLimiter?.breakerEnabled) {
      try {
        out.breaker =
          sync !== null
            ? this.rateLimiter.recordDenySync(sync, callerId, nowMs)
            : await this.rateLimiter.recordDeny(callerId, nowMs);
      } catch (err) {
        out.warnings.push(`circuit breaker: deny not recorded: ${stateFailure(err).deny}`);
      }
    }
    return out;
  }

  /** Closes the state backend. */
  async close(): Promise<void> {
    await this.backend.close();
  }
}
