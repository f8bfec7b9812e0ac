/** One-call operations built on the writer: repair a torn tail; turn a decision into an event. */
import { closeSync, openSync } from "node:fs";
import type { ActionDef } from "../core/types.js";
import type { Decision } from "../pdp/decision.js";
import { emptyFields, scanLine } from "./line.js";
import type { RepairInfo } from "./repair.js";
import { readTail } from "./tail.js";
import { type AuditInput, EVENT_ID_PATTERN } from "./types.js";
import { AuditWriter, type AuditWriterOptions } from "./writer.js";

/**
 * Cuts a torn last line off the log and records a `repair` event (what `audit verify --repair`
 * does). Takes the log's lock, so it fails with `AuditLockedError` while a writer runs. Returns
 * what was cut, or null when the log was not torn.
 */
export async function repairLog(options: AuditWriterOptions): Promise<RepairInfo | null> {
  // Repair keeps the log's own chain (a replica's log has its own chain id).
  const chainId = options.chainId ?? peekChainId(options.path) ?? undefined;
  const writer = await AuditWriter.open({
    ...options,
    ...(chainId ? { chainId } : {}),
    repair: true,
    shippers: [],
  });
  const repaired = writer.repaired;
  await writer.close();
  return repaired;
}

export interface DecisionEventOptions {
  /** The request's parameters (the decision object does not carry them). */
  params?: Record<string, unknown> | null;
  /** The action definition, so its `sensitive: true` parameters are redacted. */
  actionDef?: Pick<ActionDef, "parameters"> | null;
  /** The request time (default: the decision's `evaluated_at`). */
  timestamp?: string | Date;
  context?: Record<string, unknown> | null;
  correlationId?: string | null;
}

/** The audit event of a PDP decision (REFERENCE.md §4.2 "decision"). */
export function decisionEvent(decision: Decision, options: DecisionEventOptions = {}): AuditInput {
  const input: AuditInput = {
    event_type: "decision",
    timestamp: options.timestamp ?? decision.evaluated_at,
    action: decision.action,
    target: decision.target,
    caller: decision.caller,
    params: options.params ?? {},
    decision: decision.result,
    reason: decision.reason,
    policy_matched: decision.policy_matched,
    risk_class: decision.risk_class,
    effective_risk: decision.effective_risk,
    correlation_id: options.correlationId ?? null,
    ticket_id: decision.ticket_id,
    context: options.context ?? null,
  };
  if (decision.audit_id !== null && EVENT_ID_PATTERN.test(decision.audit_id))
    input.event_id = decision.audit_id;
  if (options.actionDef) input.actionDef = options.actionDef;
  return input;
}

/** The chain id on the last complete line of a log, or null. */
export function peekChainId(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const tail = readTail(fd);
    if (tail.lastLine === null) return null;
    const f = emptyFields();
    scanLine(tail.lastLine, 0, tail.lastLine.length, f);
    return f.chainId;
  } finally {
    closeSync(fd);
  }
}
