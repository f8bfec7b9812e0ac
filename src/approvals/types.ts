/**
 * The approval request model. `ApprovalRecord` is what the store keeps (the params in clear: the
 * ticket is minted from them, so the store is as sensitive as the state directory);
 * `ApprovalRequest` is what callers, the CLI and notifiers see (ISO times, sensitive params
 * redacted, the ticket's metadata but never its token).
 */
import type { RiskClass } from "../core/types.js";

export const APPROVAL_STATUSES = ["pending", "approved", "denied", "expired"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** One approver's approval, as stored. */
export interface ApprovalVote {
  /** The approver's agent id. */
  approver: string;
  /** The agent ids the approver acts for (its delegation chain, root first). */
  chain: string[];
  roles: string[];
  /** Epoch ms. */
  at: number;
  reason: string | null;
  /** The audit event that recorded it. */
  event_id: string;
}

/** The ticket a granted request minted: its identifiers, never the token. */
export interface MintedTicket {
  nonce: string;
  /** The audit id the ticket carries: the approval event that granted it. */
  audit_id: string;
  issued_at: string;
  expires_at: string;
  params_digest: string;
  /** When the requester collected the token (epoch ms), and who; null until then. */
  delivered_at: number | null;
  delivered_to: string | null;
}

export interface ApprovalRecord {
  /** `apr-` + 12 hex. */
  request_id: string;
  /** The REQUIRE_APPROVAL decision's audit id. */
  audit_id: string | null;
  action: string;
  target: string;
  /** The requester's agent id (`anonymous` when there was none). */
  caller: string;
  /** The requester's delegation chain (agent ids, root first). */
  caller_chain: string[];
  /** The params the ticket will carry (canonical JSON values, secrets in clear). */
  params: Record<string, unknown>;
  /** Parameters the action marks `sensitive: true`: redacted in every view and notification. */
  sensitive_params: string[];
  /** `sha256:` digest of the canonical params, fixed at request time. */
  params_digest: string;
  /** The policy revision the request was decided under. */
  policy_revision: string;
  policy_matched: string | null;
  risk_class: RiskClass;
  effective_risk: RiskClass;
  /** The decision's reason. */
  reason: string;
  /** Distinct approvers needed. */
  quorum: number;
  /** An approver must hold one of these roles (none: any identified approver). */
  approver_roles: string[];
  status: ApprovalStatus;
  /** Epoch ms. */
  created_at: number;
  expires_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution_reason: string | null;
  /** The audit event of the resolution (approved, denied, expired). */
  resolution_event_id: string | null;
  approvals: ApprovalVote[];
  ticket: MintedTicket | null;
}

/** A request as the API, the CLI and notifiers show it. */
export interface ApprovalRequest {
  request_id: string;
  audit_id: string | null;
  action: string;
  target: string;
  caller: string;
  caller_chain: string[];
  /** Sensitive values replaced by `[REDACTED]`. */
  params: Record<string, unknown>;
  params_digest: string;
  policy_revision: string;
  risk_class: RiskClass;
  effective_risk: RiskClass;
  policy_matched: string | null;
  reason: string;
  status: ApprovalStatus;
  /** `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (REFERENCE.md §0.4). */
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution_reason: string | null;
  quorum: number;
  approver_roles: string[];
  approvals: { approver: string; chain: string[]; at: string; reason: string | null }[];
  ticket: {
    nonce: string;
    audit_id: string;
    issued_at: string;
    expires_at: string;
    params_digest: string;
    delivered: boolean;
    delivered_at: string | null;
  } | null;
}

/** A stored row: the record, the sealed ticket token (until collected) and the CAS version. */
export interface StoredApproval {
  record: ApprovalRecord;
  sealed: string | null;
  version: number;
}
