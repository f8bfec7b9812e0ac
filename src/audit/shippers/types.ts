/** What a shipper destination implements, and what the runner needs from the log it ships. */
import type { AuditInput, AuditRecord } from "../types.js";

export interface ShipItem {
  /** The event as written. */
  record: AuditRecord;
  /** The exact line of the log (canonical JSON plus `\n`), so a receiver can re-check its hash. */
  line: string;
}

/** One destination: filesystem, webhook, S3, or your own. */
export interface ShipTarget {
  readonly kind: string;
  /**
   * A stable name for the destination, used for its cursor file (`<log>.cursors/<id>.json`), e.g.
   * `webhook-<sha256(url)[:12]>`. Two runs shipping to the same place share a cursor.
   */
  readonly id: string;
  /** A description safe to print (no credentials, no query string). */
  readonly describe: string;
  /**
   * Delivers one event. Throws to ask for a retry (with backoff). Must be idempotent by event id:
   * delivery is at least once, so the same event may be sent again after a crash.
   */
  send(item: ShipItem): Promise<void>;
  close?(): Promise<void>;
  /** Queue and retry settings for this destination (over the writer's `shipperOptions`). */
  readonly runOptions?: ShipperRunOptions;
}

/** Retry and queue settings of a live shipper (`audit.shippers[]` in agent-safe.yaml). */
export interface ShipperRunOptions {
  /** Events held in memory; beyond this the shipper catches up from the log. Default 10,000. */
  queueSize?: number;
  /** First retry delay; doubles each attempt up to `retryMaxMs`. Defaults 100 ms and 5 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How often the cursor file is rewritten while shipping. Default 200 ms. */
  cursorFlushMs?: number;
  /** How long `close()` waits for the queue to drain. Default 5 s. */
  drainTimeoutMs?: number;
}

/** What the live shipper needs from its writer. */
export interface ShipperHost {
  /** The log's segment set, oldest first (to catch up from the log). */
  segments(): string[];
  /** The last seq that is written (and, with fsync, durable). */
  durableSeq(): number;
  /** Records a `gap` event in the log. */
  appendEvent(input: AuditInput): Promise<unknown>;
  warn(message: string): void;
}
