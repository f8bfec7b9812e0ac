/**
 * `decide()`: the pure policy decision. Same request, world and time → same decision.
 *
 * Built-in checks run before the rules, the first failing one giving the reason:
 *   unknown action → invalid parameters → target type (strict) → parameter binding (strict)
 *   → rules (first match in priority order) → default deny.
 * Authentication, the kill switch, rate limits and cumulative risk need state and run around
 * this function, in the pipeline (DESIGN.md §3).
 */
import { validateParams } from "./params.js";
import { pyStr } from "./pyformat.js";
import { pyKeys } from "./pyvalue.js";
import { RISK_MATRIX } from "./risk.js";
import type { MatchContext } from "./rules.js";
import type { EvalTime } from "./time.js";
import type { CoreDecision, DecisionCode, DecisionRequest, Params, RiskClass, Target } from "./types.js";
import type { CompiledAction, World } from "./world.js";

const NO_PARAMS: Params = Object.freeze({}) as Params;

export const DEFAULT_DENY_REASON = "No matching policy (default deny)";

/** What a request is about, before any check: the action, the target and the risk. */
export interface RequestRisk {
  action: CompiledAction | undefined;
  target: Target | null;
  /** The id the decision reports: the target's, the requested one (strict), or "unknown". */
  targetName: string;
  riskClass: RiskClass;
  effectiveRisk: RiskClass;
}

/**
 * The action's risk class (critical when unknown) combined with the target's sensitivity
 * (critical when unknown). Strict keeps the requested id of an unknown target; 0.9.0 said "unknown".
 */
export function assessRisk(request: { action: string; target: string | null }, world: World): RequestRisk {
  const action = world.actions.get(request.action);
  const target = request.target === null ? null : (world.targets.get(request.target) ?? null);
  const riskClass: RiskClass = action === undefined ? "critical" : action.def.risk_class;
  const effectiveRisk = RISK_MATRIX[riskClass][target === null ? "critical" : target.sensitivity];
  const targetName =
    target !== null
      ? target.id
      : world.profile === "strict" && request.target !== null
        ? request.target
        : "unknown";
  return { action, target, targetName, riskClass, effectiveRisk };
}

export function decide(request: DecisionRequest, world: World, time: EvalTime): CoreDecision {
  const strict = world.profile === "strict";
  const { action, target, targetName, riskClass, effectiveRisk: effective } = assessRisk(request, world);

  const builtIn = (reason: string, code: DecisionCode): CoreDecision => ({
    result: "deny",
    reason,
    code,
    action: request.action,
    target: targetName,
    target_known: target !== null,
    risk_class: riskClass,
    effective_risk: effective,
    policy_matched: null,
    rule_index: -1,
  });

  if (action === undefined) return builtIn(`Unknown action: ${request.action}`, "unknown_action");

  const params = request.params ?? NO_PARAMS;
  // 0.9.0 skipped validation entirely for empty params, so required parameters could be omitted.
  if (strict || pyKeys(params).length > 0) {
    const errors = validateParams(action.params, params);
    if (errors !== null) return builtIn(`Invalid parameters: ${errors.join("; ")}`, "invalid_params");
  }
  if (strict && target !== null) {
    const mismatch = targetMismatch(action, target, params);
    if (mismatch !== null) return builtIn(mismatch.reason, mismatch.code);
  }

  const ctx: MatchContext = {
    action: request.action,
    target,
    caller: request.caller,
    effectiveRisk: effective,
    ticketId: request.ticketId,
    time,
  };
  const candidates = world.rulesFor(request.action);
  for (let i = 0; i < candidates.length; i++) {
    const compiled = candidates[i]!;
    const rest = compiled.rest;
    let matched = true;
    for (let j = 0; j < rest.length; j++) {
      if (!rest[j]!.test(ctx)) {
        matched = false;
        break;
      }
    }
    if (matched) {
      const rule = compiled.rule;
      return {
        result: rule.decision,
        reason: rule.reason,
        code: "rule",
        action: request.action,
        target: targetName,
        target_known: target !== null,
        risk_class: riskClass,
        effective_risk: effective,
        policy_matched: rule.name,
        rule_index: compiled.index,
      };
    }
  }
  return builtIn(DEFAULT_DENY_REASON, "default_deny");
}

/**
 * Strict profile: the target must be the thing acted on. Its type must be one the action
 * accepts, and a target label whose key names a parameter binds that parameter's value.
 */
function targetMismatch(
  action: CompiledAction,
  target: Target,
  params: Params,
): { reason: string; code: DecisionCode } | null {
  if (!action.targetTypes.has(target.type)) {
    return {
      reason: `Target type '${target.type}' is not allowed for action '${action.def.name}'`,
      code: "target_type",
    };
  }
  for (const key of Object.keys(target.labels)) {
    if (!action.params.byName.has(key) || !Object.hasOwn(params, key)) continue;
    if (pyStr(params[key]) !== target.labels[key]) {
      return { reason: `Parameter '${key}' does not match target '${target.id}'`, code: "param_binding" };
    }
  }
  return null;
}

/**
 * The parameters an approved action executes with: the request's own, plus the declared
 * `default` of each optional parameter the request left out. Never used to satisfy a
 * required parameter; call only after an ALLOW.
 */
export function paramsForExecution(world: World, actionName: string, params: Params | null): Params {
  const action = world.actions.get(actionName);
  const out: Params = { ...(params ?? {}) };
  if (action === undefined) return out;
  for (const p of action.params.list) {
    if (!p.def.required && !Object.hasOwn(out, p.name) && p.def.default !== null) out[p.name] = p.def.default;
  }
  return out;
}
