/**
 * Batch lines in, decision lines out (DESIGN.md §9). Shared by the main thread and the workers.
 * A line that cannot be judged becomes a DENY with the reason, never a silent skip.
 */
import * as bufferModule from "node:buffer";
import { parseJson } from "../../codec/json-fast.js";
import { decide } from "../../core/decide.js";
import { type EvalTime, parseTimestamp, TimestampError } from "../../core/time.js";
import type { World } from "../../core/world.js";
import { type CheckRequest, InvalidRequestError, toDecisionRequest } from "../../pdp/request.js";
import { DecisionWriter } from "./output.js";

interface RawRequest {
  id?: unknown;
  action?: unknown;
  target?: unknown;
  caller?: unknown;
  params?: unknown;
  timestamp?: unknown;
  ticket_id?: unknown;
}

export interface LineContext {
  world: World;
  /** The evaluation time for requests without a timestamp. */
  defaultTime: EvalTime;
  /** `--at`: overrides every request's timestamp. */
  forcedTime: EvalTime | null;
}

function timeOf(raw: RawRequest, ctx: Omit<LineContext, "world">): EvalTime {
  if (ctx.forcedTime !== null) return ctx.forcedTime;
  const stamp = raw.timestamp;
  if (stamp === undefined || stamp === null) return ctx.defaultTime;
  if (typeof stamp !== "string") throw new InvalidRequestError("timestamp must be an ISO-8601 string");
  return parseTimestamp(stamp);
}

/** A request line, read: the request and its evaluation time, or why it cannot be judged. */
export type ParsedLine =
  | { id: unknown; request: CheckRequest; time: EvalTime }
  | { id: unknown; invalid: string };

export function parseLine(line: string, lineNo: number, ctx: Omit<LineContext, "world">): ParsedLine {
  let raw: RawRequest;
  try {
    // Python's json.loads semantics: 5.0 stays a float, as 0.9.0 saw it.
    raw = parseJson(line) as RawRequest;
  } catch (err) {
    return { id: null, invalid: `line ${lineNo} is not valid JSON: ${(err as Error).message}` };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { id: null, invalid: `line ${lineNo} is not a JSON object` };
  }
  const id = raw.id ?? null;
  let time: EvalTime;
  try {
    time = timeOf(raw, ctx);
  } catch (err) {
    if (!(err instanceof InvalidRequestError || err instanceof TimestampError)) throw err;
    return { id, invalid: err.message };
  }
  const request: CheckRequest = {
    action: raw.action as string,
    target: raw.target as string | null,
    caller: raw.caller as never,
    params: raw.params as never,
    ticketId: raw.ticket_id as string | null,
  };
  return { id, request, time };
}

function decideLine(line: string, lineNo: number, ctx: LineContext, out: DecisionWriter): void {
  const parsed = parseLine(line, lineNo, ctx);
  if ("invalid" in parsed) {
    invalidLine(out, parsed.id, parsed.invalid);
    return;
  }
  try {
    out.write(parsed.id, decide(toDecisionRequest(parsed.request), ctx.world, parsed.time));
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    invalidLine(out, parsed.id, err.message);
  }
}

export function invalidLine(out: DecisionWriter, id: unknown, why: string): void {
  out.writeFields(id, {
    result: "deny",
    policy_matched: null,
    risk_class: "critical",
    effective_risk: "critical",
    reason: `Invalid request: ${why}`,
    code: "invalid_request",
  });
}

const writers = new WeakMap<LineContext, DecisionWriter>();

/** One writer per context, so its caches live as long as the batch. */
function writerFor(ctx: LineContext): DecisionWriter {
  let writer = writers.get(ctx);
  if (writer === undefined) {
    writer = new DecisionWriter();
    writers.set(ctx, writer);
  }
  return writer;
}

const decoder = new TextDecoder();
const HIGH_BYTE = /[\x80-\xff]/;
/** `buffer.isAscii` (Node 20.11+), else "unknown" (every line is then checked on its own). */
const isAscii: (bytes: Uint8Array) => boolean =
  typeof (bufferModule as { isAscii?: unknown }).isAscii === "function"
    ? (bufferModule as unknown as { isAscii: (b: Uint8Array) => boolean }).isAscii
    : () => false;

/**
 * Calls `fn` with every non-blank line of a run of UTF-8 pieces, and its 1-based line number.
 * Lines are read as Latin-1 (a plain byte copy); only a line holding non-ASCII bytes is decoded
 * as UTF-8 again. Only a line that straddles two pieces is copied to join it.
 */
export function forEachLine(
  parts: readonly Uint8Array[],
  firstLineNo: number,
  fn: (line: string, lineNo: number) => void,
): number {
  let lineNo = firstLineNo;
  let lines = 0;
  // Whether the piece being read is all ASCII (one native check a piece, not a regex a line).
  let ascii = false;
  const visit = (bytes: Buffer, start: number, end: number) => {
    const latin1 = bytes.latin1Slice(start, end);
    if (!isBlank(latin1)) {
      fn(!ascii && HIGH_BYTE.test(latin1) ? decoder.decode(bytes.subarray(start, end)) : latin1, lineNo);
      lines++;
    }
    lineNo++;
  };
  let carry: Buffer | null = null;
  for (const part of parts) {
    const bytes = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    let start = 0;
    ascii = false;
    if (carry !== null) {
      const newline = bytes.indexOf(NEWLINE);
      carry = Buffer.concat([carry, bytes.subarray(0, newline === -1 ? bytes.length : newline)]);
      if (newline === -1) continue;
      visit(carry, 0, carry.length);
      carry = null;
      start = newline + 1;
    }
    ascii = isAscii(bytes);
    for (
      let newline = bytes.indexOf(NEWLINE, start);
      newline !== -1;
      newline = bytes.indexOf(NEWLINE, start)
    ) {
      visit(bytes, start, newline);
      start = newline + 1;
    }
    if (start < bytes.length) carry = bytes.subarray(start);
  }
  ascii = false;
  if (carry !== null) visit(carry, 0, carry.length);
  return lines;
}

/** Decides every line of a run of pieces; returns the decisions as ASCII bytes, newline-terminated. */
export function decideParts(
  parts: readonly Uint8Array[],
  firstLineNo: number,
  ctx: LineContext,
): { out: Uint8Array; lines: number } {
  const out = writerFor(ctx);
  const lines = forEachLine(parts, firstLineNo, (line, lineNo) => decideLine(line, lineNo, ctx, out));
  return { out: out.take(), lines };
}

const NEWLINE = 0x0a;

/** Newlines in a run of pieces: how many lines it takes up (the last piece ends at one, but for the last run). */
export function countNewlines(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const bytes of parts)
    for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

declare module "node:buffer" {
  interface Buffer {
    /** Node's own fast Latin-1 slice (public since v0.x, untyped in @types/node). */
    latin1Slice(start: number, end: number): string;
  }
}
