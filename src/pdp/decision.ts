/** The decision Agent-Safe returns: 0.9.0's fields (same names and order) plus ours. */
import type { RequestRisk } from "../core/decide.js";
import type {
  CoreDecision,
  DecisionCode as CoreDecisionCode,
  DecisionResult,
  Profile,
  RiskClass,
} from "../core/types.js";
import type { GuardCode } from "../guards/guards.js";
import type { ExecutionTicket } from "../tickets/issuer.js";

/**
 * Which check decided: the core's (`rule`, `default_deny`, `unknown_action`, `invalid_params`,
 * `target_type`, `param_binding`), the pipeline's (`invalid_request`, `unauthenticated`) or a
 * guard's (`kill_switch`, `circuit_breaker`, `rate_limit`, `cumulative_risk`,
 * `state_unavailable`, `state_capacity`).
 */
export type DecisionCode = CoreDecisionCode | "invalid_request" | "unauthenticated" | GuardCode;

export interface Decision {
  result: DecisionResult;
  reason: string;
  action: string;
  /** The target id; `"unknown"` when none was given (or, in the reference profile, not found). */
  target: string;
  /** The caller's agent id, or `"anonymous"`. */
  caller: string;
  risk_class: RiskClass;
  effective_risk: RiskClass;
  policy_matched: string | null;
  audit_id: string | null;
  /** The execution ticket of an ALLOW, when ticket keys are configured. A bearer credential. */
  ticket: ExecutionTicket | null;
  request_id: string | null;
  ticket_id: string | null;
  cumulative_risk_score: number | null;
  cumulative_risk_class: RiskClass | null;
  escalated_from: DecisionResult | null;
  /** Agent-Safe: whether the target was found in the inventory. */
  target_known: boolean;
  /** Agent-Safe: which check decided (`rule`, `default_deny`, `unknown_action`, …). */
  code: DecisionCode;
  /** Agent-Safe: SHA-256 of the loaded actions, rules, targets and profile. */
  policy_revision: string;
  profile: Profile;
  /** The evaluation time, ISO-8601 UTC. */
  evaluated_at: string;
}

export interface DecisionContext {
  caller: string;
  ticketId: string | null;
  revision: string;
  profile: Profile;
  evaluatedAt: string;
}

export function fromCore(core: CoreDecision, ctx: DecisionContext): Decision {
  return {
    result: core.result,
    reason: core.reason,
    action: core.action,
    target: core.target,
    caller: ctx.caller,
    risk_class: core.risk_class,
    effective_risk: core.effective_risk,
    policy_matched: core.policy_matched,
    audit_id: null,
    ticket: null,
    request_id: null,
    ticket_id: ctx.ticketId,
    cumulative_risk_score: null,
    cumulative_risk_class: null,
    escalated_from: null,
    target_known: core.target_known,
    code: core.code,
    policy_revision: ctx.revision,
    profile: ctx.profile,
    evaluated_at: ctx.evaluatedAt,
  };
}

/** A DENY decided outside the rules (invalid request, unauthenticated, a guard), with the risk of what was asked. */
export function builtInDecision(
  actionName: string,
  risk: RequestRisk,
  reason: string,
  code: DecisionCode,
  ctx: DecisionContext,
): Decision {
  return {
    result: "deny",
    reason,
    action: actionName,
    target: risk.targetName,
    caller: ctx.caller,
    risk_class: risk.riskClass,
    effective_risk: risk.effectiveRisk,
    policy_matched: null,
    audit_id: null,
    ticket: null,
    request_id: null,
    ticket_id: ctx.ticketId,
    cumulative_risk_score: null,
    cumulative_risk_class: null,
    escalated_from: null,
    target_known: risk.target !== null,
    code,
    policy_revision: ctx.revision,
    profile: ctx.profile,
    evaluated_at: ctx.evaluatedAt,
  };
}
