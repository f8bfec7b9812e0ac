/**
 * Building and encoding v2 events. An event is validated and redacted first (`prepareEvent`, which
 * may throw and uses no sequence number), then chained (`encodeEvent`, which cannot fail).
 *
 * The line is the RFC 8785 canonical JSON of the event, entry_hash included, plus `\n`;
 * `entry_hash = sha256(canonical(event without entry_hash))`. Because the top-level keys are
 * fixed, the canonical text is assembled from pre-serialised parts around `prev_hash` and `seq`,
 * and the entry_hash member is inserted at its sorted place (between `effective_risk` and
 * `event_id`). Verification removes exactly that member from the raw line and hashes the rest.
 */
import * as cryptoModule from "node:crypto";
import { createHash, randomFillSync } from "node:crypto";
import { CanonicalJsonError, canonicalize } from "../codec/jcs.js";
import { isPlainObject } from "../core/pyvalue.js";
import { parseTimestamp, TimestampError } from "../core/time.js";
import { DECISION_RESULTS, RISK_CLASSES } from "../core/types.js";
import { AuditError } from "./errors.js";
import { type Redactor, redactFields, wantsRedaction } from "./redact.js";
import {
  type AuditEvent,
  type AuditInput,
  EVENT_ID_PATTERN,
  EVENT_TYPE_PATTERN,
  FORMAT_VERSION,
} from "./types.js";

/** A validated, redacted event waiting for its place in the chain. */
export interface PreparedEvent {
  fields: Omit<AuditEvent, "seq" | "prev_hash" | "entry_hash">;
  /** Canonical text before the entry_hash member: `{"action":…,"effective_risk":…,`. */
  head: string;
  /** From `"event_id"` up to the prev_hash value's opening quote. */
  mid: string;
  /** From after prev_hash up to `"seq":`. */
  beforeSeq: string;
  /** From after seq to the closing brace. */
  end: string;
}

export interface EncodedEvent {
  record: AuditEvent;
  /** The exact line written, `\n` included. */
  line: string;
}

type OneShotHash = (algorithm: string, data: string, encoding: "hex") => string;
/** `crypto.hash` (Node 20.12+) is several times cheaper than `createHash` for one short input. */
const oneShot = (cryptoModule as unknown as { hash?: OneShotHash }).hash;
const sha256 = (text: string): string =>
  oneShot !== undefined
    ? oneShot("sha256", text, "hex")
    : createHash("sha256").update(text, "utf8").digest("hex");

// Event ids: `evt-` + 12 hex, from a pooled CSPRNG buffer (6 bytes an id).
const POOL = Buffer.alloc(6 * 512);
let poolAt = POOL.length;

