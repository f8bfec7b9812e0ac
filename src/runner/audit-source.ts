/** Rollback's view of the audit log, through the log's index (one small read per lookup). */
import { AuditIndex } from "../audit/index-db.js";
import type { AuditedEvent, RollbackSource } from "./rollback.js";

export async function auditRollbackSource(logPath: string): Promise<RollbackSource & { close(): void }> {
  const index = await AuditIndex.open(logPath);
  if (index === null) throw new Error(`Cannot open the index of the audit log ${logPath}`);
  return {
    decision: (auditId) => {
      const hit = index.byEventId(auditId).find((e) => e.event.event_type === "decision");
      return hit === undefined ? null : (hit.event as unknown as AuditedEvent);
    },
    stateCapture: (auditId) => {
      const hits = index.byOriginalAuditId(auditId, "state_capture");
      const last = hits.at(-1);
      return last === undefined ? null : (last.event as unknown as AuditedEvent);
    },
    close: () => index.close(),
  };
}
