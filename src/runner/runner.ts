/**
 * The runner: only an approved, ticketed, exactly specified action runs, with scoped credentials,
 * and every step is on the record.
 *
 *   redeem the ticket (single use; params proven against its digest) → action definition
 *   → credentials (mandatory when the action declares them and a vault is configured)
 *   → prechecks (enforced ones stop the run) → before-state → execute (with a timeout)
 *   → after-state → `state_capture` + `execution` audit events → revoke the credential
 *
 * Whatever happens, the run ends with an `execution` event saying how far it got, and a
 * credential that was obtained is revoked. The executed params are the ticket's, never the
 * caller's: a caller who supplies params only proves the sensitive ones against the digest.
 */
import { decodeJwt } from "jose";
import type { ActionDef } from "../core/types.js";
import type { World } from "../core/world.js";
import { scrubSecrets } from "../credentials/redact.js";
import type { AuditSink } from "../pdp/pipeline.js";
import type { TicketValidator, VerifiedTicket } from "../tickets/validator.js";
import { type ExecutionRecord, executionEvent, stateCaptureEvent } from "./events.js";
import type { ExecutionContext, Executor, PrecheckResult } from "./executors/types.js";
import { diffState } from "./state-diff.js";

/** A credential obtained for one run (its payload is a secret: never logged, never returned). */
export interface RunCredential {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/** Where credentials come from: the vault, through the resolver (credentials issue). */
export interface CredentialProvider {
  /** Whether this action may only run with a credential from the vault. */
  required(action: ActionDef): boolean;
  acquire(action: ActionDef, ticket: VerifiedTicket, token: string): Promise<RunCredential>;
  /** Revokes the credential; throws when revocation failed (the audit then says so). */
  release(credential: RunCredential): Promise<void>;
  /**
   * The credential's secret strings (call before `release`): the runner scrubs them from
   * everything it records and returns, whatever an executor's output quotes.
   */
  secretsFor?(credential: RunCredential): string[];
}

export interface RunnerParts {
  world: () => World;
  validator: TicketValidator;
  audit: AuditSink;
  credentials: CredentialProvider | null;
  clock?: () => number;
}

export interface RunOptions {
  executor: Executor;
  /** The params to execute; needed when the ticket holds sensitive ones only as digests. */
  params?: Record<string, unknown> | null;
  timeoutMs?: number;
}

export interface ExecutionResult extends Omit<ExecutionRecord, "params" | "sensitiveParams"> {
  executedAt: string;
}

/** The result of a dry run: whether the ticket would be accepted, and every step that would run. */
export interface DryRun {
  valid: boolean;
  reason: string;
  used: boolean | null;
  steps: string[];
  ticket?: VerifiedTicket;
}

const DEFAULT_TIMEOUT_MS = 300_000;
/**
 * Executors enforce `timeoutMs` themselves (and report `timeout` with what they know, e.g. that
 * a mutating call had been sent). The runner's own abort signal is a backstop for one that does
 * not, so it fires later: firing at the same moment would race the executor's deadline and turn
 * a timeout into a cancellation.
 */
const ABORT_GRACE_MS = 5_000;

export class Runner {
  private readonly clock: () => number;

  constructor(private readonly parts: RunnerParts) {
    this.clock = parts.clock ?? Date.now;
  }

