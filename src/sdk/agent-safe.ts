/**
 * `AgentSafe`: the library entry point. It composes the parts (project, identity, guards, audit,
 * tickets) into the decision pipeline and holds no decision logic of its own.
 *
 * Key custody: in library mode this process holds the signing keys, so it suits trusted agents
 * and tests. For untrusted agents, run the sidecar (`agent-safe serve`) and keep keys out of them.
 */

import type {
  ActorInput,
  ApprovalOutcome,
  ApprovalRequest,
  ApprovalService,
  ApprovalWaitResult,
  ListOptions,
  WaitOptions,
} from "../approvals/index.js";
import { type OpenOptions, openProject } from "../config/open-project.js";
import type { ProjectConfig } from "../config/project.js";
import { type EvalTime, evalTimeFromEpoch, parseTimestamp } from "../core/time.js";
import type { ActionDef } from "../core/types.js";
import { compileWorld, type World } from "../core/world.js";
import type { DelegationRequest, DelegationToken } from "../identity/index.js";
import type { CallerInput } from "../pdp/caller.js";
import type { Decision } from "../pdp/decision.js";
import { type ExplainedDecision, explainRequest } from "../pdp/explain.js";
import { DecisionPipeline } from "../pdp/pipeline.js";
import type { CheckRequest } from "../pdp/request.js";
import type { DryRun, ExecutionResult, RollbackPlan } from "../runner/index.js";
import type { TicketExpectations, TicketResult } from "../tickets/index.js";
import {
  type AgentSafeClient,
  AgentSafeError,
  type CheckOptions,
  type PlanOptions,
  type PlanStep,
} from "./client.js";
import { type Composed, compose } from "./compose.js";
import {
  checkRollbackFor,
  dryRunTicket,
  type ExecuteOptions,
  executeTicket,
  planRollbackFor,
  type RollbackCheck,
} from "./execution.js";
import { RemoteAgentSafe, type RemoteAgentSafeOptions } from "./remote.js";

export type { CheckOptions, PlanOptions, PlanStep } from "./client.js";
export { AgentSafeError, AgentSafeHttpError } from "./client.js";
export type { ExecuteOptions, RollbackCheck } from "./execution.js";
export type { RemoteAgentSafeOptions } from "./remote.js";

export interface AgentSafeOptions extends OpenOptions {
  /** Write decisions to the project's audit log (default true). */
  audit?: boolean;
  clock?: () => number;
}

export type { ExplainedDecision } from "../pdp/explain.js";

/** What an in-process instance is made of (built by `open()` / `fromWorld()`, never by callers). */
interface LocalInit {
  readonly [LOCAL]: true;
  composed: Composed;
  project: ProjectConfig | null;
  world: World;
}

const LOCAL: unique symbol = Symbol("agent-safe.local");

interface Local {
  composed: Composed;
  pipeline: DecisionPipeline;
  world: World;
}

export class AgentSafe implements AgentSafeClient {
  readonly project: ProjectConfig | null;
  private readonly local: Local | null;
  private readonly remote: RemoteAgentSafe | null;

  /**
   * A client of a sidecar: `new AgentSafe({ url: "http://127.0.0.1:8420", token })`. The same
   * methods and results as in-process (`AgentSafe.open()`), without keys or policy in this process.
   */
  constructor(options: RemoteAgentSafeOptions);
  constructor(options: RemoteAgentSafeOptions | LocalInit) {
    if (typeof options === "object" && options !== null && LOCAL in options) {
      this.project = options.project;
      this.local = {
        composed: options.composed,
        pipeline: new DecisionPipeline(options.composed.parts),
        world: options.world,
      };
      this.remote = null;
    } else {
      this.project = null;
      this.local = null;
      this.remote = new RemoteAgentSafe(options);
    }
  }

  private static inProcess(composed: Composed, project: ProjectConfig | null, world: World): AgentSafe {
    const init: LocalInit = { [LOCAL]: true, composed, project, world };
    return new AgentSafe(init as unknown as RemoteAgentSafeOptions);
  }

  /** Whether this instance talks to a sidecar (`new AgentSafe({ url })`) rather than deciding in-process. */
  get isRemote(): boolean {
    return this.remote !== null;
  }

