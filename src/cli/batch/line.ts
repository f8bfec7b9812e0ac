/**
 * One batch line in, one decision line out (DESIGN.md §9). Shared by the main thread and the
 * workers. A line that cannot be judged becomes a DENY with the reason, never a silent skip.
 */
import { parseJsonPy } from "../../codec/json-parse.js";
import { decide } from "../../core/decide.js";
import { type EvalTime, parseTimestamp } from "../../core/time.js";
import type { World } from "../../core/world.js";
import { InvalidRequestError, toDecisionRequest } from "../../pdp/request.js";

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

let lastStamp = "";
let lastTime: EvalTime | null = null;

function timeOf(raw: RawRequest, ctx: LineContext): EvalTime {
  if (ctx.forcedTime !== null) return ctx.forcedTime;
  const stamp = raw.timestamp;
  if (stamp === undefined || stamp === null) return ctx.defaultTime;
  if (typeof stamp !== "string") throw new InvalidRequestError("timestamp must be an ISO-8601 string");
  if (stamp !== lastStamp || lastTime === null) {
    lastTime = parseTimestamp(stamp);
    lastStamp = stamp;
  }
  return lastTime;
}

export function decideLine(line: string, lineNo: number, ctx: LineContext): string {
  let raw: RawRequest;
  try {
    // Not JSON.parse: it turns 5.0 into 5, and 0.9.0 told them apart.
    raw = parseJsonPy(line) as RawRequest;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw))
      return invalid(null, `line ${lineNo} is not a JSON object`);
  } catch (err) {
    return invalid(null, `line ${lineNo} is not valid JSON: ${(err as Error).message}`);
  }
  const id = raw.id ?? null;
  try {
    const time = timeOf(raw, ctx);
    const request = toDecisionRequest({
      action: raw.action as string,
      target: raw.target as string | null,
      caller: raw.caller as never,
      params: raw.params as never,
      ticketId: raw.ticket_id as string | null,
    });
    const d = decide(request, ctx.world, time);
    const policy = d.policy_matched === null ? "null" : jsonString(d.policy_matched);
    return `{"id":${jsonValue(id)},"result":"${d.result}","policy_matched":${policy},"risk_class":"${d.risk_class}","effective_risk":"${d.effective_risk}","reason":${jsonString(d.reason)},"code":"${d.code}"}`;
  } catch (err) {
    if (err instanceof InvalidRequestError || (err as Error).name === "TimestampError")
      return invalid(id, (err as Error).message);
    throw err;
  }
}

const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_ALL = /[^\x00-\x7f]/g;

/** JSON with every non-ASCII character escaped, so output lines are plain ASCII bytes. */
function jsonString(s: string): string {
  const text = JSON.stringify(s);
  return NON_ASCII.test(text) ? escapeNonAscii(text) : text;
}

function jsonValue(v: unknown): string {
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? "null";
  return NON_ASCII.test(text) ? escapeNonAscii(text) : text;
}

function escapeNonAscii(text: string): string {
  return text.replace(NON_ASCII_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function invalid(id: unknown, why: string): string {
  return jsonValue({
    id,
    result: "deny",
    policy_matched: null,
    risk_class: "critical",
    effective_risk: "critical",
    reason: `Invalid request: ${why}`,
    code: "invalid_request",
  });
}

const decoder = new TextDecoder();
const HIGH_BYTE = /[\x80-\xff]/;

/**
 * Decides every line of a UTF-8 chunk; returns the decisions as ASCII bytes, newline-terminated.
 * The chunk is read as Latin-1 (a plain copy, one byte per character); only a line holding
 * non-ASCII bytes is decoded as UTF-8 again.
 */
export function decideBytes(
  bytes: Uint8Array,
  firstLineNo: number,
  ctx: LineContext,
): { out: Uint8Array; lines: number } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = buffer.toString("latin1");
  const { out, lines } = decideLines(latin1, firstLineNo, ctx, (start, end) => {
    const line = latin1.slice(start, end);
    return HIGH_BYTE.test(line) ? decoder.decode(bytes.subarray(start, end)) : line;
  });
  return { out: Buffer.from(out, "latin1"), lines };
}

/** Decides every line of a chunk of text; returns the decisions, newline-terminated. */
export function decideChunk(
  text: string,
  firstLineNo: number,
  ctx: LineContext,
): { out: string; lines: number } {
  return decideLines(text, firstLineNo, ctx, (start, end) => text.slice(start, end));
}

function decideLines(
  text: string,
  firstLineNo: number,
  ctx: LineContext,
  lineAt: (start: number, end: number) => string,
): { out: string; lines: number } {
  let out = "";
  let lines = 0;
  let start = 0;
  let lineNo = firstLineNo;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    if (!isBlank(text, start, end)) {
      out += `${decideLine(lineAt(start, end), lineNo, ctx)}\n`;
      lines++;
    }
    lineNo++;
    start = end + 1;
  }
  return { out, lines };
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
