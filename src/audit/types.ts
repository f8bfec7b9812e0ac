/** The v2 audit event model (docs/audit.md §Format). */
import type { ActionDef, DecisionResult, RiskClass } from "../core/types.js";

/** `prev_hash` of the first event of a chain. */
export const GENESIS_HASH = "0".repeat(64);

/** The format version every new event carries (`"v":2`). 0.9.0 logs have no `v`. */
export const FORMAT_VERSION = 2;

/** The chain of a single-writer deployment. Each replica writes its own log with its own chain. */
export const DEFAULT_CHAIN_ID = "main";

/** The event types this version writes. The type is open (later versions add more) but validated. */
export const EVENT_TYPES = [
  "decision",
  "state_capture",
  "execution",
  "checkpoint",
  "repair",
  "gap",
  "approval",
] as const;
export type KnownEventType = (typeof EVENT_TYPES)[number];

/** Lower-case identifier: the shape every event type, known or future, must have. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const EVENT_ID_PATTERN = /^evt-[0-9a-f]{12}$/;
export const CHAIN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One line of a v2 log, as written (keys are written in RFC 8785 order, not this one). */
export interface AuditEvent {
  v: 2;
  seq: number;
  chain_id: string;
  event_id: string;
  event_type: string;
  /** `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`. For decisions, the request time. */
  timestamp: string;
  action: string;
  target: string;
  caller: string;
  params: Record<string, unknown>;
  decision: DecisionResult;
  reason: string;
  policy_matched: string | null;
  risk_class: RiskClass;
  effective_risk: RiskClass;
  correlation_id: string | null;
  ticket_id: string | null;
  context: Record<string, unknown> | null;
  prev_hash: string;
  entry_hash: string;
}

/** What `AuditWriter.append()` returns: the event exactly as written and hashed. */
export type AuditRecord = Readonly<AuditEvent>;

/**
 * The input of `append()`: the event's fields minus what the writer assigns (`v`, `seq`,
 * `chain_id`, `prev_hash`, `entry_hash`; `event_id` and `timestamp` unless given), plus what to
 * redact. `decision`, `reason` and the risks are required for `decision` events; other types
 * default to `allow`, `""` and `low`.
 */
export interface AuditInput {
  event_type?: string;
  /** `evt-` + 12 lower-case hex; generated when absent (e.g. pass the decision's audit id). */
  event_id?: string;
  /** ISO-8601; a `Date` is written in UTC. Default: now. */
  timestamp?: string | Date;
  action: string;
  target?: string | null;
  caller?: string | null;
  params?: Record<string, unknown> | null;
  decision?: DecisionResult;
  reason?: string;
  policy_matched?: string | null;
  risk_class?: RiskClass;
  effective_risk?: RiskClass;
  correlation_id?: string | null;
  ticket_id?: string | null;
  context?: Record<string, unknown> | null;
  /** Names of `params` whose values are secrets: replaced by `hmac-sha256:<hex>`. */
  sensitiveParams?: readonly string[];
  /** Alternatively, the action definition: its `sensitive: true` parameters are redacted. */
  actionDef?: Pick<ActionDef, "parameters">;
  /** Execution output is secret: `context.output`/`stdout`/`stderr` (and their text in `reason`). */
  secretOutput?: boolean;
  /** Further values to redact, as key paths into the event: `[["context", "before_state", "data"]]`. */
  redactPaths?: readonly (readonly string[])[];
}

/** The signed content of a checkpoint (the signature is over its RFC 8785 canonical JSON). */
export interface CheckpointPayload {
  chain_id: string;
  kid: string;
  /** The `entry_hash` of event `seq`. */
  last_hash: string;
  seq: number;
}

/** A checkpoint as the side file and shippers carry it. */
export interface Checkpoint extends CheckpointPayload {
  /** base64url Ed25519 signature over `canonicalize(payload)`. */
  signature: string;
  timestamp: string;
  /** The checkpoint event's own id and seq in the log (`seq + 1`). */
  event_id?: string;
}
