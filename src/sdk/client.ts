/**
 * What every Agent-Safe client offers, in-process (`AgentSafe.open()`) or remote
 * (`new AgentSafe({ url, token })`, `RemoteAgentSafe`): the same methods, the same results, the same
 * typed errors. Code written against `AgentSafeClient` runs unchanged in library mode (tests,
 * trusted agents) and against the sidecar (untrusted agents, other languages).
 *
 * Types only, and the errors: importing this module loads no engine, keys or configuration.
 */
import type { Params } from "../core/types.js";
import type { DelegationRequest, DelegationToken } from "../identity/delegation.js";
import type { CallerInput } from "../pdp/caller.js";
import type { Decision } from "../pdp/decision.js";
import type { TicketExpectations, TicketResult } from "../tickets/validator.js";

export interface CheckOptions {
  target?: string | null;
  /**
   * In-process: `null` (anonymous), an identity token or agent id, or a trusted identity object.
   * Remote: an identity token sent as this call's `Authorization: Bearer` (default: the client's
   * token), or `null` for none; identity objects are refused (they prove nothing over the wire).
   */
  caller?: CallerInput;
  params?: Params | null;
  /** An external change-ticket id, for `require_ticket` rules. */
  ticketId?: string | null;
  /** Evaluate as of this time (what-if); in-process only (a remote client refuses it). Default: now. */
  timestamp?: Date | string;
  /** Recorded with the audit event, to link it to the caller's own records. */
  correlationId?: string;
}

export interface PlanStep extends CheckOptions {
  action: string;
}

export interface PlanOptions {
  /** What-if time for every step; in-process only. */
  timestamp?: Date | string;
}

export interface AgentSafeClient {
  /** One decision: ALLOW (with an execution ticket when keys are configured), DENY or REQUIRE_APPROVAL. */
  check(action: string, options?: CheckOptions): Promise<Decision>;
  /** Every step decided in order, without short-circuit; one decision per step. */
  checkPlan(steps: readonly PlanStep[], options?: PlanOptions): Promise<Decision[]>;
  /** Inspects an execution ticket without consuming it. */
  verifyTicket(token: string, expectations?: TicketExpectations): Promise<TicketResult>;
  /** Checks and consumes a ticket: exactly one redeem ever succeeds, across processes and replicas. */
  redeemTicket(token: string, expectations?: TicketExpectations): Promise<TicketResult>;
  /** A delegation token for a child agent, minted for the holder of `parentToken`. */
  delegate(parentToken: string, request: DelegationRequest): Promise<DelegationToken>;
  /** Releases what the client holds (in-process: flushes the audit log, closes the state store). */
  close(): Promise<void>;
}

/** A usage or configuration problem of the SDK itself (not a decision: a DENY is a result). */
export class AgentSafeError extends Error {
  override name = "AgentSafeError";
}

/** The sidecar answered with an HTTP error: `status`, and its `{error, message}` body. */
export class AgentSafeHttpError extends AgentSafeError {
  override name = "AgentSafeHttpError";
  constructor(
    readonly status: number,
    /** The `error` code of the body (`invalid_request`, `unauthenticated`, `audit_unavailable`, …). */
    readonly code: string,
    message: string,
    /** A finer reason code, where the server gives one (delegations). */
    readonly detail?: string,
  ) {
    super(message);
  }
}
