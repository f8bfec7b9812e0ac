/**
 * `RemoteAgentSafe`: the SDK against a sidecar (`agent-safe serve`), over the global `fetch`.
 * Same methods, same results and same typed errors as the in-process `AgentSafe`; this process
 * holds no keys and loads no policy. `new AgentSafe({ url, token })` is this client behind the
 * `AgentSafe` name.
 *
 * Differences, by design: the caller is the bearer token (an identity object proves nothing over
 * the wire and is refused), and the time is the server's (a what-if `timestamp` is refused).
 * A DENY is a decision, never an exception; an exception means no decision was made
 * (`AgentSafeHttpError` with the status and the server's `{error, message}`, or `AgentSafeError`
 * when the sidecar cannot be reached or answers something that is not the API).
 */
import { ApprovalError, type ApprovalErrorCode } from "../approvals/errors.js";
import type { ActorInput } from "../approvals/identity.js";
import type { ApprovalOutcome, ApprovalWaitResult, ListOptions, WaitOptions } from "../approvals/service.js";
import type { ApprovalRequest } from "../approvals/types.js";
import { pyJsonDumps } from "../codec/python-json.js";
import type { PyValue } from "../core/pyvalue.js";
import type { DelegationRequest, DelegationToken } from "../identity/delegation.js";
import { DelegationError, type IdentityErrorCode } from "../identity/errors.js";
import type { Decision } from "../pdp/decision.js";
import type { ExecutionResult } from "../runner/runner.js";
import type { TicketExpectations, TicketResult } from "../tickets/validator.js";
import {
  type AgentSafeClient,
  AgentSafeError,
  AgentSafeHttpError,
  type CheckOptions,
  type PlanOptions,
  type PlanStep,
} from "./client.js";
import type { ExecuteOptions } from "./execution.js";

export interface RemoteAgentSafeOptions {
  /** The sidecar's base URL, e.g. `http://127.0.0.1:8420`. */
  url: string | URL;
  /** The agent's identity token (or a function returning the current one, for refresh); null: none. */
  token?: string | null | (() => string | null | Promise<string | null>);
  /** Per-request timeout in ms (default 10,000). */
  timeoutMs?: number;
  /** A `fetch` to use instead of the global one (tests, proxies). */
  fetch?: typeof fetch;
}

type Body = Record<string, unknown>;

