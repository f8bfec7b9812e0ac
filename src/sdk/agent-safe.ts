/**
 * `AgentSafe`: the library entry point. It composes the parts (project, identity, guards, audit,
 * tickets) into the decision pipeline and holds no decision logic of its own.
 *
 * Key custody: in library mode this process holds the signing keys, so it suits trusted agents
 * and tests. For untrusted agents, run the sidecar (`agent-safe serve`) and keep keys out of them.
 */
import { type OpenOptions, openProject } from "../config/open-project.js";
import type { ProjectConfig } from "../config/project.js";
import { explain, type RuleMiss } from "../core/explain.js";
import { type EvalTime, evalTimeFromEpoch, parseTimestamp } from "../core/time.js";
import type { ActionDef, Params } from "../core/types.js";
import { compileWorld, type World } from "../core/world.js";
import type { DelegationRequest, DelegationToken } from "../identity/index.js";
import type { CallerInput } from "../pdp/caller.js";
import type { Decision } from "../pdp/decision.js";
import { evaluate } from "../pdp/pdp.js";
import { DecisionPipeline } from "../pdp/pipeline.js";
import { type CheckRequest, toDecisionRequest } from "../pdp/request.js";
import type { TicketExpectations, TicketResult } from "../tickets/index.js";
import { type Composed, compose } from "./compose.js";

export interface CheckOptions {
  target?: string | null;
  /** `null` (anonymous), an identity token or agent id, or a trusted identity object. */
  caller?: CallerInput;
  params?: Params | null;
  /** An external change-ticket id, for `require_ticket` rules. */
  ticketId?: string | null;
  /** Evaluate as of this time (what-if); honoured in-process only. Default: now. */
  timestamp?: Date | string;
  /** Recorded with the audit event, to link it to the caller's own records. */
  correlationId?: string;
}

export interface PlanStep extends CheckOptions {
  action: string;
}

export interface AgentSafeOptions extends OpenOptions {
  /** Write decisions to the project's audit log (default true). */
  audit?: boolean;
  clock?: () => number;
}

/** The decision, and why each rule ahead of the winner did not match. */
export interface ExplainedDecision {
  decision: Decision;
  /** False when a built-in check decided before any rule was consulted. */
  rulesEvaluated: boolean;
  missed: RuleMiss[];
}

export class AgentSafeError extends Error {
  override name = "AgentSafeError";
}

export class AgentSafe {
  private readonly pipeline: DecisionPipeline;

  private constructor(
    private readonly composed: Composed,
    readonly project: ProjectConfig | null,
    private currentWorld: World,
  ) {
    this.pipeline = new DecisionPipeline(composed.parts);
  }

  /** Loads the project found from `cwd` (or named by the options) with everything it configures. */
  static async open(options: AgentSafeOptions = {}): Promise<AgentSafe> {
    const opened = await openProject(options);
    const composed = await compose(opened, {
      audit: options.audit ?? true,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    return new AgentSafe(composed, opened.project, opened.world);
  }

  /** Decisions only, from an already compiled world: no audit, memory state (tests, embedding). */
  static async fromWorld(world: World, clock: () => number = Date.now): Promise<AgentSafe> {
    const { resolveProject } = await import("../config/project.js");
    const { readProjectFile } = await import("../config/project-file.js");
    const project = resolveProject(null, readProjectFile(null), {}, process.cwd());
    const composed = await compose({ project, world }, { audit: false, clock });
    return new AgentSafe(composed, null, world);
  }

  get world(): World {
    return this.currentWorld;
  }

  async check(action: string, options: CheckOptions = {}): Promise<Decision> {
    return this.pipeline.check(toRequest(action, options), {
      at: whatIf(options.timestamp),
      trusted: true,
      correlationId: options.correlationId ?? null,
    });
  }

  /** Every step is decided at the same time, in order; there is no short-circuit. */
  async checkPlan(
    steps: readonly PlanStep[],
    options: { timestamp?: Date | string } = {},
  ): Promise<Decision[]> {
    const at = whatIf(options.timestamp) ?? evalTimeFromEpoch(this.composed.parts.clock());
    const out: Decision[] = [];
    for (const s of steps) out.push(await this.pipeline.check(toRequest(s.action, s), { at, trusted: true }));
    return out;
  }

  /** The decision (without side effects) and, for each rule ahead of the winner, the first failing condition. */
  async explain(action: string, options: CheckOptions = {}): Promise<ExplainedDecision> {
    const request = toRequest(action, options);
    const time = whatIf(options.timestamp) ?? evalTimeFromEpoch(this.composed.parts.clock());
    const decision = evaluate(this.world, request, time);
    // A malformed request is explained as the DENY it gets: no rule was consulted.
    if (decision.code === "invalid_request") return { decision, rulesEvaluated: false, missed: [] };
    const { rulesEvaluated, missed } = explain(toDecisionRequest(request), this.world, time);
    return { decision, rulesEvaluated, missed };
  }

  listActions(): ActionDef[] {
    return [...this.world.actions.values()].map((a) => a.def).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** A delegation token for a child agent (DESIGN.md §4: depth, cycles and scope enforced). */
  async delegate(parentToken: string, request: DelegationRequest): Promise<DelegationToken> {
    return this.requireIdentity().delegation.createDelegation(parentToken, request);
  }

  /** Issues an identity token (needs the identity-issuer key in this process). */
  issueIdentity(input: {
    agentId: string;
    agentName?: string;
    roles?: string[];
    groups?: string[];
    ttlSeconds?: number;
  }): string {
    return this.requireIdentity().issuer.issue(input).token;
  }

  /** Inspects a ticket without consuming it. */
  async verifyTicket(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    return this.requireTickets().validator.verify(token, expectations);
  }

  /** Checks and consumes a ticket: exactly one redeem ever succeeds, across processes. */
  async redeemTicket(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    return this.requireTickets().validator.redeem(token, expectations);
  }

  /** Loads the project's files again and swaps the world atomically; a broken reload throws and keeps the old one. */
  async reload(): Promise<void> {
    if (this.project === null) throw new AgentSafeError("reload needs a project (use AgentSafe.open)");
    const { loadWorldInput } = await import("../config/load-world.js");
    const loaded = loadWorldInput(this.project.paths, { profile: this.project.profile });
    const world = compileWorld(loaded.input);
    this.currentWorld = world;
    this.composed.setWorld(world);
  }

  /** Flushes and checkpoints the audit log and closes the state store. */
  async close(): Promise<void> {
    await this.composed.close();
  }

  private requireIdentity() {
    if (this.composed.identity === null) {
      throw new AgentSafeError(
        "Identity keys are not configured: add a keys: section to agent-safe.yaml (agent-safe init creates one)",
      );
    }
    return this.composed.identity;
  }

  private requireTickets() {
    if (this.composed.tickets === null) {
      throw new AgentSafeError(
        "Ticket keys are not configured: add a keys: section to agent-safe.yaml (agent-safe init creates one)",
      );
    }
    return this.composed.tickets;
  }
}

function whatIf(timestamp: Date | string | undefined): EvalTime | null {
  if (timestamp === undefined) return null;
  if (timestamp instanceof Date) return evalTimeFromEpoch(timestamp.getTime());
  return parseTimestamp(timestamp);
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
