/** Options of `AuditWriter.open()` (see docs/audit.md). */
import type { SigningKey } from "../keys/keystore.js";
import type { Redactor } from "./redact.js";
import type { ShipperRunOptions, ShipTarget } from "./shippers/types.js";

export type FsyncMode = "always" | "batch" | "never";

export interface AuditWriterOptions {
  /** The log (the active segment). Its directory must exist. */
  path: string;
  /** Default `batch`. */
  fsync?: FsyncMode;
  /** Default `main`. Each replica writes its own log with its own chain id. */
  chainId?: string;
  /** Default: unkeyed (`[REDACTED]`). Use `Redactor.fromFile(...)` for correlatable digests. */
  redactor?: Redactor;
  /** The `audit-checkpoint` key. Without it: no checkpoints, and verify reports "unsigned". */
  signingKey?: SigningKey | null;
  /** Checkpoint after this many events (default 1000; 0: never by count). */
  checkpointEveryEvents?: number;
  /** Checkpoint at least this often while events arrive (default 60 s; 0: never by time). */
  checkpointEverySeconds?: number;
  /** Default `<log>.checkpoints.jsonl`; `null` for none. */
  checkpointsFile?: string | null;
  /** Rotate before a write would take the segment past this size (bytes). */
  rotateMaxBytes?: number | null;
  /** Rotate once the segment's first event is this old. */
  rotateMaxAgeSeconds?: number | null;
  /** Destinations fed after each durable write, off the append path. */
  shippers?: readonly ShipTarget[];
  shipperOptions?: ShipperRunOptions;
  /** Non-fatal problems (a shipper retrying, a side file unwritable). Default: process warnings. */
  onWarning?: (message: string) => void;
  /**
   * Cut a torn last line instead of refusing to open, and record what was cut in a `repair`
   * event (what `audit verify --repair` does).
   */
  repair?: boolean;
  /**
   * Test hook (crash tests): when the event with this seq is written, write half of its line,
   * then SIGKILL the process. Also read from `AGENT_SAFE_TEST_AUDIT_TORN_WRITE_AT`.
   */
  tornWriteAtSeq?: number;
}
