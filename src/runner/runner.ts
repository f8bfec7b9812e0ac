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
  release(credential: RunCredential): Promise<void>;
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

export interface ExecutionResult extends Omit<ExecutionRecord, "params"> {
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

export class Runner {
  private readonly clock: () => number;

  constructor(private readonly parts: RunnerParts) {
    this.clock = parts.clock ?? Date.now;
  }

  async run(token: string, options: RunOptions): Promise<ExecutionResult> {
    const started = this.clock();
    const executor = options.executor;
    const record = this.emptyRecord(token, executor.type);
    const finish = async (actionDef: ActionDef | null): Promise<ExecutionResult> => {
      record.durationMs = this.clock() - started;
      await this.parts.audit.append(executionEvent(record, actionDef));
      const { params: _params, ...result } = record;
      return { ...result, executedAt: new Date(started).toISOString() };
    };

    const redeemed = await this.parts.validator.redeem(token, {
      ...(options.params !== undefined ? { expectedParams: options.params } : {}),
    });
    if (!redeemed.valid || redeemed.ticket === null) {
      fail(record, "ticket", `Ticket validation failed: ${redeemed.reason}`);
      return finish(null);
    }
    const ticket = redeemed.ticket;
    Object.assign(record, {
      action: ticket.action,
      target: ticket.target,
      caller: ticket.caller,
      auditId: ticket.audit_id,
      ticketNonce: ticket.nonce,
    });
    record.params = ticket.params;
    const world = this.parts.world();
    const action = world.actions.get(ticket.action)?.def ?? null;
    if (!ticket.params_complete) {
      const names = ticket.redacted_params.join(", ");
      fail(
        record,
        "ticket",
        `Parameters ${names} are sensitive: supply them (they are checked against the ticket's digest)`,
      );
      return finish(action);
    }
    if (action === null) {
      fail(record, "action", `Action not found in registry: ${ticket.action}`);
      return finish(null);
    }
    if (!executor.supports(action.name)) {
      fail(record, "action", `The ${executor.type} executor has no mapping for action: ${action.name}`);
      return finish(action);
    }
    const ctx: ExecutionContext = {
      action,
      target: world.targets.get(ticket.target) ?? null,
      targetId: ticket.target,
      params: ticket.params,
      credential: null,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };

    let credential: RunCredential | null = null;
    try {
      if (this.parts.credentials?.required(action)) {
        try {
          credential = await this.parts.credentials.acquire(action, ticket, token);
        } catch (err) {
          fail(record, "credentials", `Credential resolution failed: ${messageOf(err)}`);
          return finish(action);
        }
        record.credentialId = credential.id;
        ctx.credential = { type: credential.type, payload: credential.payload };
      }
      return await this.execute(ctx, record, executor, finish);
    } finally {
      if (credential !== null && this.parts.credentials !== null) {
        try {
          await this.parts.credentials.release(credential);
          record.credentialRevoked = true;
        } catch {
          record.credentialRevoked = false;
        }
      }
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
    record.beforeState = await captureQuietly(executor, ctx);
    const outcome = await executor
      .execute({ ...ctx, signal: AbortSignal.timeout(ctx.timeoutMs) })
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
    if (outcome.status === "success") record.afterState = await captureQuietly(executor, ctx);
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
    };
  }
}

function fail(
  record: ExecutionRecord,
  stage: ExecutionRecord["stage"],
  error: string,
  status: ExecutionRecord["status"] = "error",
): void {
  Object.assign(record, { status, stage, error });
}

/** State capture is evidence, not a gate: a failure to read state is recorded as `{}`. */
async function captureQuietly(executor: Executor, ctx: ExecutionContext): Promise<Record<string, unknown>> {
  try {
    return await executor.captureState(ctx);
  } catch {
    return {};
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
