/**
 * The AWS executor: the 13 shipped AWS actions through the AWS SDK v3 (loaded on first use).
 *
 * - Every call runs under `ctx.timeoutMs` (an abort signal on each request, the SDK's socket
 *   timeouts, and a race that returns on time whatever the SDK does) and `ctx.signal`.
 * - Credentials come from the resolved credential (`access_key_id`/`secret_access_key`/
 *   `session_token`, or `profile_name`; optional `region` and `endpoint`) or, when the action ran
 *   without one, from the standard AWS environment. A credential that cannot be used is an error,
 *   never a silent fall-back to ambient credentials.
 * - AWS errors are `failure` (`AWS API error: <code>: <message>`); the deadline is `timeout`;
 *   anything else is `error`. Output is an allow-listed summary of the response, truncated, with
 *   sensitive params and credential secrets scrubbed; Lambda payloads, environment values and S3
 *   object bodies never appear in it.
 * - Captured state uses the names of the action's `state_fields`.
 */

import type { ExecutionContext, Executor, ExecutorResult, PrecheckResult } from "../types.js";
import { EC2_ACTIONS } from "./ec2.js";
import { ECS_ACTIONS } from "./ecs.js";
import { AwsExecutorError, classify } from "./errors.js";
import { IAM_ACTIONS } from "./iam.js";
import { LAMBDA_ACTIONS } from "./lambda.js";
import { DEFAULT_MAX_OUTPUT_CHARS, jsonSafe, render, scrub } from "./output.js";
import { ParamReader } from "./params.js";
import { S3_ACTIONS } from "./s3.js";
import { AwsSession, type ClientSettings, Deadline } from "./session.js";
import type { AwsAction, PreparedAction } from "./spec.js";

export interface AwsExecutorOptions {
  /** Region when neither `params.region` nor the credential names one (then `AWS_REGION`). */
  region?: string;
  /** A custom endpoint for every service (moto, LocalStack, a VPC endpoint). The credential's wins. */
  endpoint?: string;
  /** S3 path-style addressing; defaults to true when a custom endpoint is set. */
  forcePathStyle?: boolean;
  /** SDK attempts per call (default 3); all of them fit in the timeout. */
  maxAttempts?: number;
  /** Output length cap (default 4000 characters). */
  maxOutputChars?: number;
  /**
   * Return the Lambda invoke response payload as the output, flagged `outputIsSecret` (the runner
   * must keep it out of the audit log). Default false: the output is a summary without it.
   */
  returnInvokePayload?: boolean;
}

export const AWS_ACTIONS: Readonly<Record<string, AwsAction>> = Object.freeze({
  ...EC2_ACTIONS,
  ...ECS_ACTIONS,
  ...LAMBDA_ACTIONS,
  ...S3_ACTIONS,
  ...IAM_ACTIONS,
});

const DEFAULT_TIMEOUT_MS = 300_000;
const SECRET_PAYLOAD_KEY = /secret|token|password|access_key/i;