  async run(token: string, options: RunOptions): Promise<ExecutionResult> {
    const started = this.clock();
    const executor = options.executor;
    const record = this.emptyRecord(token, executor.type);
    const provider = this.parts.credentials;
    let credential: RunCredential | null = null;
    let secrets: string[] = [];
    // Revoked before the execution event is written, so the event says whether it was.
    const revoke = async (): Promise<void> => {
      if (credential === null || provider === null) return;
      const held = credential;
      credential = null;
      try {
        await provider.release(held);
        record.credentialRevoked = true;
      } catch (err) {
        record.credentialRevoked = false;
        record.credentialError = messageOf(err);
      }
    };
    const finish = async (actionDef: ActionDef | null): Promise<ExecutionResult> => {
      await revoke();
      record.durationMs = this.clock() - started;
      scrubRecord(record, secrets);
      await this.parts.audit.append(executionEvent(record, actionDef));
      const { params: _params, sensitiveParams: _sensitive, ...result } = record;
      return { ...result, executedAt: new Date(started).toISOString() };
    };

    const expectations = options.params !== undefined ? { expectedParams: options.params } : {};
    // Look before redeeming: a ticket this run could not execute anyway (sensitive params not
    // supplied, an action this executor does not map) is refused without being spent, so the
    // caller can still run it correctly.
    const peek = await this.parts.validator.verify(token, expectations);
    if (peek.valid && peek.ticket !== null) {
      const refusal = refusalOf(peek.ticket, executor, this.parts.world());
      if (!refusal.ok) {
        describeTicket(record, peek.ticket);
        fail(record, refusal.stage, `${refusal.error}; the ticket was not redeemed`);
        return finish(refusal.action);
      }
    }
    const redeemed = await this.parts.validator.redeem(token, expectations);
    if (!redeemed.valid || redeemed.ticket === null) {
      fail(record, "ticket", `Ticket validation failed: ${redeemed.reason}`);
      return finish(null);
    }
    const ticket = redeemed.ticket;
    describeTicket(record, ticket);
    // Checked again: the world may have been reloaded since the look.
    const world = this.parts.world();
    const checked = refusalOf(ticket, executor, world);
    if (!checked.ok) {
      fail(record, checked.stage, checked.error);
      return finish(checked.action);
    }
    const action = checked.action;
    const ctx: ExecutionContext = {
      action,
      target: world.targets.get(ticket.target) ?? null,
      targetId: ticket.target,
      params: ticket.params,
      credential: null,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };

    try {
      if (provider?.required(action)) {
        try {
          credential = await provider.acquire(action, ticket, token);
        } catch (err) {
          fail(record, "credentials", `Credential resolution failed: ${messageOf(err)}`);
          return finish(action);
        }
        secrets = provider.secretsFor?.(credential) ?? [];
        record.credentialId = credential.id;
        ctx.credential = { type: credential.type, payload: credential.payload };
      }
      return await this.execute(ctx, record, executor, finish, secrets);
    } finally {
      // Only when something threw before `finish`: the credential never outlives the run.
      await revoke();
    }
  }

