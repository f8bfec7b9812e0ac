/**
 * The transitions of a request, as plans computed from the row under its lock (see store.ts):
 *
 *   pending ──approve (quorum reached)──▶ approved   (mints the one ticket, sealed in the row)
 *   pending ──approve (quorum not yet)──▶ pending    (one more distinct approver recorded)
 *   pending ──deny──────────────────────▶ denied
 *   pending ──policy revision changed───▶ denied by `system` (on an approval attempt)
 *   pending ──now ≥ expires_at──────────▶ expired   (checked first, on every transition and read)
 *   approved ──requester collects───────▶ approved   (the sealed token removed: delivered once)
 *
 * Anything else is refused with its reason and changes nothing: `Request <id> is already <status>`.
 */
import { newEventId } from "../audit/event.js";
import type { CallerIdentity, ParameterDef } from "../core/types.js";
import type { TicketIssuer } from "../tickets/issuer.js";
import { paramsDigest, ticketParams } from "../tickets/params.js";
import { deliveredEvent, resolutionEvent, voteEvent } from "./audit-events.js";
import { ApprovalError } from "./errors.js";
import { resolutionText } from "./record.js";
import { checkApprover, checkDenier, principals } from "./rules.js";
import type { TicketSealer } from "./seal.js";
import type { StorePlan } from "./store.js";
import type { ApprovalRecord, MintedTicket, StoredApproval } from "./types.js";

export interface Acted {
  record: ApprovalRecord;
  /** The audit event of this transition. */
  eventId: string;
  /** Its reason text. */
  reason: string;
}

const none = <R>(outcome: R | ApprovalError): StorePlan<R> => ({ write: null, events: [], outcome });

export function notFound(requestId: string): ApprovalError {
  return new ApprovalError(`Approval request not found: ${requestId}`, "not_found");
}

function alreadyResolved(r: ApprovalRecord): ApprovalError {
  return new ApprovalError(
    `Request ${r.request_id} is already ${r.status}`,
    r.status === "expired" ? "expired" : "resolved",
  );
}

function isDue(r: ApprovalRecord, nowMs: number): boolean {
  return r.status === "pending" && nowMs >= r.expires_at;
}

function expired(r: ApprovalRecord, nowMs: number): { record: ApprovalRecord; eventId: string } {
  const eventId = newEventId();
  return {
    record: {
      ...r,
      status: "expired",
      resolved_at: nowMs,
      resolved_by: "system",
      resolution_reason: null,
      resolution_event_id: eventId,
    },
    eventId,
  };
}

/** Expires the request when it is due; otherwise changes nothing. The outcome is the record as it now is. */
export function planExpiry(row: StoredApproval | null, nowMs: number): StorePlan<ApprovalRecord | null> {
  if (row === null) return none(null);
  if (!isDue(row.record, nowMs)) return none(row.record);
  const e = expired(row.record, nowMs);
  return {
    write: { record: e.record, sealed: null },
    events: [resolutionEvent(e.record, e.eventId, nowMs)],
    outcome: e.record,
  };
}

/** The checks every transition starts with: it exists, it has not expired (expiring it now if due), it is pending. */
function gate<R>(
  row: StoredApproval | null,
  requestId: string,
  nowMs: number,
): StorePlan<R> | ApprovalRecord {
  if (row === null) return none<R>(notFound(requestId));
  const r = row.record;
  if (isDue(r, nowMs)) {
    const e = expired(r, nowMs);
    return {
      write: { record: e.record, sealed: null },
      events: [resolutionEvent(e.record, e.eventId, nowMs)],
      outcome: new ApprovalError(`Request ${r.request_id} is already expired`, "expired"),
    };
  }
  if (r.status !== "pending") return none<R>(alreadyResolved(r));
  return r;
}

