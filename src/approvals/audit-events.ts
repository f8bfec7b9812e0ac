/**
 * The audit event of every approval transition (event type `approval`), written durably before the
 * transition commits. Each links the ids: `correlation_id` is the original REQUIRE_APPROVAL
 * decision's audit id, `context.request_id` the request, and the event that grants a request is
 * the `audit_id` of the ticket it mints.
 *
 * | transition                         | decision           | reason                                              |
 * |------------------------------------|--------------------|-----------------------------------------------------|
 * | created (pending)                  | `require_approval` | `Approval requested (<id>): <decision reason>`       |
 * | one approval, quorum not reached   | `require_approval` | `Approval recorded by <who> (1 of 2)`               |
 * | approved                           | `allow`            | `Approval approved by <who>[: <reason>]`            |
 * | denied (by a person, or `system`)  | `deny`             | `Approval denied by <who>[: <reason>]`              |
 * | expired                            | `deny`             | `Request <id> expired`                              |
 * | ticket collected by the requester  | `allow`            | `Ticket for <id> delivered to <who>`                |
 *
 * Params appear only in the creation event, redacted by the writer (`sensitiveParams`); later
 * events carry the params digest instead.
 */
import type { AuditInput } from "../audit/types.js";
import { expiredText, resolutionText } from "./record.js";
import type { ApprovalRecord } from "./types.js";

function base(r: ApprovalRecord, eventId: string, nowMs: number): AuditInput {
  return {
    event_type: "approval",
    event_id: eventId,
    timestamp: new Date(nowMs),
    action: r.action,
    target: r.target,
    caller: r.caller,
    params: {},
    policy_matched: r.policy_matched,
    risk_class: r.risk_class,
    effective_risk: r.effective_risk,
    correlation_id: r.audit_id,
    ticket_id: null,
  };
}

function context(r: ApprovalRecord, type: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type,
    request_id: r.request_id,
    original_audit_id: r.audit_id,
    params_digest: r.params_digest,
    policy_revision: r.policy_revision,
    ...extra,
  };
}

export function requestedEvent(r: ApprovalRecord, eventId: string): AuditInput {
  return {
    ...base(r, eventId, r.created_at),
    params: r.params,
    sensitiveParams: r.sensitive_params,
    decision: "require_approval",
    reason: `Approval requested (${r.request_id}): ${r.reason}`,
    context: context(r, "approval_request", {
      caller_chain: r.caller_chain,
      quorum: r.quorum,
      approver_roles: r.approver_roles,
      expires_at: new Date(r.expires_at).toISOString(),
    }),
  };
}

/** An approval that does not complete the quorum. `r` is the record after it. */
export function voteEvent(r: ApprovalRecord, eventId: string, nowMs: number, approver: string): AuditInput {
  return {
    ...base(r, eventId, nowMs),
    decision: "require_approval",
    reason: `Approval recorded by ${approver} (${r.approvals.length} of ${r.quorum})`,
    context: context(r, "approval_vote", {
      approver,
      approvals: r.approvals.map((v) => v.approver),
      quorum: r.quorum,
    }),
  };
}

/** `r` is the resolved record (status, resolved_by, resolution_reason, ticket set). */
export function resolutionEvent(r: ApprovalRecord, eventId: string, nowMs: number): AuditInput {
  const resolution = r.status === "approved" ? "approve" : r.status === "denied" ? "deny" : "expire";
  const reason =
    r.status === "approved"
      ? resolutionText("approved", r.resolved_by ?? "unknown", r.resolution_reason)
      : r.status === "denied"
        ? resolutionText("denied", r.resolved_by ?? "system", r.resolution_reason)
        : expiredText(r.request_id);
  return {
    ...base(r, eventId, nowMs),
    decision: r.status === "approved" ? "allow" : "deny",
    reason,
    context: context(r, "approval_resolution", {
      resolved_by: r.resolved_by,
      resolution,
      approvals: r.approvals.map((v) => v.approver),
      quorum: r.quorum,
      ticket_nonce: r.ticket?.nonce ?? null,
    }),
  };
}

export function deliveredEvent(r: ApprovalRecord, eventId: string, nowMs: number, to: string): AuditInput {
  return {
    ...base(r, eventId, nowMs),
    decision: "allow",
    reason: `Ticket for ${r.request_id} delivered to ${to}`,
    context: context(r, "approval_ticket", {
      delivered_to: to,
      ticket_nonce: r.ticket?.nonce ?? null,
      ticket_audit_id: r.ticket?.audit_id ?? null,
    }),
  };
}
