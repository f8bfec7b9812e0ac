/**
 * `explain()`: the decision, plus for every rule that outranks the winning one the first
 * condition that did not hold. Uses the very conditions `decide()` evaluates.
 */
import { decide } from "./decide.js";
import type { ConditionName, MatchContext } from "./rules.js";
import type { EvalTime } from "./time.js";
import type { CoreDecision, DecisionRequest, DecisionResult, SourceRef } from "./types.js";
import type { World } from "./world.js";

export interface RuleMiss {
  rule: string;
  priority: number;
  decision: DecisionResult;
  source: SourceRef | null;
  /** The first condition of the rule that did not hold. */
  condition: ConditionName;
  why: string;
}

export interface Explanation {
  decision: CoreDecision;
  /** False when a built-in check decided before any rule was consulted. */
  rulesEvaluated: boolean;
  /** Rules ahead of the winner (all rules, on a default deny), in evaluation order. */
  missed: RuleMiss[];
}

export function explain(request: DecisionRequest, world: World, time: EvalTime): Explanation {
  const decision = decide(request, world, time);
  if (decision.code !== "rule" && decision.code !== "default_deny") {
    return { decision, rulesEvaluated: false, missed: [] };
  }
  const ctx: MatchContext = {
    action: request.action,
    target: request.target === null ? null : (world.targets.get(request.target) ?? null),
    caller: request.caller,
    effectiveRisk: decision.effective_risk,
    ticketId: request.ticketId,
    time,
  };
  const end = decision.rule_index >= 0 ? decision.rule_index : world.rules.length;
  const missed: RuleMiss[] = [];
  for (const compiled of world.rules.slice(0, end)) {
    const failed = compiled.conditions.find((c) => !c.test(ctx));
    if (failed === undefined) continue;
    const { rule } = compiled;
    missed.push({
      rule: rule.name,
      priority: rule.priority,
      decision: rule.decision,
      source: rule.source,
      condition: failed.name,
      why: failed.why(ctx),
    });
  }
  return { decision, rulesEvaluated: true, missed };
}