export function newEventId(): string {
  if (poolAt >= POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const id = `evt-${POOL.toString("hex", poolAt, poolAt + 6)}`;
  poolAt += 6;
  return id;
}

/** `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (REFERENCE.md §0.4): microseconds, omitted when zero. */
export function formatTimestamp(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = date.getUTCMilliseconds();
  return ms === 0 ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${String(ms * 1000).padStart(6, "0")}Z`;
}

const WELL_SHAPED_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$/;

function timestampOf(value: string | Date | undefined): string {
  if (value === undefined) return formatTimestamp(new Date());
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid("timestamp is an invalid Date");
    return formatTimestamp(value);
  }
  if (typeof value !== "string") throw invalid("timestamp must be an ISO-8601 string or a Date");
  let epochMs: number;
  try {
    epochMs = parseTimestamp(value).epochMs;
  } catch (err) {
    if (err instanceof TimestampError) throw invalid(`timestamp is not ISO-8601: ${JSON.stringify(value)}`);
    throw err;
  }
  // Keep a well-shaped timestamp as given (its offset is meaningful); normalise anything else.
  return WELL_SHAPED_TS.test(value) ? value : formatTimestamp(new Date(epochMs));
}

function invalid(message: string): AuditError {
  return new AuditError("INVALID_EVENT", `Invalid audit event: ${message}`);
}

function str(name: string, value: unknown, fallback?: string): string {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw invalid(`${name} is required`);
  }
  if (typeof value !== "string") throw invalid(`${name} must be a string`);
  return value;
}

function optStr(name: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw invalid(`${name} must be a string or null`);
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${name} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

interface WellFormed {
  isWellFormed?: () => boolean;
}

/** Canonical JSON of a value, as an INVALID_EVENT error when JCS cannot represent it. */
function canon(name: string, value: unknown): string {
  // Strings (most fields): JSON.stringify escapes exactly as RFC 8785 once lone surrogates are out.
  if (typeof value === "string" && (value as WellFormed).isWellFormed?.() === true)
    return JSON.stringify(value);
  if (value === null) return "null";
  try {
    return canonicalize(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw invalid(`${name}: ${err.message}`);
    throw err;
  }
}

/**
 * Validates and redacts `input` for `chainId`. Throws `AuditError("INVALID_EVENT")`; never
 * touches the chain.
 */
export function prepareEvent(input: AuditInput, chainId: string, redactor: Redactor): PreparedEvent {
  if (input === null || typeof input !== "object") throw invalid("the event must be an object");
  const eventType = input.event_type ?? "decision";
  if (typeof eventType !== "string" || !EVENT_TYPE_PATTERN.test(eventType)) {
    throw invalid("event_type must be a lower-case identifier ([a-z][a-z0-9_]*)");
  }
  const isDecision = eventType === "decision";
  const eventId = input.event_id ?? newEventId();
  if (typeof eventId !== "string" || !EVENT_ID_PATTERN.test(eventId)) {
    throw invalid("event_id must be evt- followed by 12 lower-case hex digits");
  }
  const params = input.params ?? {};
  if (!isPlainObject(params)) throw invalid("params must be an object");
  const context = input.context ?? null;
  if (context !== null && !isPlainObject(context)) throw invalid("context must be an object or null");

  let redactable = {
    params: params as Record<string, unknown>,
    context: context as Record<string, unknown> | null,
    reason: str("reason", input.reason, isDecision ? undefined : ""),
    correlation_id: optStr("correlation_id", input.correlation_id),
    ticket_id: optStr("ticket_id", input.ticket_id),
    target: str("target", input.target, "unknown"),
  };
  if (wantsRedaction(input)) redactable = redactFields(redactable, input, redactor);

  const fields: PreparedEvent["fields"] = {
    v: FORMAT_VERSION,
    chain_id: chainId,
    event_id: eventId,
    event_type: eventType,
    timestamp: timestampOf(input.timestamp),
    action: str("action", input.action),
    target: redactable.target,
    caller: str("caller", input.caller, "anonymous"),
    params: redactable.params,
    decision: oneOf("decision", input.decision, DECISION_RESULTS, isDecision ? undefined : "allow"),
    reason: redactable.reason,
    policy_matched: optStr("policy_matched", input.policy_matched),
    risk_class: oneOf("risk_class", input.risk_class, RISK_CLASSES, isDecision ? undefined : "low"),
    effective_risk: oneOf(
      "effective_risk",
      input.effective_risk,
      RISK_CLASSES,
      isDecision ? undefined : "low",
    ),
    correlation_id: redactable.correlation_id,
    ticket_id: redactable.ticket_id,
    context: redactable.context,
  };
  const f = fields;
  const head =
    `{"action":${canon("action", f.action)},"caller":${canon("caller", f.caller)},` +
    `"chain_id":${canon("chain_id", f.chain_id)},"context":${canon("context", f.context)},` +
    `"correlation_id":${canon("correlation_id", f.correlation_id)},"decision":"${f.decision}",` +
    `"effective_risk":"${f.effective_risk}",`;
  const mid =
    `"event_id":"${f.event_id}","event_type":"${f.event_type}","params":${canon("params", f.params)},` +
    `"policy_matched":${canon("policy_matched", f.policy_matched)},"prev_hash":"`;
  const beforeSeq = `","reason":${canon("reason", f.reason)},"risk_class":"${f.risk_class}","seq":`;
  const end =
    `,"target":${canon("target", f.target)},"ticket_id":${canon("ticket_id", f.ticket_id)},` +
    `"timestamp":${canon("timestamp", f.timestamp)},"v":${FORMAT_VERSION}}`;
  return { fields, head, mid, beforeSeq, end };
}

/** Places a prepared event in the chain: assigns seq and prev_hash, hashes, builds the line. */
export function encodeEvent(p: PreparedEvent, seq: number, prevHash: string): EncodedEvent {
  const tail = `${p.mid}${prevHash}${p.beforeSeq}${seq}${p.end}`;
  const entryHash = sha256(p.head + tail);
  const f = p.fields;
  // An explicit literal: object spread is several times slower on this hot path.
  const record: AuditEvent = {
    v: f.v,
    seq,
    chain_id: f.chain_id,
    event_id: f.event_id,
    event_type: f.event_type,
    timestamp: f.timestamp,
    action: f.action,
    target: f.target,
    caller: f.caller,
    params: f.params,
    decision: f.decision,
    reason: f.reason,
    policy_matched: f.policy_matched,
    risk_class: f.risk_class,
    effective_risk: f.effective_risk,
    correlation_id: f.correlation_id,
    ticket_id: f.ticket_id,
    context: f.context,
    prev_hash: prevHash,
    entry_hash: entryHash,
  };
  return { record, line: `${p.head}"entry_hash":"${entryHash}",${tail}\n` };
}

/** The textual entry_hash member verification removes from a line before hashing it. */
export function entryHashMember(entryHash: string): string {
  return `"entry_hash":"${entryHash}",`;
}