  /** Loads the project found from `cwd` (or named by the options) with everything it configures. */
  static async open(options: AgentSafeOptions = {}): Promise<AgentSafe> {
    const opened = await openProject(options);
    const composed = await compose(opened, {
      audit: options.audit ?? true,
      approvals: { trusted: true },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    return AgentSafe.inProcess(composed, opened.project, opened.world);
  }

  /** Decisions only, from an already compiled world: no audit, memory state (tests, embedding). */
  static async fromWorld(world: World, clock: () => number = Date.now): Promise<AgentSafe> {
    const { resolveProject } = await import("../config/project.js");
    const { readProjectFile } = await import("../config/project-file.js");
    const project = resolveProject(null, readProjectFile(null), {}, process.cwd());
    const composed = await compose({ project, world }, { audit: false, clock });
    return AgentSafe.inProcess(composed, null, world);
  }

  /** The loaded world (in-process only). */
  get world(): World {
    return this.requireLocal("world").world;
  }

  async check(action: string, options: CheckOptions = {}): Promise<Decision> {
    if (this.remote !== null) return this.remote.check(action, options);
    return this.requireLocal("check").pipeline.check(toRequest(action, options), {
      at: whatIf(options.timestamp),
      trusted: true,
      correlationId: options.correlationId ?? null,
    });
  }

  /** Every step is decided at the same time, in order; there is no short-circuit. */
  async checkPlan(steps: readonly PlanStep[], options: PlanOptions = {}): Promise<Decision[]> {
    if (this.remote !== null) return this.remote.checkPlan(steps, options);
    const local = this.requireLocal("checkPlan");
    const at = whatIf(options.timestamp) ?? evalTimeFromEpoch(local.composed.parts.clock());
    const out: Decision[] = [];
    for (const s of steps)
      out.push(await local.pipeline.check(toRequest(s.action, s), { at, trusted: true }));
    return out;
  }

  /** The decision (without side effects) and, for each rule ahead of the winner, the first failing condition. */
  async explain(action: string, options: CheckOptions = {}): Promise<ExplainedDecision> {
    const local = this.requireLocal("explain");
    const request = toRequest(action, options);
    const time = whatIf(options.timestamp) ?? evalTimeFromEpoch(local.composed.parts.clock());
    // The caller is resolved as `check` resolves it; in-process callers are trusted with identity objects.
    const { identity, keysConfigured } = local.composed.parts;
    return explainRequest(this.world, request, time, { verifier: identity, keysConfigured, trusted: true });
  }

  listActions(): ActionDef[] {
    return [...this.world.actions.values()].map((a) => a.def).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** A delegation token for a child agent (DESIGN.md §4: depth, cycles and scope enforced). */
  async delegate(parentToken: string, request: DelegationRequest): Promise<DelegationToken> {
    if (this.remote !== null) return this.remote.delegate(parentToken, request);
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

  /** An approval request, or null when there is none with this id. */
  async getApproval(requestId: string): Promise<ApprovalRequest | null> {
    if (this.remote !== null) return this.remote.getApproval(requestId);
    return (await this.requireApprovals()).get(requestId);
  }

  /** Approval requests, oldest first (pending ones by default). */
  async listApprovals(options: ListOptions = {}): Promise<ApprovalRequest[]> {
    if (this.remote !== null) return this.remote.listApprovals(options);
    return (await this.requireApprovals()).list(options);
  }

  /**
   * Approves as `approver` (an identity token, or in-process a trusted identity object). Refusals
   * (separation of duties, role, expiry, already resolved, …) throw `ApprovalError` with the reason.
   */
  async approve(requestId: string, approver?: ActorInput, reason?: string): Promise<ApprovalOutcome> {
    if (this.remote !== null) return this.remote.approve(requestId, approver, reason);
    return (await this.requireApprovals()).approve(requestId, approver, reason ?? null);
  }

  async deny(requestId: string, denier?: ActorInput, reason?: string): Promise<ApprovalOutcome> {
    if (this.remote !== null) return this.remote.deny(requestId, denier, reason);
    return (await this.requireApprovals()).deny(requestId, denier, reason ?? null);
  }

  /**
   * Waits up to `timeout` seconds (default 60) for the request to be resolved. Approved: an ALLOW
   * whose `ticket` carries the minted token, handed out exactly once; denied or expired: a DENY;
   * still pending: REQUIRE_APPROVAL with `timedOut`.
   */
  async waitForApproval(requestId: string, options: WaitOptions = {}): Promise<ApprovalWaitResult> {
    if (this.remote !== null) return this.remote.waitForApproval(requestId, options);
    return (await this.requireApprovals()).waitForApproval(requestId, options);
  }

  /**
   * Runs the action of an execution ticket (redeemed here, once) with the chosen executor, scoped
   * credentials from the vault when configured, state captured before and after, every step audited.
   */
  async execute(ticket: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    if (this.remote !== null) return this.remote.execute(ticket, options);
    const local = this.requireLocal("execute");
    return executeTicket(local.composed, () => local.world, ticket, options);
  }

  /** What `execute` would run, without redeeming the ticket or touching anything. */
  async dryRun(ticket: string, options: ExecuteOptions = {}): Promise<DryRun> {
    const local = this.requireLocal("dryRun");
    return dryRunTicket(local.composed, () => local.world, ticket, options);
  }

  /** The action and params that undo an executed action, from its audited state capture. */
  async planRollback(auditId: string): Promise<RollbackPlan> {
    const local = this.requireLocal("planRollback");
    return planRollbackFor(local.composed, this.project, local.world, auditId);
  }

  /** The rollback plan and its decision: a rollback goes through the policy like any action. */
  async checkRollback(auditId: string, options: { caller?: CallerInput } = {}): Promise<RollbackCheck> {
    const local = this.requireLocal("checkRollback");
    return checkRollbackFor(
      local.composed,
      local.pipeline,
      this.project,
      local.world,
      auditId,
      options.caller,
    );
  }

  /** Inspects a ticket without consuming it. */
  async verifyTicket(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    if (this.remote !== null) return this.remote.verifyTicket(token, expectations);
    return this.requireTickets().validator.verify(token, expectations);
  }

  /** Checks and consumes a ticket: exactly one redeem ever succeeds, across processes. */
  async redeemTicket(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    if (this.remote !== null) return this.remote.redeemTicket(token, expectations);
    return this.requireTickets().validator.redeem(token, expectations);
  }

  /** Loads the project's files again and swaps the world atomically; a broken reload throws and keeps the old one. */
  async reload(): Promise<void> {
    const local = this.requireLocal("reload");
    if (this.project === null) throw new AgentSafeError("reload needs a project (use AgentSafe.open)");
    const { loadWorldInput } = await import("../config/load-world.js");
    const loaded = loadWorldInput(this.project.paths, { profile: this.project.profile });
    const world = compileWorld(loaded.input);
    local.world = world;
    local.composed.setWorld(world);
  }

  /** In-process: flushes and checkpoints the audit log and closes the state store. Remote: nothing to release. */
  async close(): Promise<void> {
    if (this.remote !== null) return this.remote.close();
    await this.requireLocal("close").composed.close();
  }

  private requireLocal(method: string): Local {
    if (this.local === null) {
      throw new AgentSafeError(
        `${method}() is available in-process only (AgentSafe.open()); a sidecar client offers check, ` +
          "checkPlan, verifyTicket, redeemTicket, delegate, the approval calls and execute",
      );
    }
    return this.local;
  }

  private async requireApprovals(): Promise<ApprovalService> {
    const service = await this.requireLocal("approvals").composed.approvals();
    if (service === null) {
      throw new AgentSafeError(
        "Approvals need a project (AgentSafe.open() with an agent-safe.yaml); approvals: false turns them off",
      );
    }
    return service;
  }

  private requireIdentity() {
    const composed = this.requireLocal("identity").composed;
    if (composed.identity === null) {
      throw new AgentSafeError(
        "Identity keys are not configured: add a keys: section to agent-safe.yaml (agent-safe init creates one)",
      );
    }
    return composed.identity;
  }

  private requireTickets() {
    const composed = this.requireLocal("tickets").composed;
    if (composed.tickets === null) {
      throw new AgentSafeError(
        "Ticket keys are not configured: add a keys: section to agent-safe.yaml (agent-safe init creates one)",
      );
    }
    return composed.tickets;
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
