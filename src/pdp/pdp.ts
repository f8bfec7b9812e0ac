/**
 * The policy decision point: validates the request, resolves the caller and runs `decide()`.
 * Guards, audit and tickets are composed around it by the SDK.
 */
import { decide } from "../core/decide.js";
import type { EvalTime } from "../core/time.js";
import type { World } from "../core/world.js";
import { type Decision, fromCore } from "./decision.js";
import { type CheckRequest, InvalidRequestError, toDecisionRequest } from "./request.js";

export function evaluate(world: World, request: CheckRequest, time: EvalTime): Decision {
  const evaluatedAt = new Date(time.epochMs).toISOString();
  let decisionRequest: ReturnType<typeof toDecisionRequest>;
  try {
    decisionRequest = toDecisionRequest(request);
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    return invalidRequest(world, request, err.message, evaluatedAt);
  }
  const core = decide(decisionRequest, world, time);
  return fromCore(core, {
    caller: decisionRequest.caller?.agent_id ?? "anonymous",
    ticketId: decisionRequest.ticketId,
    revision: world.revision,
    profile: world.profile,
    evaluatedAt,
  });
}

/** A request that cannot be judged is denied with the reason, at the highest risk. */
function invalidRequest(world: World, request: CheckRequest, why: string, evaluatedAt: string): Decision {
  const text = (v: unknown) => (typeof v === "string" ? v : "unknown");
  return {
    result: "deny",
    reason: `Invalid request: ${why}`,
    action: text(request.action),
    target: text(request.target),
    caller: typeof request.caller === "string" ? request.caller : "anonymous",
    risk_class: "critical",
    effective_risk: "critical",
    policy_matched: null,
    audit_id: null,
    ticket: null,
    request_id: null,
    ticket_id: null,
    cumulative_risk_score: null,
    cumulative_risk_class: null,
    escalated_from: null,
    target_known: false,
    code: "invalid_request",
    policy_revision: world.revision,
    profile: world.profile,
    evaluated_at: evaluatedAt,
  };
}