  /**
   * What `run` would do, without redeeming the ticket or touching anything: the ticket is only
   * verified, and the executor describes the exact calls (argv, API requests).
   */
  async dryRun(token: string, options: RunOptions): Promise<DryRun> {
    const checked = await this.parts.validator.verify(token, {
      ...(options.params !== undefined ? { expectedParams: options.params } : {}),
    });
    if (!checked.valid || checked.ticket === null)
      return { valid: false, reason: checked.reason, used: checked.used, steps: [] };
    const ticket = checked.ticket;
    const world = this.parts.world();
    const action = world.actions.get(ticket.action)?.def;
    if (action === undefined)
      return {
        valid: false,
        reason: `Action not found in registry: ${ticket.action}`,
        used: checked.used,
        steps: [],
      };
    if (!options.executor.supports(action.name)) {
      return {
        valid: false,
        reason: `The ${options.executor.type} executor has no mapping for action: ${action.name}`,
        used: checked.used,
        steps: [],
      };
    }
    const ctx: ExecutionContext = {
      action,
      target: world.targets.get(ticket.target) ?? null,
      targetId: ticket.target,
      params: ticket.params,
      credential: null,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
    const steps = [
      ...(this.parts.credentials?.required(action)
        ? [`credentials: ${action.credentials?.type} from the vault, scoped to this ticket`]
        : []),
      ...action.prechecks.map((p) => `precheck ${p.name}${p.enforce ? " (enforced)" : ""}: ${p.description}`),
      ...options.executor.describe(ctx),
    ];
    return { valid: true, reason: checked.reason, used: checked.used, steps, ticket };
  }

  /** Prechecks, states and the action itself; always ends in `finish`. */
  private async execute(
    ctx: ExecutionContext,
    record: ExecutionRecord,
    executor: Executor,
    finish: (a: ActionDef | null) => Promise<ExecutionResult>,
    secrets: readonly string[],
  ): Promise<ExecutionResult> {
    let prechecks: PrecheckResult[];
    try {
      prechecks = await executor.runPrechecks(ctx);
    } catch (err) {
      fail(record, "prechecks", `Precheck error: ${messageOf(err)}`);
      return finish(ctx.action);
    }
    record.prechecks = prechecks;
    const blocking = prechecks.find((p) => p.enforced && !p.passed);
    if (blocking !== undefined) {
      fail(record, "prechecks", `Precheck failed: ${blocking.name}: ${blocking.message}`, "failure");
      return finish(ctx.action);
    }
    const captureStarted = this.clock();
    const before = await captureQuietly(executor, ctx);
    record.beforeState = before.state;
    if (before.error !== null) record.captureErrors.before = before.error;
    const outcome = await executor
      .execute({ ...ctx, signal: AbortSignal.timeout(ctx.timeoutMs + ABORT_GRACE_MS) })
      .catch((err: unknown) => ({
        status: "error" as const,
        output: "",
        error: `Executor error: ${messageOf(err)}`,
        durationMs: 0,
        outputIsSecret: false,
      }));
    Object.assign(record, {
      status: outcome.status,
      output: outcome.output,
      error: outcome.error,
      outputIsSecret: outcome.outputIsSecret === true,
      stage: outcome.status === "success" ? "completed" : "execute",
    });
    // After a failure or a timeout too: the action may have been partly done, and the
    // after-state is how the audit shows it.
    const after = await captureQuietly(executor, ctx);
    record.afterState = after.state;
    if (after.error !== null) record.captureErrors.after = after.error;
    scrubRecord(record, secrets);
    await this.parts.audit.append(
      stateCaptureEvent({
        action: record.action,
        target: record.target,
        caller: record.caller,
        auditId: record.auditId,
        before: record.beforeState,
        after: record.afterState,
        diff: diffState(record.beforeState, record.afterState),
        captureDurationMs: this.clock() - captureStarted,
        declared: ctx.action.state_fields.map((f) => f.name),
        source: "runner",
        status: record.status,
        errors: record.captureErrors,
      }),
    );
    return finish(ctx.action);
  }

  private emptyRecord(token: string, executorType: string): ExecutionRecord {
    return {
      status: "error",
      action: claimed(token, "action"),
      target: claimed(token, "target"),
      caller: claimed(token, "caller"),
      auditId: "",
      ticketNonce: null,
      params: {},
      sensitiveParams: [],
      output: "",
      outputIsSecret: false,
      error: null,
      durationMs: 0,
      executorType,
      stage: "ticket",
      prechecks: [],
      beforeState: {},
      afterState: {},
      credentialId: null,
      credentialRevoked: null,
      credentialError: null,
      captureErrors: {},
    };
  }
}

/**
 * Replaces the credential's secret strings wherever the record quotes them (an executor's output,
 * an error echoing a URL or header, a precheck message, captured state): the audit log, the
 * shippers and the caller see `[REDACTED]`.
 */
function scrubRecord(record: ExecutionRecord, secrets: readonly string[]): void {
  if (secrets.length === 0) return;
  record.output = scrubSecrets(record.output, secrets);
  record.error = record.error === null ? null : scrubSecrets(record.error, secrets);
  record.prechecks = scrubSecrets(record.prechecks, secrets);
  record.beforeState = scrubSecrets(record.beforeState, secrets);
  record.afterState = scrubSecrets(record.afterState, secrets);
  record.captureErrors = scrubSecrets(record.captureErrors, secrets);
  if (record.credentialError !== null) record.credentialError = scrubSecrets(record.credentialError, secrets);
}

type Runnable =
  | { ok: true; action: ActionDef }
  | { ok: false; stage: ExecutionRecord["stage"]; error: string; action: ActionDef | null };

/** Whether a valid ticket can run with this executor, and why not. */
function refusalOf(ticket: VerifiedTicket, executor: Executor, world: World): Runnable {
  const action = world.actions.get(ticket.action)?.def ?? null;
  if (!ticket.params_complete) {
    const names = ticket.redacted_params.join(", ");
    return {
      ok: false,
      stage: "ticket",
      error: `Parameters ${names} are sensitive: supply them (they are checked against the ticket's digest)`,
      action,
    };
  }
  if (action === null)
    return { ok: false, stage: "action", error: `Action not found in registry: ${ticket.action}`, action };
  if (!executor.supports(action.name)) {
    return {
      ok: false,
      stage: "action",
      error: `The ${executor.type} executor has no mapping for action: ${action.name}`,
      action,
    };
  }
  return { ok: true, action };
}

/** The record names what the (verified) ticket names. */
function describeTicket(record: ExecutionRecord, t: VerifiedTicket): void {
  Object.assign(record, { action: t.action, target: t.target, caller: t.caller, auditId: t.audit_id });
  record.ticketNonce = t.nonce;
  record.params = t.params;
  record.sensitiveParams = t.redacted_params;
}

function fail(
  record: ExecutionRecord,
  stage: ExecutionRecord["stage"],
  error: string,
  status: ExecutionRecord["status"] = "error",
): void {
  Object.assign(record, { status, stage, error });
}

/** State capture is evidence, not a gate: a failure to read state is `{}` plus the reason. */
async function captureQuietly(
  executor: Executor,
  ctx: ExecutionContext,
): Promise<{ state: Record<string, unknown>; error: string | null }> {
  try {
    return { state: await executor.captureState(ctx), error: null };
  } catch (err) {
    return { state: {}, error: messageOf(err) };
  }
}

/** What an unverified ticket claims, for the record of a refused run (marked as a claim). */
function claimed(token: string, field: "action" | "target" | "caller"): string {
  try {
    const value = decodeJwt(token)[field];
    return typeof value === "string" ? `unverified:${value.slice(0, 100)}` : "unknown";
  } catch {
    return "unknown";
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
