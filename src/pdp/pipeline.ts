/**
 * The decision pipeline (DESIGN.md §3): one request in, one decision out, every stateful step
 * around the pure `decide()` in a fixed order:
 *
 *   request shape → caller (identity) → kill switch / breaker / rate limit → decide()
 *   → cumulative risk → audit (durable before returning) → ticket (ALLOW only)
 *
 * Every part is optional and supplied by the composition root (the SDK, the sidecar). The
 * pipeline fails closed: a broken store gives DENY with the reason; an audit log that cannot be
 * written makes `check()` reject, so no decision is ever returned without its record.
 */
import { randomUUID } from "node:crypto";
import type { CreateRequestInput } from "../approvals/record.js";
import type { AuditInput, AuditRecord } from "../audit/types.js";
import { assessRisk, decide, paramsForExecution, type RequestRisk } from "../core/decide.js";
import { type EvalTime, evalTimeFromEpoch } from "../core/time.js";
import type { CallerIdentity, DecisionRequest, Params } from "../core/types.js";
import type { World } from "../core/world.js";
import type { AfterDecision, GuardDeny, Guards } from "../guards/guards.js";
import { resolveCaller } from "../identity/resolve.js";
import type { IdentityVerifier } from "../identity/verifier.js";
import type { TicketIssuer } from "../tickets/issuer.js";
import { decisionAuditEvent } from "./audit-event.js";
import { InvalidCallerError } from "./caller.js";
import { builtInDecision, type Decision, fromCore } from "./decision.js";
import { type CheckRequest, InvalidRequestError, validateRequestShape } from "./request.js";

/** Where a REQUIRE_APPROVAL decision files its approval request (the approvals service). */
export interface ApprovalRequester {
  createRequest(input: CreateRequestInput): Promise<{ request_id: string }>;
}

/** What the pipeline writes to: the audit writer, or anything with its `append`. */
export interface AuditSink {
  append(input: AuditInput): Promise<AuditRecord>;
}

export interface PipelineParts {
  /** The current world (a sidecar swaps it on reload). */
  world: () => World;
  /** Wall clock, epoch ms. Guards and audit use it; a what-if time never replaces it. */
  clock: () => number;
  identity: IdentityVerifier | null;
  /** Whether identity keys are configured (strict then requires a valid token). */
  keysConfigured: boolean;
  guards: Guards | null;
  audit: AuditSink | null;
  tickets: TicketIssuer | null;
  /** Files the approval request of a REQUIRE_APPROVAL (null: no approvals configured). */
  approvals?: ApprovalRequester | null;
  /** Told when an approval request could not be filed (the decision stays REQUIRE_APPROVAL). */
  onWarning?: (message: string) => void;
}

export interface PipelineOptions {
  /** What-if evaluation time (in-process and `--at` only; the sidecar never passes one). */
  at?: EvalTime | null;
  /** In-process callers may present identity objects; remote callers may not. */
  trusted: boolean;
  correlationId?: string | null;
}

export class DecisionPipeline {
  constructor(private readonly parts: PipelineParts) {}

  async check(request: CheckRequest, options: PipelineOptions): Promise<Decision> {
    const world = this.parts.world();
    const nowMs = this.parts.clock();
    const time = options.at ?? evalTimeFromEpoch(nowMs);
    const auditId = newAuditId();
    const decided = await this.decideRequest(world, request, options, time, nowMs);
    const decision = decided.decision;
    decision.audit_id = auditId;
    if (this.parts.audit !== null) {
      await this.parts.audit.append(
        decisionAuditEvent(decision, {
          params: decided.params,
          actionDef: world.actions.get(decision.action)?.def ?? null,
          caller: decided.caller,
          after: decided.after,
          at: options.at === undefined || options.at === null ? null : decision.evaluated_at,
          timestamp: new Date(nowMs),
          correlationId: options.correlationId ?? null,
        }),
      );
    }
    if (decision.result === "require_approval" && this.parts.approvals) {
      await this.fileApprovalRequest(decision, decided, world);
    }
    if (decision.result === "allow" && this.parts.tickets !== null) {
      const action = world.actions.get(decision.action);
      if (action !== undefined) {
        decision.ticket = this.parts.tickets.issue({
          decision,
          params: paramsForExecution(world, decision.action, decided.params),
          actionDef: action.def,
        });
      }
    }
    return decision;
  }

