/**
 * The runner's audit events (REFERENCE.md §4.2): one `state_capture` and one `execution` event per
 * run, written by the runner itself, for failures at every step too. Both are linked to the
 * decision by `correlation_id` / `context.original_audit_id`.
 */
import type { AuditInput } from "../audit/types.js";
import type { ActionDef } from "../core/types.js";
import type { PrecheckResult } from "./executors/types.js";
import type { StateDiff } from "./state-diff.js";

export type RunStatus = "success" | "failure" | "timeout" | "error" | "skipped";

export interface ExecutionRecord {
  status: RunStatus;
  action: string;
  target: string;
  caller: string;
  /** The decision this execution was ticketed by. */
  auditId: string;
  ticketNonce: string | null;
  params: Record<string, unknown>;
  /** Params the ticket holds as digests (sensitive): redacted even without the action definition. */
  sensitiveParams: string[];
  output: string;
  outputIsSecret: boolean;
  error: string | null;
  durationMs: number;
  executorType: string;
  /** Which step stopped the run, when it did not complete. */
  stage: "ticket" | "action" | "credentials" | "prechecks" | "execute" | "completed";
  prechecks: PrecheckResult[];
  beforeState: Record<string, unknown>;
  afterState: Record<string, unknown>;
  credentialId: string | null;
  /** `null` when no credential was obtained; `false` when revoking it failed (see `credentialError`). */
  credentialRevoked: boolean | null;
  /** Why the revocation failed. */
  credentialError: string | null;
  /** Why a state could not be read (its state is then `{}`: unknown, not empty). */
  captureErrors: { before?: string; after?: string };
}

export function executionEvent(r: ExecutionRecord, actionDef: ActionDef | null): AuditInput {
  const text = (r.error ?? r.output).trimEnd();
  return {
    event_type: "execution",
    action: r.action,
    target: r.target,
    caller: r.caller,
    params: r.params,
    decision: r.status === "success" || r.status === "skipped" ? "allow" : "deny",
    reason: `Execution ${r.status}: ${text}`.trimEnd(),
    risk_class: "low",
    effective_risk: "low",
    correlation_id: r.auditId === "" ? null : r.auditId,
    context: {
      type: "execution",
      original_audit_id: r.auditId,
      status: r.status,
      stage: r.stage,
      output: r.output,
      error: r.error,
      duration_ms: r.durationMs,
      executor_type: r.executorType,
      ticket_nonce: r.ticketNonce,
      before_state: r.beforeState,
      after_state: r.afterState,
      precheck_results: r.prechecks.map((p) => ({
        name: p.name,
        passed: p.passed,
        message: p.message,
        advisory: !p.enforced,
      })),
      credential_id: r.credentialId,
      credential_revoked: r.credentialRevoked,
      ...(r.credentialError !== null ? { credential_error: r.credentialError } : {}),
    },
    ...(actionDef !== null ? { actionDef } : {}),
    ...(r.sensitiveParams.length > 0 ? { sensitiveParams: r.sensitiveParams } : {}),
    secretOutput: r.outputIsSecret,
  };
}

export interface StateCaptureRecord {
  action: string;
  target: string;
  caller: string;
  auditId: string;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  diff: StateDiff;
  captureDurationMs: number;
  declared: string[];
  source: "runner" | "sdk";
  /** The runner's: how the execution ended (`success`, or a failure whose effect may be partial). */
  status?: RunStatus;
  /** Why the before or after state could not be read. */
  errors?: { before?: string; after?: string };
}

export function stateCaptureEvent(r: StateCaptureRecord): AuditInput {
  return {
    event_type: "state_capture",
    action: r.action,
    target: r.target,
    caller: r.caller,
    params: {},
    decision: "allow",
    reason: `State capture for ${r.auditId}`,
    risk_class: "low",
    effective_risk: "low",
    correlation_id: r.auditId,
    context: {
      type: "state_capture",
      original_audit_id: r.auditId,
      before_state: r.before,
      after_state: r.after,
      diff: r.diff,
      capture_duration_ms: r.captureDurationMs,
      state_fields_declared: r.declared,
      state_fields_captured: [...new Set([...Object.keys(r.before), ...Object.keys(r.after)])].sort(),
      source: r.source,
      ...(r.status !== undefined ? { execution_status: r.status } : {}),
      ...(r.errors !== undefined && Object.keys(r.errors).length > 0 ? { capture_errors: r.errors } : {}),
    },
  };
}
