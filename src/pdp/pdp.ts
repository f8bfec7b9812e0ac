/**
 * The policy decision point: validates the request, resolves the caller and runs `decide()`.
 * Guards, audit and tickets are composed around it by the SDK.
 */
import { assessRisk, decide } from "../core/decide.js";
import type { EvalTime } from "../core/time.js";
import type { World } from "../core/world.js";
import { builtInDecision, type Decision, fromCore } from "./decision.js";
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

/** A request that cannot be judged is denied with the reason. */
function invalidRequest(world: World, request: CheckRequest, why: string, evaluatedAt: string): Decision {
  const action = typeof request.action === "string" ? request.action : "unknown";
  const target = typeof request.target === "string" ? request.target : null;
  return builtInDecision(
    action,
    assessRisk({ action, target }, world),
    `Invalid request: ${why}`,
    "invalid_request",
    {
      caller: typeof request.caller === "string" ? request.caller : "anonymous",
      ticketId: null,
      revision: world.revision,
      profile: world.profile,
      evaluatedAt,
    },
  );
}