function timeoutOf(ctx: ExecutionContext): number {
  const t = ctx.timeoutMs;
  return Number.isFinite(t) && t > 0 ? Math.ceil(t) : DEFAULT_TIMEOUT_MS;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export class AwsExecutor implements Executor {
  readonly type = "aws";

  constructor(private readonly options: AwsExecutorOptions = {}) {}

  supports(action: string): boolean {
    return Object.hasOwn(AWS_ACTIONS, action);
  }

  /** The state keys this executor can capture for `action` (a superset of its `state_fields`). */
  stateFields(action: string): readonly string[] {
    return this.supports(action) ? (AWS_ACTIONS[action]?.stateFields ?? []) : [];
  }

  async execute(ctx: ExecutionContext): Promise<ExecutorResult> {
    const started = performance.now();
    const durationMs = () => Math.max(0, Math.round(performance.now() - started));
    const secrets = this.secrets(ctx, null);
    let prepared: PreparedAction | null = null;
    let session: AwsSession | null = null;
    try {
      prepared = this.prepare(ctx);
      secrets.push(...prepared.secrets);
      session = this.open(ctx);
      const outcome = await prepared.execute(session, {
        action: ctx.action,
        returnInvokePayload: this.options.returnInvokePayload === true,
      });
      const max = this.options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
      // A secret output (the invoke response, on request) is the caller's to see and the runner's
      // to keep out of the audit log: only credential secrets are scrubbed from it.
      const secret = outcome.outputIsSecret === true;
      const output = render(outcome.output, max, secret ? this.credentialSecrets(ctx) : secrets);
      const details = { ...this.details(prepared, session), ...(jsonSafe(outcome.details ?? {}) as object) };
      return {
        status: outcome.failure === undefined ? "success" : "failure",
        output,
        error: outcome.failure === undefined ? null : scrub(outcome.failure, secrets),
        ...(secret ? { outputIsSecret: true } : {}),
        durationMs: durationMs(),
        details,
      };
    } catch (err) {
      const c = classify(err);
      let message = c.message;
      if (
        c.status === "timeout" &&
        prepared !== null &&
        session?.calls.includes(prepared.operation) === true
      ) {
        message += `; ${prepared.operation} may still have taken effect`;
      }
      return {
        status: c.status,
        output: "",
        error: scrub(message, secrets),
        durationMs: durationMs(),
        details: {
          ...(prepared !== null ? this.details(prepared, session) : {}),
          ...(c.awsCode !== undefined ? { aws_error_code: c.awsCode } : {}),
          ...(c.httpStatus !== undefined ? { http_status: c.httpStatus } : {}),
          ...(c.requestId !== undefined ? { request_id: c.requestId } : {}),
        },
      };
    } finally {
      session?.close();
    }
  }

  /**
   * The resource's state under the action's `state_fields` names. Throws an `AwsExecutorError`
   * (code `API`, `TIMEOUT`, `INVALID_PARAMS`, …) when it cannot be read; the runner records why.
   */
  async captureState(ctx: ExecutionContext): Promise<Record<string, unknown>> {
    const secrets = this.secrets(ctx, null);
    let session: AwsSession | null = null;
    try {
      const prepared = this.prepare(ctx);
      secrets.push(...prepared.secrets);
      session = this.open(ctx);
      return jsonSafe(await prepared.state(session)) as Record<string, unknown>;
    } catch (err) {
      const c = classify(err);
      const code = c.status === "failure" ? "API" : c.status === "timeout" ? "TIMEOUT" : errorCode(err);
      throw new AwsExecutorError(code, `State capture failed: ${scrub(c.message, secrets)}`, {
        cause: err,
        ...(c.awsCode !== undefined ? { awsCode: c.awsCode } : {}),
        ...(c.httpStatus !== undefined ? { httpStatus: c.httpStatus } : {}),
      });
    } finally {
      session?.close();
    }
  }

  /**
   * Runs the action's declared prechecks, all under one deadline. A precheck that cannot be
   * evaluated (an AWS error, a timeout, no implementation) fails; `enforced` is copied from the
   * action definition. Never throws.
   */
  async runPrechecks(ctx: ExecutionContext): Promise<PrecheckResult[]> {
    const defs = ctx.action.prechecks;
    if (defs.length === 0) return [];
    const secrets = this.secrets(ctx, null);
    const failAll = (message: string) =>
      defs.map((d) => ({
        name: d.name,
        passed: false,
        message: scrub(message, secrets),
        enforced: d.enforce,
      }));
    let prepared: PreparedAction;
    let session: AwsSession;
    try {
      prepared = this.prepare(ctx);
      secrets.push(...prepared.secrets);
      session = this.open(ctx);
    } catch (err) {
      return failAll(`Could not check: ${classify(err).message}`);
    }
    const env = { action: ctx.action, target: ctx.target, targetId: ctx.targetId };
    try {
      return await Promise.all(
        defs.map(async (d): Promise<PrecheckResult> => {
          const pc = prepared.precheck(d.name);
          if (pc === null) {
            const message = `No AWS implementation for precheck '${d.name}'`;
            return { name: d.name, passed: false, message, enforced: d.enforce };
          }
          try {
            const r = await pc.run(session, env);
            return {
              name: d.name,
              passed: r.passed,
              message: scrub(r.message, secrets),
              enforced: d.enforce,
            };
          } catch (err) {
            const message = scrub(`Could not check: ${classify(err).message}`, secrets);
            return { name: d.name, passed: false, message, enforced: d.enforce };
          }
        }),
      );
    } finally {
      session.close();
    }
  }

  /** Dry-run: the calls prechecks, state capture and execution would make, sensitive values redacted. */
  describe(ctx: ExecutionContext): string[] {
    const prepared = this.prepare(ctx);
    const secrets = [...this.secrets(ctx, null), ...prepared.secrets];
    const json = (v: unknown) => scrub(JSON.stringify(v), secrets);
    let where: string;
    try {
      const s = this.settings(ctx);
      const creds =
        s.credentials !== undefined
          ? "the resolved credential (static keys)"
          : s.profile !== undefined
            ? `the resolved credential (profile ${s.profile})`
            : "the standard AWS environment";
      where = `in ${s.region} at ${s.endpoint ?? "the default AWS endpoint"}, credentials from ${creds}`;
    } catch (err) {
      where = `not runnable: ${classify(err).message}`;
    }
    const lines = [`aws ${ctx.action.name} ${where}`];
    for (const d of ctx.action.prechecks) {
      const pc = prepared.precheck(d.name);
      const mode = d.enforce ? "enforced" : "advisory";
      const calls =
        pc === null ? "no AWS implementation (fails)" : pc.calls.join(", ") || "local check, no AWS call";
      lines.push(`precheck ${d.name} (${mode}): ${calls}`);
    }
    lines.push(`state before and after: ${prepared.stateOperation} ${json(prepared.stateRequest)}`);
    lines.push(`execute: ${prepared.operation} ${json(prepared.request)}`);
    return lines;
  }

  private prepare(ctx: ExecutionContext): PreparedAction {
    const name = ctx.action.name;
    const action = Object.hasOwn(AWS_ACTIONS, name) ? AWS_ACTIONS[name] : undefined;
    if (action === undefined) {
      throw new AwsExecutorError("UNSUPPORTED_ACTION", `No AWS API mapping for action: ${name}`);
    }
    // A param the action does not declare would be silently ignored: refuse it instead.
    const declared = new Set(ctx.action.parameters.map((p) => p.name));
    for (const [k, v] of Object.entries(ctx.params)) {
      if (!declared.has(k) && v !== undefined) {
        throw new AwsExecutorError(
          "INVALID_PARAMS",
          `Invalid parameter '${k}': not declared by action '${name}'`,
        );
      }
    }
    return action.prepare(new ParamReader(ctx.params));
  }

  private open(ctx: ExecutionContext): AwsSession {
    const settings = this.settings(ctx);
    return new AwsSession(settings, new Deadline(timeoutOf(ctx), ctx.signal));
  }

  /** Region, endpoint and credentials for this call; throws `CREDENTIALS` / `CONFIG`. */
  settings(ctx: ExecutionContext): ClientSettings {
    const cred = ctx.credential;
    const payload = cred?.payload ?? {};
    if (cred !== null && cred.type !== "aws") {
      throw new AwsExecutorError(
        "CREDENTIALS",
        `A credential of type '${cred.type}' cannot be used by the AWS executor`,
      );
    }
    const out: ClientSettings = {
      region: "",
      forcePathStyle: false,
      maxAttempts: Math.max(1, Math.floor(this.options.maxAttempts ?? 3)),
    };
    if (cred !== null) {
      const keyId = str(payload["access_key_id"]);
      const secret = str(payload["secret_access_key"]);
      const profile = str(payload["profile_name"]) ?? str(payload["profile"]);
      if (keyId !== undefined) {
        if (secret === undefined) {
          throw new AwsExecutorError(
            "CREDENTIALS",
            "The aws credential has access_key_id but no secret_access_key",
          );
        }
        const token = str(payload["session_token"]);
        out.credentials = {
          accessKeyId: keyId,
          secretAccessKey: secret,
          ...(token ? { sessionToken: token } : {}),
        };
      } else if (profile !== undefined) {
        out.profile = profile;
      } else {
        // Never fall back to ambient credentials: they are not the scoped ones the ticket got.
        throw new AwsExecutorError(
          "CREDENTIALS",
          "The aws credential has neither access_key_id/secret_access_key nor profile_name",
        );
      }
    }
    const region =
      str(ctx.params["region"]) ??
      str(payload["region"]) ??
      this.options.region ??
      str(process.env["AWS_REGION"]) ??
      str(process.env["AWS_DEFAULT_REGION"]);
    if (region === undefined)
      throw new AwsExecutorError("CONFIG", "No AWS region: pass the region parameter");
    out.region = region;
    const endpoint = str(payload["endpoint"]) ?? this.options.endpoint;
    if (endpoint !== undefined) {
      let ok = false;
      try {
        const u = new URL(endpoint);
        ok = (u.protocol === "http:" || u.protocol === "https:") && u.username === "" && u.password === "";
      } catch {
        ok = false;
      }
      if (!ok)
        throw new AwsExecutorError("CONFIG", "The AWS endpoint is not an http(s) URL without user info");
      out.endpoint = endpoint;
    }
    out.forcePathStyle = this.options.forcePathStyle ?? endpoint !== undefined;
    return out;
  }

  /** Values never to show: sensitive params, credential secrets, and the action's own. */
  private secrets(ctx: ExecutionContext, extra: string[] | null): string[] {
    const out: string[] = extra ?? [];
    for (const p of ctx.action.parameters) {
      const v = ctx.params[p.name];
      if (p.sensitive && typeof v === "string") out.push(v);
    }
    out.push(...this.credentialSecrets(ctx));
    return out;
  }

  private credentialSecrets(ctx: ExecutionContext): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(ctx.credential?.payload ?? {})) {
      if (typeof v === "string" && SECRET_PAYLOAD_KEY.test(k)) out.push(v);
    }
    return out;
  }

  private details(prepared: PreparedAction, session: AwsSession | null): Record<string, unknown> {
    return {
      service: prepared.service,
      operation: prepared.operation,
      ...(session !== null ? { region: session.settings.region, calls: [...session.calls] } : {}),
      ...(session?.settings.endpoint !== undefined ? { endpoint: session.settings.endpoint } : {}),
    };
  }
}

function errorCode(err: unknown): AwsExecutorError["code"] {
  return err instanceof AwsExecutorError ? err.code : "CALL_FAILED";
}
