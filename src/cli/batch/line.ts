/**
 * Batch lines in, decision lines out (DESIGN.md §9). Shared by the main thread and the workers.
 * A line that cannot be judged becomes a DENY with the reason, never a silent skip.
 */
import { parseJson } from "../../codec/json-fast.js";
import { decide } from "../../core/decide.js";
import { type EvalTime, parseTimestamp, TimestampError } from "../../core/time.js";
import type { World } from "../../core/world.js";
import { InvalidRequestError, toDecisionRequest } from "../../pdp/request.js";
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

function timeOf(raw: RawRequest, ctx: LineContext): EvalTime {
  if (ctx.forcedTime !== null) return ctx.forcedTime;
  const stamp = raw.timestamp;
  if (stamp === undefined || stamp === null) return ctx.defaultTime;
  if (typeof stamp !== "string") throw new InvalidRequestError("timestamp must be an ISO-8601 string");
  return parseTimestamp(stamp);
}

function decideLine(line: string, lineNo: number, ctx: LineContext, out: DecisionWriter): void {
  let raw: RawRequest;
  try {
    // Python's json.loads semantics: 5.0 stays a float, as 0.9.0 saw it.
    raw = parseJson(line) as RawRequest;
  } catch (err) {
    invalid(out, null, `line ${lineNo} is not valid JSON: ${(err as Error).message}`);
    return;
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    invalid(out, null, `line ${lineNo} is not a JSON object`);
    return;
  }
  const id = raw.id ?? null;
  try {
    const request = toDecisionRequest({
      action: raw.action as string,
      target: raw.target as string | null,
      caller: raw.caller as never,
      params: raw.params as never,
      ticketId: raw.ticket_id as string | null,
    });
    out.write(id, decide(request, ctx.world, timeOf(raw, ctx)));
  } catch (err) {
    if (!(err instanceof InvalidRequestError || err instanceof TimestampError)) throw err;
    invalid(out, id, err.message);
  }
}

function invalid(out: DecisionWriter, id: unknown, why: string): void {
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

/**
 * Decides every line of a run of UTF-8 pieces; returns the decisions as ASCII bytes, each line
 * newline-terminated. Lines are read as Latin-1 (a plain byte copy); only a line holding non-ASCII
 * bytes is decoded as UTF-8 again. Only a line that straddles two pieces is copied to join it.
 */
export function decideParts(
  parts: readonly Uint8Array[],
  firstLineNo: number,
  ctx: LineContext,
): { out: Uint8Array; lines: number } {
  const out = writerFor(ctx);
  const state = { lineNo: firstLineNo, lines: 0 };
  let carry: Uint8Array | null = null;
  for (const part of parts) {
    const bytes = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    let start = 0;
    if (carry !== null) {
      const newline = bytes.indexOf(NEWLINE);
      const end = newline === -1 ? bytes.length : newline;
      carry = Buffer.concat([carry, bytes.subarray(0, end)]);
      if (newline === -1) continue;
      decideRange(
        Buffer.from(carry.buffer, carry.byteOffset, carry.byteLength),
        0,
        carry.length,
        ctx,
        out,
        state,
      );
      carry = null;
      start = newline + 1;
    }
    while (start < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start);
      if (newline === -1) {
        carry = bytes.subarray(start);
        break;
      }
      decideRange(bytes, start, newline, ctx, out, state);
      start = newline + 1;
    }
  }
  if (carry !== null)
    decideRange(
      Buffer.from(carry.buffer, carry.byteOffset, carry.byteLength),
      0,
      carry.length,
      ctx,
      out,
      state,
    );
  return { out: out.take(), lines: state.lines };
}

const NEWLINE = 0x0a;

function decideRange(
  bytes: Buffer,
  start: number,
  end: number,
  ctx: LineContext,
  out: DecisionWriter,
  state: { lineNo: number; lines: number },
): void {
  const latin1 = bytes.latin1Slice(start, end);
  if (!isBlank(latin1)) {
    const line = HIGH_BYTE.test(latin1) ? decoder.decode(bytes.subarray(start, end)) : latin1;
    decideLine(line, state.lineNo, ctx, out);
    state.lines++;
  }
  state.lineNo++;
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
