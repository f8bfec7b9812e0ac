/**
 * `audit ship`: replays a log to one destination from that destination's cursor, in order, each
 * event retried a few times before giving up. The cursor advances after each delivered event (and
 * is saved on every exit path), so a re-run after an interruption resumes after the last delivered
 * event: no duplicates from a failed or interrupted run, and at most the one in-flight event again
 * after a hard kill (receivers drop it by event id). The cursor must still describe the log: when
 * the event after it does not chain to the cursor's hash, the log was replaced or rewritten and
 * nothing is shipped.
 */
import { resolve } from "node:path";
import { AuditError, describeSystemError } from "../errors.js";
import { cursorsDir, expandLogPaths } from "../segments.js";
import { Cursor } from "./cursor.js";
import { eventsBetween } from "./from-log.js";
import type { ShipItem, ShipTarget } from "./types.js";

export interface ShipLogOptions {
  /** The log (its whole segment set is shipped). */
  path: string;
  target: ShipTarget;
  /** Default `<log>.cursors`. */
  cursorDir?: string;
  /** Attempts per event before giving up (default 5), backoff from `retryBaseMs` (default 200). */
  attempts?: number;
  retryBaseMs?: number;
  /** Stop after the current event (SIGINT). */
  signal?: AbortSignal;
  onRetry?: (item: ShipItem, message: string) => void;
}

export interface ShipLogResult {
  shipped: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The cursor after the run. */
  cursor: number;
  failed: { seq: number; eventId: string; message: string } | null;
  interrupted: boolean;
}

export async function shipLog(options: ShipLogOptions): Promise<ShipLogResult> {
  const base = resolve(options.path);
  const segments = expandLogPaths([base]);
  const cursor = await Cursor.open(options.cursorDir ?? cursorsDir(base), options.target.id);
  const result: ShipLogResult = {
    shipped: 0,
    firstSeq: null,
    lastSeq: null,
    cursor: cursor.seq,
    failed: null,
    interrupted: false,
  };
  const attempts = Math.max(1, options.attempts ?? 5);
  const baseMs = options.retryBaseMs ?? 200;
  let lastSave = Date.now();
  try {
    let first = true;
    for await (const item of eventsBetween(segments, cursor.seq + 1)) {
      if (options.signal?.aborted) {
        result.interrupted = true;
        break;
      }
      if (first) {
        first = false;
        const expected = cursor.value.entry_hash;
        if (cursor.seq > 0 && expected !== null && item.record.prev_hash !== expected) {
          throw new AuditError(
            "CONFIG",
            `The log does not continue from the shipper cursor ${cursor.path} (seq ${cursor.seq}): ` +
              "it was replaced or rewritten; nothing shipped (run audit verify)",
          );
        }
      }
      let error: unknown = null;
      for (let attempt = 0; attempt < attempts; attempt++) {
        try {
          await options.target.send(item);
          error = null;
          break;
        } catch (err) {
          error = err;
          if (attempt + 1 < attempts) {
            options.onRetry?.(item, describeSystemError(err));
            await new Promise((r) => setTimeout(r, Math.min(5000, baseMs * 2 ** attempt)));
          }
        }
      }
      if (error !== null) {
        result.failed = {
          seq: item.record.seq,
          eventId: item.record.event_id,
          message: describeSystemError(error),
        };
        break;
      }
      const r = item.record;
      cursor.advance({
        seq: r.seq,
        event_id: r.event_id,
        entry_hash: r.entry_hash,
        chain_id: r.chain_id ?? null,
      });
      result.shipped++;
      result.firstSeq ??= r.seq;
      result.lastSeq = r.seq;
      if (Date.now() - lastSave >= 200) {
        cursor.save(false);
        lastSave = Date.now();
      }
    }
  } finally {
    result.cursor = cursor.seq;
    cursor.close();
    await options.target.close?.().catch(() => undefined);
  }
  return result;
}
