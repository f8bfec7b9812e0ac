/**
 * Reading logs line by line, forwards (bounded chunks, sync or async) and backwards (for
 * `audit show --last N`, which reads only as much of the end as it needs).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { parseJsonPy } from "../codec/json-parse.js";
import { AuditError } from "./errors.js";
import { emptyFields, scanLine } from "./line.js";
import { readFirstLine } from "./tail.js";

export interface RawLine {
  /** The chunk holding the line; the line is `buf[start, end)` (no `\n`). Valid until the next line. */
  buf: Buffer;
  start: number;
  end: number;
  /** File offset of the line's first byte. */
  offset: number;
  /** 1-based physical line number (only when reading from the start of the file). */
  lineNo: number;
  /** The last bytes of the file had no newline. */
  torn: boolean;
}

export interface ReadOptions {
  start?: number;
  end?: number;
  chunkSize?: number;
  firstLineNo?: number;
}

/** Forward, synchronous: for the CLI and verification workers. */
export function* readLinesSync(path: string, opts: ReadOptions = {}): Generator<RawLine> {
  const fd = openSync(path, "r");
  try {
    const end = opts.end ?? fstatSync(fd).size;
    yield* linesOf((buf, pos, len) => readSync(fd, buf, 0, len, pos), opts.start ?? 0, end, opts);
  } finally {
    closeSync(fd);
  }
}

function* linesOf(
  read: (buf: Buffer, pos: number, len: number) => number,
  start: number,
  end: number,
  opts: ReadOptions,
): Generator<RawLine> {
  const chunkSize = opts.chunkSize ?? 4 * 1024 * 1024;
  let buf = Buffer.alloc(Math.min(chunkSize, Math.max(end - start, 1)));
  let carry = 0; // bytes of an unfinished line at the front of buf
  let pos = start; // file offset of buf[carry]
  let lineNo = opts.firstLineNo ?? 1;
  while (pos < end) {
    if (carry === buf.length) {
      const bigger = Buffer.alloc(buf.length * 2);
      buf.copy(bigger, 0, 0, carry);
      buf = bigger;
    }
    const want = Math.min(buf.length - carry, end - pos);
    const got = read(buf.subarray(carry), pos, want);
    if (got <= 0) break;
    pos += got;
    const filled = carry + got;
    const base = pos - filled; // file offset of buf[0]
    let s = 0;
    for (;;) {
      const nl = buf.indexOf(10, s);
      if (nl === -1 || nl >= filled) break;
      yield { buf, start: s, end: nl, offset: base + s, lineNo: lineNo++, torn: false };
      s = nl + 1;
    }
    buf.copy(buf, 0, s, filled);
    carry = filled - s;
  }
  if (carry > 0) yield { buf, start: 0, end: carry, offset: end - carry, lineNo, torn: true };
}

/** Forward, asynchronous, yielding to the event loop between chunks (for the live shipper). */
export async function* readLinesAsync(path: string, opts: ReadOptions = {}): AsyncGenerator<RawLine> {
  const fh = await open(path, "r");
  try {
    const end = opts.end ?? (await fh.stat()).size;
    const chunk = opts.chunkSize ?? 256 * 1024;
    let pos = opts.start ?? 0;
    let lineNo = opts.firstLineNo ?? 1;
    let carry = Buffer.alloc(0);
    while (pos < end) {
      const buf = Buffer.alloc(Math.min(chunk, end - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead <= 0) break;
      const data =
        carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      const base = pos - carry.length;
      pos += bytesRead;
      let s = 0;
      for (;;) {
        const nl = data.indexOf(10, s);
        if (nl === -1) break;
        yield { buf: data, start: s, end: nl, offset: base + s, lineNo: lineNo++, torn: false };
        s = nl + 1;
      }
      carry = Buffer.from(data.subarray(s));
    }
    if (carry.length > 0)
      yield { buf: carry, start: 0, end: carry.length, offset: end - carry.length, lineNo, torn: true };
  } finally {
    await fh.close();
  }
}

/**
 * Lines from the end of a file towards its start, newest first (text without `\n`). The first
 * line yielded is `torn` when the file does not end with a newline.
 */
export function* readLinesBackward(
  path: string,
  chunkSize = 64 * 1024,
): Generator<{ text: string; offset: number; torn: boolean }> {
  const fd = openSync(path, "r");
  try {
    let pos = fstatSync(fd).size;
    if (pos === 0) return;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, pos - 1);
    let torn = last[0] !== 10;
    if (!torn) pos--; // the final newline ends the last line; it does not start an empty one
    let carry = Buffer.alloc(0); // the end part of a line whose start is further back
    while (pos > 0) {
      const len = Math.min(chunkSize, pos);
      pos -= len;
      const chunk = Buffer.alloc(len);
      readSync(fd, chunk, 0, len, pos);
      const data = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
      let e = data.length;
      for (;;) {
        const nl = e > 0 ? data.lastIndexOf(10, e - 1) : -1;
        if (nl === -1) break;
        yield { text: data.toString("utf8", nl + 1, e), offset: pos + nl + 1, torn };
        torn = false;
        e = nl;
      }
      carry = Buffer.from(data.subarray(0, e));
    }
    if (carry.length > 0) yield { text: carry.toString("utf8"), offset: 0, torn };
  } finally {
    closeSync(fd);
  }
}

/** The event on one line: `JSON.parse`, or the lexeme-aware parser for 0.9.0 lines. */
export function parseEvent(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = parseJsonPy(text); // throws Python's message
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AuditError("CORRUPT_TAIL", "not a JSON object");
  }
  return value as Record<string, unknown>;
}

/** The `seq` of a segment's first event (null when empty or not v2). */
export function firstSeqOf(path: string): number | null {
  const line = readFirstLine(path);
  if (line === null) return null;
  const f = emptyFields();
  return scanLine(line, 0, line.length, f) === null ? f.seq : null;
}
