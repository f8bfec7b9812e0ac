/**
 * `explain` with the pipeline's view of the caller: the same caller resolution as `check`, then
 * the rules with the first failing condition of each one ahead of the winner. No guard state, no
 * audit, no ticket: explaining changes nothing.
 */
import { assessRisk } from "../core/decide.js";
import { explain, type RuleMiss } from "../core/explain.js";
import type { EvalTime } from "../core/time.js";
import type { World } from "../core/world.js";
import { resolveCaller } from "../identity/resolve.js";
import type { IdentityVerifier } from "../identity/verifier.js";
import { InvalidCallerError } from "./caller.js";
import { builtInDecision, type Decision, fromCore } from "./decision.js";
import { evaluate } from "./pdp.js";
import { type CheckRequest, InvalidRequestError, validateRequestShape } from "./request.js";

export interface ExplainedDecision {
  decision: Decision;
  /** False when a built-in check decided before any rule was consulted. */
  rulesEvaluated: boolean;
  missed: RuleMiss[];
}

export interface ExplainIdentity {
  verifier: IdentityVerifier | null;
  keysConfigured: boolean;
  /** In-process callers may present identity objects; the command line and the sidecar may not. */
  trusted: boolean;
}

export async function explainRequest(
  world: World,
  request: CheckRequest,
  time: EvalTime,
  identity: ExplainIdentity,
): Promise<ExplainedDecision> {
  const evaluatedAt = new Date(time.epochMs).toISOString();
  let shape: ReturnType<typeof validateRequestShape>;
  try {
    shape = validateRequestShape(request);
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    return { decision: evaluate(world, request, time), rulesEvaluated: false, missed: [] };
  }
  const ctx = {
    caller: "anonymous",
    ticketId: shape.ticketId,
    revision: world.revision,
    profile: world.profile,
    evaluatedAt,
  };
  let resolved: Awaited<ReturnType<typeof resolveCaller>>;
  try {
    resolved = await resolveCaller(request.caller ?? null, { profile: world.profile, ...identity });
  } catch (err) {
    if (!(err instanceof InvalidCallerError)) throw err;
    const decision = builtInDecision(
      shape.action,
      assessRisk(shape, world),
      `Invalid request: ${err.message}`,
      "invalid_request",
      ctx,
    );
    return { decision, rulesEvaluated: false, missed: [] };
  }
  if (resolved.error !== undefined) {
    const decision = builtInDecision(
      shape.action,
      assessRisk(shape, world),
      resolved.error,
      "unauthenticated",
      ctx,
    );
    return { decision, rulesEvaluated: false, missed: [] };
  }
  const caller = resolved.caller;
  const explained = explain({ ...shape, caller }, world, time);
  const decision = fromCore(explained.decision, { ...ctx, caller: caller?.agent_id ?? "anonymous" });
  return { decision, rulesEvaluated: explained.rulesEvaluated, missed: explained.missed };
}
