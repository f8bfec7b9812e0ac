/**
 * `AgentSafe`: the library entry point. It composes the parts (project loading, the decision
 * point) and holds no decision logic of its own.
 */
import { type OpenOptions, openProject } from "../config/open-project.js";
import type { ProjectConfig } from "../config/project.js";
import { explain, type RuleMiss } from "../core/explain.js";
import { type EvalTime, evalTimeFromEpoch, parseTimestamp } from "../core/time.js";
import type { ActionDef, Params } from "../core/types.js";
import type { World } from "../core/world.js";
import type { CallerInput } from "../pdp/caller.js";
import type { Decision } from "../pdp/decision.js";
import { evaluate } from "../pdp/pdp.js";
import { type CheckRequest, toDecisionRequest } from "../pdp/request.js";

export interface CheckOptions {
  target?: string | null;
  /** `null` (anonymous), an agent id, or a trusted identity object (in-process only). */
  caller?: CallerInput;
  params?: Params | null;
  /** An external change-ticket id, for `require_ticket` rules. */
  ticketId?: string | null;
  /** Evaluate as of this time (what-if); honoured in-process only. Default: now. */
  timestamp?: Date | string;
}

export interface PlanStep extends CheckOptions {
  action: string;
}

export interface AgentSafeOptions extends OpenOptions {}

/** The decision, and why each rule ahead of the winner did not match. */
export interface ExplainedDecision {
  decision: Decision;
  /** False when a built-in check decided before any rule was consulted. */
  rulesEvaluated: boolean;
  missed: RuleMiss[];
}

export class AgentSafe {
  private constructor(
    readonly world: World,
    readonly project: ProjectConfig | null,
    private readonly clock: () => number,
  ) {}

  /** Loads the project found from `cwd` (or named by the options) and returns a ready instance. */
  static async open(options: AgentSafeOptions = {}): Promise<AgentSafe> {
    const opened = await openProject(options);
    return new AgentSafe(opened.world, opened.project, Date.now);
  }

  /** Wraps an already compiled world (tests, embedding). */
  static fromWorld(world: World, clock: () => number = Date.now): AgentSafe {
    return new AgentSafe(world, null, clock);
  }

  async check(action: string, options: CheckOptions = {}): Promise<Decision> {
    return evaluate(this.world, toRequest(action, options), this.timeOf(options.timestamp));
  }

  /** Every step is decided at the same time; there is no short-circuit. */
  async checkPlan(
    steps: readonly PlanStep[],
    options: { timestamp?: Date | string } = {},
  ): Promise<Decision[]> {
    const time = this.timeOf(options.timestamp);
    return steps.map((s) => evaluate(this.world, toRequest(s.action, s), time));
  }

  /** The decision plus, for each rule ahead of the winner, the first condition that failed. */
  async explain(action: string, options: CheckOptions = {}): Promise<ExplainedDecision> {
    const request = toRequest(action, options);
    const time = this.timeOf(options.timestamp);
    const decision = evaluate(this.world, request, time);
    // A malformed request is explained as the DENY it gets: no rule was consulted.
    if (decision.code === "invalid_request") return { decision, rulesEvaluated: false, missed: [] };
    const { rulesEvaluated, missed } = explain(toDecisionRequest(request), this.world, time);
    return { decision, rulesEvaluated, missed };
  }

  listActions(): ActionDef[] {
    return [...this.world.actions.values()].map((a) => a.def).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  private timeOf(timestamp: Date | string | undefined): EvalTime {
    if (timestamp === undefined) return evalTimeFromEpoch(this.clock());
    if (timestamp instanceof Date) return evalTimeFromEpoch(timestamp.getTime());
    return parseTimestamp(timestamp);
  }
}

function toRequest(action: string, o: CheckOptions): CheckRequest {
  return {
    action,
    target: o.target ?? null,
    caller: o.caller ?? null,
    params: o.params ?? null,
    ticketId: o.ticketId ?? null,
  };
}
