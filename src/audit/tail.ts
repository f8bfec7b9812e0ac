/**
 * Reading the ends of a segment without reading all of it: the writer recovers its position from
 * the last line (start-up cost does not grow with the log), rotation by age reads the first.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { AuditError } from "./errors.js";
import { emptyFields, hashWithout, isHash, type LineFields, scanLine } from "./line.js";

const WINDOW = 64 * 1024;

export interface TailInfo {
  /** File size in bytes. */
  size: number;
  /** Bytes after the last newline (a crash cut the last line), or null. */
  torn: { offset: number; bytes: number } | null;
  /** The last complete line (without `\n`), or null for an empty file. */
  lastLine: Buffer | null;
  /** Offset of the last complete line. */
  lastLineOffset: number;
}

/** Reads the end of the file open at `fd` (size from fstat; a device reads as empty). */
export function readTail(fd: number): TailInfo {
  const st = fstatSync(fd);
  const size = st.isFile() ? st.size : 0;
  if (size === 0) return { size, torn: null, lastLine: null, lastLineOffset: 0 };
  let window = Math.min(size, WINDOW);
  for (;;) {
    const start = size - window;
    const buf = Buffer.alloc(window);
    readFully(fd, buf, start);
    const endsWithNewline = buf[window - 1] === 10;
    // The end of the last complete line (index of its '\n' in buf), or -1.
    const lastNl = endsWithNewline ? window - 1 : buf.lastIndexOf(10);
    if (lastNl === -1 && start > 0) {
      window = Math.min(size, window * 2);
      continue;
    }
    const torn = endsWithNewline ? null : { offset: start + lastNl + 1, bytes: size - (start + lastNl + 1) };
    if (lastNl === -1) return { size, torn, lastLine: null, lastLineOffset: 0 };
    const prevNl = lastNl === 0 ? -1 : buf.lastIndexOf(10, lastNl - 1);
    if (prevNl === -1 && start > 0) {
      window = Math.min(size, window * 2);
      continue;
    }
    return {
      size,
      torn,
      lastLine: buf.subarray(prevNl + 1, lastNl),
      lastLineOffset: start + prevNl + 1,
    };
  }
}

/** The first line of the file at `path` (without `\n`), or null when it has no complete line. */
export function readFirstLine(path: string): Buffer | null {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    let window = Math.min(size, WINDOW);
    for (;;) {
      const buf = Buffer.alloc(window);
      readFully(fd, buf, 0);
      const nl = buf.indexOf(10);
      if (nl !== -1) return buf.subarray(0, nl);
      if (window >= size) return null;
      window = Math.min(size, window * 2);
    }
  } finally {
    closeSync(fd);
  }
}

export function readFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new AuditError("CORRUPT_TAIL", "the log shrank while it was being read");
    done += n;
  }
}

/** Where a chain stands after a line: what the next event must carry. */
export interface ChainHead {
  seq: number;
  entryHash: string;
  chainId: string;
  eventType: string | null;
}

/**
 * Checks a v2 line well enough to append after it: its structure, its format version and its
 * own hash. `where` names the line in messages.
 */
export function headFromLine(line: Buffer, where: string): ChainHead {
  const f: LineFields = emptyFields();
  const problem = scanLine(line, 0, line.length, f);
  if (problem === null && f.v === null && f.entryHash !== null) {
    throw new AuditError(
      "V1_LOG",
      `${where} is a 0.9.0 (v1) log: it can be verified but is never appended to; ` +
        "point audit.path at a new file and keep this one as an archive",
    );
  }
  if (problem !== null || f.v !== 2) {
    throw new AuditError(
      "CORRUPT_TAIL",
      `${where}: the last line is not a v2 audit event (${problem ?? `v is ${f.v}`}); run: agent-safe audit verify`,
    );
  }
  if (f.seq === null || !isHash(f.entryHash) || f.chainId === null || f.memberEnd < 0) {
    throw new AuditError("CORRUPT_TAIL", `${where}: the last line lacks seq, chain_id or entry_hash`);
  }
  if (hashWithout(line, 0, line.length, f.memberStart, f.memberEnd) !== f.entryHash) {
    throw new AuditError(
      "CORRUPT_TAIL",
      `${where}: the last line (seq ${f.seq}) does not match its entry_hash; run: agent-safe audit verify`,
    );
  }
  return { seq: f.seq, entryHash: f.entryHash, chainId: f.chainId, eventType: f.eventType };
}