  /**
   * Files the approval request after the decision is on record (the request's own audit event
   * names the decision's id). A store that is down leaves the decision REQUIRE_APPROVAL with no
   * `request_id`: nothing can approve it, and nothing is ever allowed because of it.
   */
  private async fileApprovalRequest(
    decision: Decision,
    decided: { params: Params | null; caller: CallerIdentity | null },
    world: World,
  ): Promise<void> {
    try {
      const request = await this.parts.approvals?.createRequest({
        decision,
        params: decided.params,
        caller: decided.caller,
        world,
      });
      decision.request_id = request?.request_id ?? null;
    } catch (err) {
      decision.request_id = null;
      const why = err instanceof Error ? err.message : String(err);
      this.parts.onWarning?.(`approval request for ${decision.audit_id} not filed: ${why}`);
    }
  }

  /** Every step up to the final result; no audit, no ticket. */
  private async decideRequest(
    world: World,
    request: CheckRequest,
    options: PipelineOptions,
    time: EvalTime,
    nowMs: number,
  ): Promise<{
    decision: Decision;
    params: Params | null;
    caller: CallerIdentity | null;
    after: AfterDecision | null;
  }> {
    const base = { ticketId: null, revision: world.revision, profile: world.profile, evaluatedAt: iso(time) };
    let shape: Omit<DecisionRequest, "caller">;
    try {
      shape = validateRequestShape(request);
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      const decision = builtInDecision(
        nameOf(request.action),
        riskOf(request, world),
        `Invalid request: ${err.message}`,
        "invalid_request",
        { ...base, caller: "anonymous" },
      );
      return { decision, params: null, caller: null, after: null };
    }
    const ctx = { ...base, ticketId: shape.ticketId, caller: "anonymous" };
    const risk = assessRisk(shape, world);

    let caller: CallerIdentity | null;
    try {
      const resolved = await resolveCaller(request.caller ?? null, {
        profile: world.profile,
        verifier: this.parts.identity,
        keysConfigured: this.parts.keysConfigured,
        trusted: options.trusted,
      });
      if (resolved.error !== undefined) {
        // An unauthenticated caller has no id to rate-limit or score: it is denied before any
        // per-caller state is touched, so nobody can spend another agent's budget.
        const decision = builtInDecision(shape.action, risk, resolved.error, "unauthenticated", ctx);
        return { decision, params: shape.params, caller: null, after: null };
      }
      caller = resolved.caller;
    } catch (err) {
      if (!(err instanceof InvalidCallerError)) throw err;
      const decision = builtInDecision(
        shape.action,
        risk,
        `Invalid request: ${err.message}`,
        "invalid_request",
        ctx,
      );
      return { decision, params: shape.params, caller: null, after: null };
    }

    const callerId = caller?.agent_id ?? "anonymous";
    const guardContext = { chain: caller?.delegation_chain.map((link) => link.agent_id) ?? [] };
    const guards = this.parts.guards;
    const stopped: GuardDeny | null =
      guards === null ? null : await guards.beforeDecision(callerId, nowMs, guardContext);
    if (stopped !== null) {
      const decision = builtInDecision(shape.action, risk, stopped.deny, stopped.code, {
        ...ctx,
        caller: callerId,
      });
      return { decision, params: shape.params, caller, after: null };
    }

    const core = decide({ ...shape, caller }, world, time);
    const decision = fromCore(core, { ...ctx, caller: callerId });
    let after: AfterDecision | null = null;
    if (guards !== null) {
      after = await guards.afterDecision(callerId, decision, nowMs, guardContext);
      decision.result = after.result;
      decision.reason = after.reason;
      if (after.code !== null) decision.code = after.code;
      decision.escalated_from = after.escalated_from;
      decision.cumulative_risk_score = after.cumulative_risk_score;
      decision.cumulative_risk_class = after.cumulative_risk_class;
    }
    return { decision, params: shape.params, caller, after };
  }
}

function nameOf(action: unknown): string {
  return typeof action === "string" ? action : "unknown";
}

/** The risk of a request whose shape may be invalid (unknown action / target when unreadable). */
function riskOf(request: CheckRequest, world: World): RequestRisk {
  return assessRisk(
    { action: nameOf(request.action), target: typeof request.target === "string" ? request.target : null },
    world,
  );
}

function iso(time: EvalTime): string {
  return new Date(time.epochMs).toISOString();
}

/** `evt-` + 12 hex, as 0.9.0 (the first 12 hex digits of a random UUID). */
export function newAuditId(): string {
  return `evt-${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}
