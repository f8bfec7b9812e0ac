/** Typed approval errors: `message` is the reason shown to people, `code` is for programs. */

export type ApprovalErrorCode =
  /** no request with that id */
  | "not_found"
  /** the request expired (now, or before) */
  | "expired"
  /** the request is already approved or denied */
  | "resolved"
  /** no identity, or one that does not verify */
  | "unidentified"
  /** the requester, or someone in its delegation chain, tried to approve */
  | "separation_of_duties"
  /** the approver holds none of the rule's approver roles */
  | "role"
  /** the same approver (or someone acting for it) approved twice */
  | "duplicate_approver"
  /** the policy revision changed since the request was made */
  | "policy_changed"
  /** the stored params no longer match the digest they were approved under */
  | "params_changed"
  /** a ticket was asked for by someone who is not the requester */
  | "not_requester"
  /** the ticket cannot be delivered (already collected, expired, keys changed) */
  | "ticket_unavailable"
  /** a malformed call (not a REQUIRE_APPROVAL decision, bad params) */
  | "invalid_request"
  /** the store (or the audit log) failed: nothing changed */
  | "unavailable"
  /** configuration that cannot work */
  | "config";

export class ApprovalError extends Error {
  override name = "ApprovalError";
  constructor(
    message: string,
    readonly code: ApprovalErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
