/**
 * Repair of a torn tail: the bytes after the last newline (a line a crash cut short) are removed
 * and a `repair` event records exactly what was removed (offset, length, sha256, the bytes in
 * base64 up to 64 KiB). Only the writer does this, holding the log's lock
 * (`AuditWriter.open({ repair: true })`); `repairLog` is the one-call form `audit verify --repair`
 * uses. Nothing else is ever rewritten: a log with a broken middle stays as it is, for forensics.
 */
import { createHash } from "node:crypto";
import { fsyncSync, ftruncateSync } from "node:fs";
import { AuditError } from "./errors.js";
import type { ChainHead } from "./tail.js";
import { readFully } from "./tail.js";
import type { AuditInput } from "./types.js";

export interface RepairInfo {
  segment: string;
  /** Where the cut started (the file's new size). */
  offset: number;
  bytes: number;
  sha256: string;
  /** The removed bytes, base64, when at most 64 KiB. */
  base64: string | null;
}

const KEEP_CUT_BYTES = 64 * 1024;

/** Truncates the file at `fd` to `torn.offset`, returning what was removed. */
export function cutTornTail(
  fd: number,
  segment: string,
  torn: { offset: number; bytes: number },
): RepairInfo {
  const cut = Buffer.alloc(torn.bytes);
  readFully(fd, cut, torn.offset);
  try {
    ftruncateSync(fd, torn.offset);
    fsyncSync(fd);
  } catch (err) {
    throw new AuditError("UNWRITABLE", `Cannot truncate ${segment} to repair it`, { cause: err });
  }
  return {
    segment,
    offset: torn.offset,
    bytes: torn.bytes,
    sha256: createHash("sha256").update(cut).digest("hex"),
    base64: cut.length <= KEEP_CUT_BYTES ? cut.toString("base64") : null,
  };
}

export function repairEvent(info: RepairInfo, head: ChainHead | null): AuditInput {
  return {
    event_type: "repair",
    action: "audit-repair",
    target: info.segment,
    caller: "agent-safe",
    reason: `Repaired a torn last line: removed ${info.bytes} byte(s) at offset ${info.offset}`,
    context: {
      type: "repair",
      cause: "torn last line (a crash during a write)",
      segment: info.segment,
      offset: info.offset,
      bytes: info.bytes,
      sha256: info.sha256,
      removed_base64: info.base64,
      after_seq: head?.seq ?? 0,
    },
  };
}
