/**
 * Verifies a byte range of one v2 segment: every line's structure, format version, hash, and the
 * chain and seq links between consecutive lines. What lies at the range's edges (the link to the
 * previous range, checkpoint signatures) is left to the caller, which stitches ranges together.
 * Pure apart from reading the file, so it runs the same in the main thread and in workers.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { bytesAre, emptyPositions, hashInPlace, scanPositions, text } from "./line.js";

export interface RangeTask {
  path: string;
  start: number;
  end: number;
  /** Seqs whose entry hashes the caller needs (external checkpoints). */
  lookups: readonly number[];
  maxIssues: number;
}

export interface RangeIssue {
  /** 1-based line within the range. */
  line: number;
  seq: number | null;
  code: string;
  message: string;
}

export interface RangeResult {
  path: string;
  start: number;
  /** Physical lines in the range (torn bytes excluded). */
  lines: number;
  events: number;
  head: { line: number; seq: number; prevHash: string; chainId: string | null } | null;
  tail: { line: number; seq: number; entryHash: string } | null;
  chainId: string | null;
  issues: RangeIssue[];
  /** Checkpoint event lines, verbatim, for signature checks. */
  checkpoints: { line: number; text: string }[];
  found: { seq: number; line: number; entryHash: string }[];
  torn: { offset: number; bytes: number; line: number } | null;
  /** Lines that look like 0.9.0 events (no `v`). */
  v1Lines: number;
}

export const short = (h: string | null): string => `${(h ?? "").slice(0, 16)}...`;

export function verifyRange(task: RangeTask): RangeResult {
  const res: RangeResult = {
    path: task.path,
    start: task.start,
    lines: 0,
    events: 0,
    head: null,
    tail: null,
    chainId: null,
    issues: [],
    checkpoints: [],
    found: [],
    torn: null,
    v1Lines: 0,
  };
  const wanted = task.lookups.length > 0 ? new Set(task.lookups) : null;
  const p = emptyPositions();
  let expectSeq: number | null = null;
  // The previous line's stored entry_hash, as bytes: compared without creating strings.
  const expect = Buffer.alloc(256);
  let expectLen = -1;
  let tailLine = 0;
  let tailSeq = 0;
  const issue = (line: number, seq: number | null, code: string, message: string) => {
    if (res.issues.length < task.maxIssues) res.issues.push({ line, seq, code, message });
  };
  forEachLine(task, (buf, start, end, offset, torn) => {
    if (torn) {
      res.torn = { offset, bytes: end - start, line: res.lines + 1 };
      return;
    }
    const l = { start, end };
    const n = ++res.lines;
    if (l.end === l.start) {
      issue(n, null, "blank_line", "blank line (the writer never writes one)");
      return;
    }
    const problem = scanPositions(buf, l.start, l.end, p);
    if (problem !== null) {
      issue(n, null, "invalid_line", `invalid event line: ${problem}`);
      return;
    }
    if (p.v !== 2) {
      if (p.v === null && p.entryStart !== -1) res.v1Lines++;
      const why = p.v === null ? 'not a v2 event (no "v": a 0.9.0 line?)' : "unknown format version";
      issue(n, p.seq, "not_v2", why);
      return;
    }
    if (p.seq === null || p.prevStart < 0 || p.chainStart < 0) {
      issue(n, p.seq, "missing_field", "missing seq, prev_hash or chain_id");
      return;
    }
    res.events++;
    const seq = p.seq;
    if (res.chainId === null) res.chainId = text(buf, p.chainStart, p.chainEnd);
    else if (!bytesAre(buf, p.chainStart, p.chainEnd, res.chainId)) {
      issue(
        n,
        seq,
        "chain_id",
        `chain_id changed from '${res.chainId}' to '${text(buf, p.chainStart, p.chainEnd)}'`,
      );
    }
    if (res.head === null) {
      res.head = { line: n, seq, prevHash: text(buf, p.prevStart, p.prevEnd)!, chainId: res.chainId };
    }
    if (expectSeq !== null && seq !== expectSeq) {
      issue(n, seq, "seq", `seq out of order — expected ${expectSeq}, got ${seq}`);
    }
    if (expectLen >= 0 && !sameBytes(buf, p.prevStart, p.prevEnd, expect, expectLen)) {
      const want = expect.latin1Slice(0, expectLen);
      issue(
        n,
        seq,
        "chain",
        `chain broken — expected prev_hash ${short(want)}, got ${short(text(buf, p.prevStart, p.prevEnd))}`,
      );
    }
    if (p.typeStart >= 0 && bytesAre(buf, p.typeStart, p.typeEnd, "checkpoint")) {
      res.checkpoints.push({ line: n, text: buf.toString("utf8", l.start, l.end) });
    }
    // The next line must chain to the stored hash, even when this line's hash was wrong.
    expectLen = p.entryStart < 0 ? 0 : Math.min(expect.length, p.entryEnd - p.entryStart);
    if (expectLen > 0) buf.copy(expect, 0, p.entryStart, p.entryStart + expectLen);
    if (p.entryStart < 0 || p.memberEnd < 0 || expectLen !== 64) {
      issue(n, seq, "hash", "entry_hash missing or malformed");
    } else {
      // Last use of this line: hash it in place (the prefix slides over the entry_hash member).
      const computed = hashInPlace(buf, l.start, l.end, p.memberStart, p.memberEnd);
      if (!bytesAre(expect, 0, 64, computed)) {
        issue(
          n,
          seq,
          "hash",
          `hash mismatch — stored ${short(expect.latin1Slice(0, 64))}, computed ${short(computed)}`,
        );
      }
    }
    expectSeq = seq + 1;
    tailLine = n;
    tailSeq = seq;
    if (wanted?.has(seq)) res.found.push({ seq, line: n, entryHash: expect.latin1Slice(0, expectLen) });
  });
  if (expectLen >= 0)
    res.tail = { line: tailLine, seq: tailSeq, entryHash: expect.latin1Slice(0, expectLen) };
  return res;
}

function sameBytes(buf: Uint8Array, s: number, e: number, other: Uint8Array, len: number): boolean {
  if (e - s !== len) return false;
  for (let i = 0; i < len; i++) if (buf[s + i] !== other[i]) return false;
  return true;
}

/**
 * Calls `each` for every line of the task's byte range (no per-line allocation: the line is
 * `buf[start, end)` of a reused chunk buffer). A last line without a newline comes with `torn`.
 */
function forEachLine(
  task: RangeTask,
  each: (buf: Buffer, start: number, end: number, offset: number, torn: boolean) => void,
): void {
  const fd = openSync(task.path, "r");
  try {
    let buf = Buffer.allocUnsafe(Math.max(1, Math.min(8 * 1024 * 1024, task.end - task.start)));
    let carry = 0;
    let pos = task.start;
    while (pos < task.end) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const got = readSync(fd, buf, carry, Math.min(buf.length - carry, task.end - pos), pos);
      if (got <= 0) break;
      pos += got;
      const filled = carry + got;
      const base = pos - filled;
      let s = 0;
      for (;;) {
        const nl = buf.indexOf(10, s);
        if (nl === -1 || nl >= filled) break;
        each(buf, s, nl, base + s, false);
        s = nl + 1;
      }
      buf.copy(buf, 0, s, filled);
      carry = filled - s;
    }
    if (carry > 0) each(buf, 0, carry, task.end - carry, true);
  } finally {
    closeSync(fd);
  }
}