/** Parameter definitions standing in for the action's, enough for the ticket to digest the sensitive ones. */
export function sensitiveDefs(r: ApprovalRecord): ParameterDef[] {
  return r.sensitive_params.map((name) => ({
    name,
    type: "string",
    required: false,
    description: "",
    default: null,
    sensitive: true,
    constraints: null,
  }));
}

export interface Minter {
  tickets: TicketIssuer | null;
  sealer: TicketSealer | null;
}

export interface ApproveInput {
  approver: CallerIdentity;
  reason: string | null;
  nowMs: number;
  /** The policy revision in force now. */
  revision: string;
}

export function planApprove(
  row: StoredApproval | null,
  requestId: string,
  a: ApproveInput,
  m: Minter,
): StorePlan<Acted> {
  const g = gate<Acted>(row, requestId, a.nowMs);
  if (!("request_id" in g)) return g;
  const r = g;
  if (paramsDigest(r.params) !== r.params_digest)
    return none<Acted>(
      new ApprovalError(
        `Approval refused: the params stored for ${r.request_id} do not match the digest they were requested with`,
        "params_changed",
      ),
    );
  // Who may approve comes first: only an approver who could have approved closes a stale request.
  const refused = checkApprover(r, a.approver);
  if (refused !== null) return none<Acted>(refused);
  if (a.revision !== r.policy_revision) {
    // The rules the request was judged by are gone: close it, the agent asks again under the new ones.
    const eventId = newEventId();
    const why = `the policy changed since the request (revision ${r.policy_revision.slice(0, 12)} → ${a.revision.slice(0, 12)}); ask again`;
    const record: ApprovalRecord = {
      ...r,
      status: "denied",
      resolved_at: a.nowMs,
      resolved_by: "system",
      resolution_reason: why,
      resolution_event_id: eventId,
    };
    return {
      write: { record, sealed: null },
      events: [resolutionEvent(record, eventId, a.nowMs)],
      outcome: new ApprovalError(
        `Approval refused: ${why}. Request ${r.request_id} is now denied`,
        "policy_changed",
      ),
    };
  }

  const eventId = newEventId();
  const vote = {
    approver: a.approver.agent_id,
    chain: principals(a.approver).slice(0, -1),
    roles: [...a.approver.roles],
    at: a.nowMs,
    reason: a.reason,
    event_id: eventId,
  };
  const next: ApprovalRecord = { ...r, approvals: [...r.approvals, vote] };
  if (next.approvals.length < next.quorum) {
    const event = voteEvent(next, eventId, a.nowMs, vote.approver);
    return {
      write: { record: next, sealed: null },
      events: [event],
      outcome: { record: next, eventId, reason: event.reason ?? "" },
    };
  }
  next.status = "approved";
  next.resolved_at = a.nowMs;
  next.resolved_by = next.approvals.map((v) => v.approver).join(", ");
  next.resolution_reason = a.reason;
  next.resolution_event_id = eventId;
  let sealed: string | null = null;
  if (m.tickets !== null) {
    const minted = mint(next, eventId, m);
    if (minted instanceof ApprovalError) return none<Acted>(minted);
    next.ticket = minted.ticket;
    sealed = minted.sealed;
  }
  return {
    write: { record: next, sealed },
    events: [resolutionEvent(next, eventId, a.nowMs)],
    outcome: { record: next, eventId, reason: resolutionText("approved", next.resolved_by, a.reason) },
  };
}

