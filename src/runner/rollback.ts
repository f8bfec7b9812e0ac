/**
 * Rollback plans (REFERENCE.md §11.2): from a decision's audit event and the runner's
 * `state_capture` event for it, the action and params that undo it. A plan is only a proposal:
 * it goes back through the decision point as a new request, so a rollback to a state that
 * policy now forbids is denied (THREATS.md T12).
 */
import { pyStrRepr } from "../core/pyformat.js";
import type { World } from "../core/world.js";

export class RollbackError extends Error {
  override name = "RollbackError";
}

/** The two lookups a plan needs; the audit index answers both without scanning the log. */
export interface RollbackSource {
  decision(auditId: string): AuditedEvent | null;
  /** The newest `state_capture` event whose `context.original_audit_id` is `auditId`. */
  stateCapture(auditId: string): AuditedEvent | null;
}

export interface AuditedEvent {
  event_id: string;
  event_type: string;
  action: string;
  target: string | null;
  caller: string | null;
  params: Record<string, unknown> | null;
  context: Record<string, unknown> | null;
}

export interface RollbackPlan {
  original_audit_id: string;
  original_action: string;
  original_target: string;
  original_caller: string;
  original_params: Record<string, unknown>;
  rollback_action: string;
  rollback_params: Record<string, unknown>;
  rollback_target: string;
  rollback_caller: string;
  before_state: Record<string, unknown>;
  generated_at: string;
  warnings: string[];
}

const REDACTED = /^hmac-sha256:|^\[REDACTED\]$/;

export function planRollback(
  auditId: string,
  source: RollbackSource,
  world: World,
  now: Date = new Date(),
): RollbackPlan {
  const decision = source.decision(auditId);
  if (decision === null) throw new RollbackError(`No decision event found for audit_id: ${auditId}`);
  const capture = source.stateCapture(auditId);
  if (capture === null) {
    throw new RollbackError(
      `No state capture found for audit_id: ${auditId}. Execute it through the runner (or record state) before generating rollback.`,
    );
  }
  const action = world.actions.get(decision.action)?.def;
  if (action === undefined) throw new RollbackError(`Action '${decision.action}' not found in registry`);
  if (!action.reversible) throw new RollbackError(`Action '${action.name}' is not reversible`);
  if (action.rollback_action === null)
    throw new RollbackError(`Action '${action.name}' has no rollback_action defined`);
  const rollback = world.actions.get(action.rollback_action)?.def;
  if (rollback === undefined)
    throw new RollbackError(`Rollback action '${action.rollback_action}' not found in registry`);

  const params = decision.params ?? {};
  const before = (capture.context?.before_state as Record<string, unknown> | undefined) ?? {};
  const warnings: string[] = [];
  // The runner records how the execution ended: after a failure or a timeout the target may be
  // unchanged, or changed in part, and the plan may undo something that never happened.
  const status = capture.context?.execution_status;
  if (typeof status === "string" && status !== "success") {
    warnings.push(
      `The execution ended with status '${status}': the target may be unchanged or only partly changed; check its current state before rolling back`,
    );
  }
  const captureErrors = capture.context?.capture_errors as { before?: unknown } | undefined;
  if (typeof captureErrors?.before === "string") {
    warnings.push(`The state before the execution could not be read: ${captureErrors.before}`);
  }
  const out: Record<string, unknown> = {};
  const declared = Object.entries(action.rollback_params);
  if (declared.length > 0) {
    for (const [name, { source: path }] of declared) {
      const dot = path.indexOf(".");
      if (dot === -1) {
        warnings.push(`Invalid source path: ${pyStrRepr(path)} (expected 'namespace.field')`);
        continue;
      }
      const [ns, field] = [path.slice(0, dot), path.slice(dot + 1)];
      const from = ns === "params" ? params : ns === "before_state" ? before : null;
      if (from === null) warnings.push(`Unknown source namespace: ${pyStrRepr(ns)}`);
      else if (!Object.hasOwn(from, field))
        warnings.push(
          `Source ${pyStrRepr(path)} not found in ${ns === "params" ? "original params" : "before_state"}`,
        );
      else out[name] = from[field];
    }
  } else {
    warnings.push("Using convention-based parameter mapping (no rollback_params declared)");
    if (rollback.name === action.name) {
      Object.assign(out, params);
      for (const key of Object.keys(before)) if (Object.hasOwn(out, key)) out[key] = before[key];
    } else {
      const names = new Set(rollback.parameters.map((p) => p.name));
      for (const [k, v] of Object.entries(params)) if (names.has(k)) out[k] = v;
    }
  }
  // A value the audit log holds only redacted cannot be replayed: the operator must supply it.
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === "string" && REDACTED.test(v)) {
      delete out[k];
      warnings.push(
        `Parameter ${pyStrRepr(k)} was redacted in the audit log; supply it when executing the rollback`,
      );
    }
  }
  return {
    original_audit_id: auditId,
    original_action: decision.action,
    original_target: decision.target ?? "unknown",
    original_caller: decision.caller ?? "anonymous",
    original_params: params,
    rollback_action: rollback.name,
    rollback_params: out,
    rollback_target: decision.target ?? "unknown",
    rollback_caller: decision.caller ?? "anonymous",
    before_state: before,
    generated_at: now.toISOString(),
    warnings,
  };
}