export class RemoteAgentSafe implements AgentSafeClient {
  readonly url: string;
  private readonly token: RemoteAgentSafeOptions["token"];
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: RemoteAgentSafeOptions) {
    if (options === null || typeof options !== "object" || options.url === undefined) {
      throw new AgentSafeError("RemoteAgentSafe needs { url } (and usually { token })");
    }
    let base: URL;
    try {
      base = new URL(String(options.url));
    } catch {
      throw new AgentSafeError(`Invalid sidecar URL: ${String(options.url)}`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new AgentSafeError(`The sidecar URL must be http:// or https://, got ${base.protocol}`);
    }
    this.url = base.href.replace(/\/+$/, "");
    this.token = options.token ?? null;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  async check(action: string, options: CheckOptions = {}): Promise<Decision> {
    noWhatIf(options.timestamp);
    const body = {
      ...stepBody(action, options),
      ...(options.correlationId ? { correlation_id: options.correlationId } : {}),
    };
    return (await this.post("/v1/check", body, await this.bearer(options.caller))) as Decision;
  }

  async checkPlan(steps: readonly PlanStep[], options: PlanOptions = {}): Promise<Decision[]> {
    noWhatIf(options.timestamp);
    if (steps.length === 0) return [];
    const callers = new Set(steps.map((s) => s.caller));
    if (callers.size > 1) {
      throw new AgentSafeError(
        "A remote plan is decided for one caller: give every step the same caller (or none)",
      );
    }
    for (const s of steps) noWhatIf(s.timestamp);
    const correlation = steps.find((s) => s.correlationId)?.correlationId;
    const body = {
      steps: steps.map((s) => stepBody(s.action, s)),
      ...(correlation ? { correlation_id: correlation } : {}),
    };
    const out = (await this.post("/v1/check-plan", body, await this.bearer(steps[0]!.caller))) as {
      decisions?: unknown;
    };
    if (!Array.isArray(out.decisions)) throw new AgentSafeError("The sidecar's answer has no decisions");
    return out.decisions as Decision[];
  }

  verifyTicket(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    return this.ticket("verify", token, expectations);
  }

  redeemTicket(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    return this.ticket("redeem", token, expectations);
  }

  async delegate(parentToken: string, request: DelegationRequest): Promise<DelegationToken> {
    const body: Body = { child_agent_id: request.childAgentId };
    if (request.childName !== undefined) body.child_name = request.childName;
    if (request.roles !== undefined) body.roles = [...request.roles];
    if (request.groups !== undefined) body.groups = [...request.groups];
    if (request.ttl !== undefined) body.ttl_seconds = request.ttl;
    if (request.maxDepth !== undefined) body.max_depth = request.maxDepth;
    try {
      return (await this.post("/v1/delegations", body, parentToken)) as DelegationToken;
    } catch (err) {
      // The same typed error as in-process: DelegationError with the reason and its code.
      if (err instanceof AgentSafeHttpError && (err.status === 403 || err.status === 401)) {
        throw new DelegationError(err.message, (err.detail ?? "invalid_request") as IdentityErrorCode);
      }
      throw err;
    }
  }

  /** Nothing to release: each call is one request (keep-alive is the platform's). */
  async close(): Promise<void> {}

  async getApproval(requestId: string): Promise<ApprovalRequest | null> {
    try {
      return (await this.approvalCall("GET", `/${encodeURIComponent(requestId)}`, null)) as ApprovalRequest;
    } catch (err) {
      if (err instanceof ApprovalError && err.code === "not_found") return null;
      throw err;
    }
  }

  async listApprovals(options: ListOptions = {}): Promise<ApprovalRequest[]> {
    const q = new URLSearchParams();
    if (options.status !== undefined) q.set("status", options.status);
    if (options.limit !== undefined) q.set("limit", String(options.limit));
    const query = q.size > 0 ? `?${q}` : "";
    return ((await this.approvalCall("GET", query, null)) as { requests: ApprovalRequest[] }).requests;
  }

  /** As the bearer `approver` (an identity token; the client's own when omitted). */
  approve(requestId: string, approver?: ActorInput, reason?: string): Promise<ApprovalOutcome> {
    return this.resolveAs("approve", requestId, approver, reason);
  }

  deny(requestId: string, denier?: ActorInput, reason?: string): Promise<ApprovalOutcome> {
    return this.resolveAs("deny", requestId, denier, reason);
  }

  /** The requester is the client's token (or `requester`); the server caps the wait at 60 s. */
  async waitForApproval(requestId: string, options: WaitOptions = {}): Promise<ApprovalWaitResult> {
    const timeout = options.timeout ?? 30;
    const body: Body = { timeout };
    const bearer = await this.actor(options.requester);
    return (await this.approvalCall(
      "POST",
      `/${encodeURIComponent(requestId)}/wait`,
      body,
      bearer,
      (Math.min(timeout, 60) + 10) * 1000,
    )) as ApprovalWaitResult;
  }

  /**
   * Runs the ticket on the sidecar, with the executor and settings of its `runner:` section (a
   * client may name one of `runner.executors`; endpoints and kubeconfigs are the deployment's).
   */
  async execute(ticket: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    if (typeof options.executor === "object" || options.executorSettings !== undefined)
      throw new AgentSafeError(
        "A remote client names an executor; its settings (endpoints, kubeconfig) are the sidecar's runner: section",
      );
    const body: Body = { token: ticket };
    if (options.executor !== undefined) body.executor = options.executor;
    if (options.params !== undefined) body.params = options.params;
    // The run may take the deployment's whole execution timeout: wait for it.
    const wait = Math.max(this.timeoutMs, options.timeoutMs ?? 310_000);
    return (await this.post("/v1/execute", body, await this.bearer(undefined), wait)) as ExecutionResult;
  }

  private async resolveAs(
    act: "approve" | "deny",
    requestId: string,
    who: ActorInput,
    reason: string | undefined,
  ): Promise<ApprovalOutcome> {
    const body: Body = reason === undefined ? {} : { reason };
    const path = `/${encodeURIComponent(requestId)}/${act}`;
    return (await this.approvalCall("POST", path, body, await this.actor(who))) as ApprovalOutcome;
  }

  /** An identity for approvals: a token string, or the client's own token. */
  private async actor(who: ActorInput): Promise<string | null> {
    if (who === undefined) return this.bearer(undefined);
    if (who === null || typeof who === "string") return who;
    throw new AgentSafeError(
      "A remote client cannot act as an identity object (it proves nothing over the wire): present an identity token",
    );
  }

  /** An approvals call; a refusal is the same `ApprovalError` (message and code) as in-process. */
  private async approvalCall(
    method: "GET" | "POST",
    suffix: string,
    body: Body | null,
    bearer?: string | null,
    timeoutMs?: number,
  ): Promise<unknown> {
    try {
      const who = bearer === undefined ? await this.bearer(undefined) : bearer;
      return await this.call(method, `/v1/approvals${suffix}`, body, who, timeoutMs);
    } catch (err) {
      if (err instanceof AgentSafeHttpError && err.detail !== undefined && err.status !== 400)
        throw new ApprovalError(err.message, err.detail as ApprovalErrorCode);
      if (err instanceof AgentSafeHttpError && err.status === 404)
        throw new ApprovalError(err.message, "not_found");
      throw err;
    }
  }

  private async ticket(
    mode: "verify" | "redeem",
    token: string,
    e: TicketExpectations,
  ): Promise<TicketResult> {
    const body: Body = { token };
    if (e.expectedAction != null) body.expected_action = e.expectedAction;
    if (e.expectedTarget != null) body.expected_target = e.expectedTarget;
    if (e.expectedParams !== undefined) body.expected_params = e.expectedParams;
    return (await this.post(`/v1/tickets/${mode}`, body, await this.bearer(undefined))) as TicketResult;
  }

  /** This call's bearer: the step's caller when given (a token string, or null for none), else the client's. */
  private async bearer(caller: CheckOptions["caller"]): Promise<string | null> {
    if (caller === undefined)
      return typeof this.token === "function" ? await this.token() : (this.token ?? null);
    if (caller === null || typeof caller === "string") return caller;
    throw new AgentSafeError(
      "A remote client cannot pass an identity object as the caller (it proves nothing over the wire): " +
        "present an identity token",
    );
  }

  private post(path: string, body: Body, bearer: string | null, timeoutMs?: number): Promise<unknown> {
    return this.call("POST", path, body, bearer, timeoutMs);
  }

  private async call(
    method: "GET" | "POST",
    path: string,
    body: Body | null,
    bearer: string | null,
    timeoutMs = this.timeoutMs,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== null) headers["content-type"] = "application/json";
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.url}${path}`, {
        method,
        headers,
        ...(body !== null ? { body: encode(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const why = (err as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : causeOf(err);
      throw new AgentSafeError(`Cannot reach the Agent-Safe sidecar at ${this.url}: ${why}`, { cause: err });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AgentSafeError(
        `The sidecar at ${this.url} answered ${response.status} with a body that is not JSON`,
      );
    }
    if (!response.ok) {
      const e = (parsed ?? {}) as { error?: unknown; message?: unknown; code?: unknown };
      throw new AgentSafeHttpError(
        response.status,
        typeof e.error === "string" ? e.error : "http_error",
        typeof e.message === "string" ? e.message : `HTTP ${response.status}`,
        typeof e.code === "string" ? e.code : undefined,
      );
    }
    return parsed;
  }
}

function stepBody(action: string, o: CheckOptions): Body {
  const body: Body = { action };
  if (o.target !== undefined) body.target = o.target;
  if (o.params !== undefined) body.params = o.params;
  if (o.ticketId !== undefined) body.ticket_id = o.ticketId;
  return body;
}

function noWhatIf(timestamp: Date | string | undefined): void {
  if (timestamp !== undefined) {
    throw new AgentSafeError(
      "A what-if timestamp is honoured in-process only; the sidecar always decides at its own time",
    );
  }
}

/**
 * The body as Python's `json.dumps` writes it, so that what the server reads is what was given:
 * a `PyFloat` stays `5.0`, a bigint keeps every digit, integer-like keys keep their order.
 * Values JSON has no form for (undefined, a Date) fall back to `JSON.stringify`'s treatment.
 */
function encode(body: Body): string {
  try {
    return pyJsonDumps(body as PyValue);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