/** The one ticket of a granted request: for the original request, with the granting event's id. */
function mint(
  r: ApprovalRecord,
  eventId: string,
  m: Minter,
): { ticket: MintedTicket; sealed: string } | ApprovalError {
  if (m.tickets === null || m.sealer === null)
    return new ApprovalError("Approval refused: tickets cannot be stored (no ticket seal key)", "config");
  try {
    const t = m.tickets.issue({
      decision: { result: "allow", action: r.action, target: r.target, caller: r.caller, audit_id: eventId },
      params: r.params,
      actionDef: { name: r.action, parameters: sensitiveDefs(r) },
    });
    if (t.params_digest !== r.params_digest)
      return new ApprovalError(
        `Approval refused: the ticket's params digest differs from the request's`,
        "params_changed",
      );
    return {
      ticket: {
        nonce: t.nonce,
        audit_id: t.audit_id,
        issued_at: t.issued_at,
        expires_at: t.expires_at,
        params_digest: t.params_digest,
        delivered_at: null,
        delivered_to: null,
      },
      sealed: m.sealer.seal(t.token, r.request_id),
    };
  } catch (err) {
    if (err instanceof ApprovalError) return err;
    return new ApprovalError(
      `Approval refused: the ticket cannot be minted: ${(err as Error).message}`,
      "config",
      {
        cause: err,
      },
    );
  }
}

export interface DenyInput {
  denier: CallerIdentity;
  reason: string | null;
  nowMs: number;
}

export function planDeny(row: StoredApproval | null, requestId: string, d: DenyInput): StorePlan<Acted> {
  const g = gate<Acted>(row, requestId, d.nowMs);
  if (!("request_id" in g)) return g;
  const refused = checkDenier(g, d.denier);
  if (refused !== null)
    return none<Acted>(
      new ApprovalError(refused.message.replace(/^Approval refused/, "Denial refused"), refused.code),
    );
  const eventId = newEventId();
  const record: ApprovalRecord = {
    ...g,
    status: "denied",
    resolved_at: d.nowMs,
    resolved_by: d.denier.agent_id,
    resolution_reason: d.reason,
    resolution_event_id: eventId,
  };
  return {
    write: { record, sealed: null },
    events: [resolutionEvent(record, eventId, d.nowMs)],
    outcome: { record, eventId, reason: resolutionText("denied", d.denier.agent_id, d.reason) },
  };
}

export type Claim =
  | { kind: "delivered"; token: string; record: ApprovalRecord }
  | { kind: "already_delivered" | "expired" | "none"; record: ApprovalRecord };

/** The requester collects the sealed token: it leaves the store in the same transaction. */
export function planClaim(
  row: StoredApproval | null,
  requestId: string,
  to: string,
  nowMs: number,
  sealer: TicketSealer | null,
): StorePlan<Claim> {
  if (row === null) return none<Claim>(notFound(requestId));
  const r = row.record;
  if (r.status !== "approved" || r.ticket === null) return none<Claim>({ kind: "none", record: r });
  if (row.sealed === null || r.ticket.delivered_at !== null)
    return none<Claim>({ kind: "already_delivered", record: r });
  if (Date.parse(r.ticket.expires_at) <= nowMs) return none<Claim>({ kind: "expired", record: r });
  if (sealer === null)
    return none<Claim>(
      new ApprovalError("Ticket refused: no ticket seal key to open it with", "ticket_unavailable"),
    );
  let token: string;
  try {
    token = sealer.open(row.sealed, requestId);
  } catch (err) {
    if (err instanceof ApprovalError) return none<Claim>(err);
    throw err;
  }
  const record: ApprovalRecord = { ...r, ticket: { ...r.ticket, delivered_at: nowMs, delivered_to: to } };
  return {
    write: { record, sealed: null },
    events: [deliveredEvent(record, newEventId(), nowMs, to)],
    outcome: { kind: "delivered", token, record },
  };
}

/** The ticket object a requester receives (REFERENCE.md §2.4), rebuilt around the delivered token. */
export function deliveredTicket(r: ApprovalRecord, token: string) {
  const t = r.ticket!;
  const bound = ticketParams(r.params, { parameters: sensitiveDefs(r) });
  return {
    token,
    action: r.action,
    target: r.target,
    caller: r.caller,
    params: bound.params,
    audit_id: t.audit_id,
    nonce: t.nonce,
    issued_at: t.issued_at,
    expires_at: t.expires_at,
    params_digest: t.params_digest,
    redacted_params: bound.redacted,
  };
}
