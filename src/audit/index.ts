/**
 * The audit log (docs/audit.md): durable, single-writer, hash-chained, signed, shipped.
 *
 * Writing (one writer per log; a second gets `AuditLockedError`):
 * ```ts
 * const writer = await AuditWriter.open(auditSettingsFromProject(project)); // or { path, fsync, ... }
 * const record = await writer.append(decisionEvent(decision, { params, actionDef }));
 * //   resolves after the line is written and (fsync: batch|always) fsynced; rejects with an
 * //   AuditError (WRITE_FAILED, WRITER_FAILED, INVALID_EVENT, CLOSED) otherwise: fail closed on it.
 * await writer.checkpoint(); // a signed checkpoint now (also automatic: every N events / T s / close)
 * await writer.close();      // final checkpoint, fsync, shippers drain, lock released
 * ```
 * `append(input)` takes the event fields minus `v`, `seq`, `chain_id`, `prev_hash`,
 * `entry_hash` (and `event_id`/`timestamp`, generated when absent), plus what to redact:
 * `sensitiveParams`, `actionDef` (its `sensitive: true` params), `secretOutput`, `redactPaths`.
 *
 * Reading: `verifyLog(paths, { checkpoints, publicKeys })` → `VerifyReport`;
 * `repairLog(options)` cuts a torn tail and records a `repair` event; `AuditIndex.open(log)` for
 * lookups by event id or `original_audit_id`; `readLinesBackward`/`eventsBetween` to stream.
 *
 * Shipping: `FilesystemShipper`, `WebhookShipper`, `S3Shipper` (or any `ShipTarget`) in
 * `AuditWriterOptions.shippers` run live beside the writer; `shipLog()` replays a log from a
 * destination's cursor (`audit ship`).
 */
export {
  appendCheckpointFile,
  readCheckpointFile,
  readPublicKeys,
  signCheckpoint,
  verifyCheckpointSignature,
} from "./checkpoint.js";
export { AuditError, type AuditErrorCode, AuditLockedError, AuditWriteError } from "./errors.js";
export { formatTimestamp, newEventId } from "./event.js";
export { AuditIndex, type IndexedEvent } from "./index-db.js";
export { type DecisionEventOptions, decisionEvent, repairLog } from "./ops.js";
export { parseEvent, readLinesBackward } from "./reader.js";
export { REDACTED_PREFIX, REDACTED_UNKEYED, Redactor } from "./redact.js";
export type { RepairInfo } from "./repair.js";
export { checkpointsPath, expandLogPaths, listSegments, lockPath, segmentPath } from "./segments.js";
export {
  auditLogPath,
  auditSettingsFromProject,
  projectAuditPublicKeys,
  projectRedactor,
} from "./settings.js";
export { FilesystemShipper, type FilesystemShipperOptions } from "./shippers/filesystem.js";
export { eventsBetween } from "./shippers/from-log.js";
export { S3Shipper, type S3ShipperOptions } from "./shippers/s3.js";
export { type ShipLogOptions, type ShipLogResult, shipLog } from "./shippers/ship-log.js";
export type { ShipItem, ShipperRunOptions, ShipTarget } from "./shippers/types.js";
export { SIGNATURE_HEADER, WebhookShipper, type WebhookShipperOptions } from "./shippers/webhook.js";
export {
  type AuditEvent,
  type AuditInput,
  type AuditRecord,
  type Checkpoint,
  type CheckpointPayload,
  DEFAULT_CHAIN_ID,
  EVENT_TYPES,
  GENESIS_HASH,
} from "./types.js";
export {
  formatIssue,
  type SigningStatus,
  type VerifyIssue,
  type VerifyOptions,
  type VerifyReport,
  verifyLog,
} from "./verify.js";
export { AuditWriter, type AuditWriterOptions, type FsyncMode } from "./writer.js";
