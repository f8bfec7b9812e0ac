/**
 * Rollback's view of the audit log, through the log's index (one small read per lookup).
 *
 * An approved action runs on the ticket its approval minted, whose `audit_id` is the granting
 * `approval` event, so the runner's `state_capture` names that event. Either id finds the plan:
 * the grant leads back to its decision (`context.original_audit_id`), and a decision leads
 * forward to the grants of its approval requests.
 */
import { AuditIndex, type IndexedEvent } from "../audit/index-db.js";
import type { AuditedEvent, RollbackSource } from "./rollback.js";

export async function auditRollbackSource(logPath: string): Promise<RollbackSource & { close(): void }> {
  const index = await AuditIndex.open(logPath);
  if (index === null) throw new Error(`Cannot open the index of the audit log ${logPath}`);
  const asEvent = (hit: IndexedEvent | undefined) =>
    hit === undefined ? null : (hit.event as unknown as AuditedEvent);
  const decisionOf = (auditId: string): AuditedEvent | null => {
    const hits = index.byEventId(auditId);
    const decision = hits.find((e) => e.event.event_type === "decision");
    if (decision !== undefined) return asEvent(decision);
    const grant = asEvent(hits.find((e) => isGrant(e.event as unknown as AuditedEvent)));
    const original = grant?.context?.original_audit_id;
    if (typeof original !== "string" || original === auditId) return null;
    return asEvent(index.byEventId(original).find((e) => e.event.event_type === "decision"));
  };
  return {
    decision: decisionOf,
    stateCapture: (auditId) => {
      const direct = index.byOriginalAuditId(auditId, "state_capture").at(-1);
      if (direct !== undefined) return asEvent(direct);
      const grants = index
        .byOriginalAuditId(auditId, "approval")
        .filter((e) => isGrant(e.event as unknown as AuditedEvent));
      for (const grant of grants.reverse()) {
        const capture = index.byOriginalAuditId(grant.event.event_id as string, "state_capture").at(-1);
        if (capture !== undefined) return asEvent(capture);
      }
      return null;
    },
    close: () => index.close(),
  };
}

/** The `approval` event that approved a request (its id is the minted ticket's `audit_id`). */
function isGrant(event: AuditedEvent): boolean {
  return (
    event.event_type === "approval" &&
    event.context?.type === "approval_resolution" &&
    event.context?.resolution === "approve"
  );
}
