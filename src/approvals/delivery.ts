/**
 * Who receives an approved request's ticket (the requester: the same agent with the same
 * delegation chain), what a later collector is told, and how a record reads at a given time.
 */
import type { CallerIdentity } from "../core/types.js";
import type { ApprovalRecord } from "./types.js";

/** The record as it stands at `now`, without writing: a due pending request reads as expired. */
export function asOf(r: ApprovalRecord, now: number): ApprovalRecord {
  if (r.status !== "pending" || now < r.expires_at) return r;
  return { ...r, status: "expired", resolved_at: r.expires_at, resolved_by: "system" };
}

export function alreadyDelivered(r: ApprovalRecord): string {
  const t = r.ticket;
  const when = t?.delivered_at == null ? "" : ` at ${new Date(t.delivered_at).toISOString()}`;
  return `the ticket was already delivered${t?.delivered_to ? ` to ${t.delivered_to}` : ""}${when}; it is delivered once`;
}

/** The requester: the same agent with the same delegation chain. */
export function isRequester(r: ApprovalRecord, who: CallerIdentity): boolean {
  const chain = who.delegation_chain.map((l) => l.agent_id);
  return (
    who.agent_id === r.caller &&
    chain.length === r.caller_chain.length &&
    chain.every((c, i) => c === r.caller_chain[i])
  );
}
