/**
 * The audit event of a decision (REFERENCE.md §4.2 "decision", §2.2 step 14): the decision's
 * fields, the request's parameters (sensitive ones redacted by the writer), and a context with
 * the delegation chain, cumulative risk and which check decided.
 */
import { decisionEvent } from "../audit/ops.js";
import type { AuditInput } from "../audit/types.js";
import type { ActionDef, CallerIdentity, Params } from "../core/types.js";
import type { AfterDecision } from "../guards/guards.js";
import type { Decision } from "./decision.js";

export interface DecisionAuditOptions {
  params: Params | null;
  actionDef: ActionDef | null;
  caller: CallerIdentity | null;
  after: AfterDecision | null;
  /** The what-if evaluation time, when it is not now. */
  at: string | null;
  /** When the decision was made (wall clock): the event's timestamp, never a caller's. */
  timestamp: string | Date;
  correlationId: string | null;
}

export function decisionAuditEvent(decision: Decision, o: DecisionAuditOptions): AuditInput {
  const context: Record<string, unknown> = {
    ...delegationContext(o.caller),
    ...(o.after?.audit ?? {}),
    decision_code: decision.code,
    policy_revision: decision.policy_revision,
    profile: decision.profile,
    target_known: decision.target_known,
  };
  if (o.at !== null) context.evaluated_at = o.at;
  return decisionEvent(decision, {
    params: o.params ?? {},
    actionDef: o.actionDef,
    timestamp: o.timestamp,
    context,
    correlationId: o.correlationId,
  });
}

/** 0.9.0's delegation context, present only for a delegated caller (depth > 0). */
function delegationContext(caller: CallerIdentity | null): Record<string, unknown> {
  if (caller === null || caller.delegation_depth <= 0) return {};
  return {
    delegation_depth: caller.delegation_depth,
    delegation_chain: caller.delegation_chain.map((l) => ({
      agent_id: l.agent_id,
      agent_name: l.agent_name,
    })),
    delegated_roles: caller.delegated_roles,
    original_caller: caller.delegation_chain[0]?.agent_id ?? caller.agent_id,
  };
}
