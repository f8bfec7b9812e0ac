/**
 * Approvals (REFERENCE.md §8, DESIGN.md §4 item 7, THREATS.md T17–T19; docs/approvals.md).
 *
 * Wiring (for the pipeline, the SDK and the sidecar):
 *
 * ```ts
 * const approvals = openApprovals(project, {
 *   identityVerifier: composed.identity?.verifier ?? null,   // approvers' tokens
 *   ticketIssuer: composed.tickets?.issuer ?? null,          // the one ticket of a granted request
 *   tokenKeys: composed.keys,                                // seals that ticket in the store
 *   audit: composed.audit,                                   // every transition, before it commits
 *   world: () => currentWorld,                               // approvals bound to its revision
 *   trusted: true,                                           // SDK in-process; the sidecar: false
 *   sweepIntervalMs: 30_000,                                 // long-running: expire in the background
 * });
 *
 * // Pipeline, after the REQUIRE_APPROVAL decision's audit event:
 * const req = await approvals.createRequest({ decision, params: decided.params, caller: decided.caller, world });
 * decision.request_id = req.request_id;     // ApprovalError (code "unavailable") if the store is down:
 *                                           // keep REQUIRE_APPROVAL, request_id null — never ALLOW.
 * // SDK surface:
 * await approvals.get(id); await approvals.list({ status: "pending" });
 * await approvals.approve(id, approverTokenOrTrustedIdentity, reason);   // ApprovalError with the reason
 * await approvals.deny(id, approverTokenOrTrustedIdentity, reason);
 * const r = await approvals.waitForApproval(id, { timeout: 60, requester });
 * //   r.decision: ALLOW with r.decision.ticket (token included) exactly once, DENY, or REQUIRE_APPROVAL on timeout
 * await approvals.close();                  // flushes notifications (bounded), closes the store
 * ```
 */
export {
  deliveredEvent,
  requestedEvent,
  resolutionEvent,
  voteEvent,
} from "./audit-events.js";
export { ApprovalError, type ApprovalErrorCode } from "./errors.js";
export { type ActorInput, resolveActor } from "./identity.js";
export {
  buildNotifiers,
  type DeliveryOptions,
  NotifierQueue,
  Notifiers,
  type NotifierTarget,
  SIGNATURE_HEADER,
  SlackNotifier,
  slackText,
  WebhookNotifier,
} from "./notifiers/index.js";
export { approvalsSettings, type OpenApprovalsOptions, openApprovalStore, openApprovals } from "./open.js";
export { PostgresApprovalStore } from "./postgres-store.js";
export {
  type ApprovalDecision,
  type CreateRequestInput,
  expiredText,
  REDACTED,
  REQUEST_ID_PATTERN,
  resolutionText,
  toView,
} from "./record.js";
export { checkApprover, checkDenier, principals } from "./rules.js";
export { sealerFromRing, sealerWithKey, type TicketSealer } from "./seal.js";
export {
  type ApprovalOutcome,
  ApprovalService,
  type ApprovalServiceOptions,
  type ApprovalWaitResult,
  type ListOptions,
  type TicketDelivery,
  type WaitOptions,
} from "./service.js";
export { SqliteApprovalStore } from "./sqlite-store.js";
export { type ApprovalStore, parseApprovalStoreUrl } from "./store.js";
export {
  APPROVAL_STATUSES,
  type ApprovalRecord,
  type ApprovalRequest,
  type ApprovalStatus,
  type ApprovalVote,
  type MintedTicket,
} from "./types.js";
