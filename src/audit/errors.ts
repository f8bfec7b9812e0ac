/**
 * Typed audit errors. Every failure of the audit log is one `AuditError` with a stable `code`, so
 * callers (the decision pipeline, the CLI) can fail closed and explain why. Messages never carry
 * event contents: they name the file, the line and the sequence number, not parameter values.
 */

export type AuditErrorCode =
  /** Another process (or another writer in this one) holds the log's lock. */
  | "LOCKED"
  /** The last line of the log has no newline: a crash cut it. `audit verify --repair` fixes it. */
  | "TORN_TAIL"
  /** The tail of the log cannot be trusted (not JSON, hash does not verify, unknown format). */
  | "CORRUPT_TAIL"
  /** A 0.9.0 log: verified, never appended to. */
  | "V1_LOG"
  /** The log belongs to another chain (`chain_id`). */
  | "CHAIN_MISMATCH"
  /** The log, its directory or a side file cannot be created or opened. */
  | "UNWRITABLE"
  /** A write or fsync failed (disk full, I/O error): the event was not recorded. */
  | "WRITE_FAILED"
  /** The writer failed earlier and can no longer guarantee a consistent log; reopen it. */
  | "WRITER_FAILED"
  /** The writer was closed. */
  | "CLOSED"
  /** The event given to `append()` is not valid (nothing was written, no seq was used). */
  | "INVALID_EVENT"
  /** The log (or a segment) does not exist. */
  | "NOT_FOUND"
  /** A configuration problem (shipper settings, keys). */
  | "CONFIG";

export class AuditError extends Error {
  override name = "AuditError";
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `Audit log <path> is locked by pid N`: a second writer never forks the chain. */
export class AuditLockedError extends AuditError {
  override name = "AuditLockedError";
  constructor(
    readonly path: string,
    readonly pid: number | null,
  ) {
    super("LOCKED", `Audit log ${path} is locked by pid ${pid ?? "unknown"}`);
  }
}

/** A write, fsync or truncate failed. `errno` is the system error code (`ENOSPC`, `EIO`, …). */
export class AuditWriteError extends AuditError {
  override name = "AuditWriteError";
  constructor(
    code: "WRITE_FAILED" | "WRITER_FAILED" | "UNWRITABLE",
    message: string,
    readonly errno: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The system error code of a Node error (`ENOSPC`), if any. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** `ENOSPC: no space left on device` without the path and syscall noise. */
export function describeSystemError(err: unknown): string {
  const code = errnoOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(message);
  if (code !== undefined && m !== null) return `${code}: ${m[1]}`;
  return message;
}
