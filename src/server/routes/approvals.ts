/**
 * The approval routes: read requests, approve or deny as the bearer, and the requester's wait for
 * the outcome (and its one ticket). The bearer is the only identity: the sidecar's approval
 * service is untrusted (`trusted: false`), so approvers and the requester prove who they are
 * with identity tokens, exactly as on the command line. A refusal is an HTTP error whose `code`
 * is the `ApprovalError` code (`separation_of_duties`, `role`, `expired`, …), so a remote SDK
 * raises the same typed error as an in-process one.
 */
import { ApprovalError, type ApprovalErrorCode } from "../../approvals/errors.js";
import type { ApprovalService } from "../../approvals/service.js";
import { APPROVAL_STATUSES, type ApprovalStatus } from "../../approvals/types.js";
import type { SidecarContext } from "../context.js";
import { badRequest, type ErrorCode, HttpError } from "../errors.js";
import type { RouteDef, RouteGroup, RouteInput } from "../route.js";

const MAX_WAIT_SECONDS = 60;
const DEFAULT_WAIT_SECONDS = 30;

const REFUSALS = {
  400: { description: "Malformed body or id", schema: "Error" },
  401: { description: "No valid identity token", schema: "Error" },
  403: {
    description: "Refused: separation of duties, a missing approver role, not the requester",
    schema: "Error",
  },
  404: { description: "No such request", schema: "Error" },
  409: { description: "The request is expired or resolved, or changed under it", schema: "Error" },
  503: {
    description: "The approval store or the audit log is unavailable; nothing changed",
    schema: "Error",
  },
} as const;

const STATUS_OF: Record<ApprovalErrorCode, [number, ErrorCode]> = {
  not_found: [404, "not_found"],
  unidentified: [401, "unauthenticated"],
  separation_of_duties: [403, "forbidden"],
  role: [403, "forbidden"],
  duplicate_approver: [403, "forbidden"],
  not_requester: [403, "forbidden"],
  expired: [409, "conflict"],
  resolved: [409, "conflict"],
  policy_changed: [409, "conflict"],
  params_changed: [409, "conflict"],
  ticket_unavailable: [409, "conflict"],
  invalid_request: [400, "invalid_request"],
  unavailable: [503, "state_unavailable"],
  config: [501, "not_configured"],
};

/** An `ApprovalError` as the HTTP error a remote client turns back into it. */
export function approvalHttpError(err: ApprovalError): HttpError {
  const [status, code] = STATUS_OF[err.code];
  return new HttpError(status, code, err.message, {}, err.code);
}

async function service(ctx: SidecarContext): Promise<ApprovalService> {
  const s = await ctx.composed.approvals();
  if (s === null) throw new HttpError(501, "not_configured", "Approvals are not configured");
  return s;
}

function idOf(input: RouteInput): string {
  const id = (input.request.params as { id?: unknown }).id;
  if (typeof id !== "string" || id.length > 64) throw badRequest("A request id (apr-…) is expected");
  return id;
}

async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApprovalError) throw approvalHttpError(err);
    throw err;
  }
}

export const approvalRoutes: RouteGroup = (ctx) => [
  {
    method: "GET",
    url: "/v1/approvals",
    operationId: "listApprovals",
    summary: "Approval requests, oldest first (pending unless ?status= says otherwise)",
    description: "Query: `status` (pending, approved, denied, expired or all) and `limit` (default 100).",
    tags: ["approvals"],
    auth: "identity",
    responses: { 200: { description: "The requests", schema: "ApprovalList" }, ...REFUSALS },
    handler: async ({ request }) => {
      const q = request.query as { status?: unknown; limit?: unknown };
      const status = q.status ?? "pending";
      if (status !== "all" && !APPROVAL_STATUSES.includes(status as ApprovalStatus))
        throw badRequest(`status: expected one of ${[...APPROVAL_STATUSES, "all"].join(", ")}`);
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest("limit: 1 to 1000");
      const s = await service(ctx);
      const requests = await refusing(() => s.list({ status: status as ApprovalStatus | "all", limit }));
      return { body: { requests } };
    },
  },
  {
    method: "GET",
    url: "/v1/approvals/:id",
    operationId: "getApproval",
    summary: "One approval request (its ticket's metadata, never the token)",
    tags: ["approvals"],
    auth: "identity",
    responses: { 200: { description: "The request", schema: "ApprovalRequest" }, ...REFUSALS },
    handler: async (input) => {
      const s = await service(ctx);
      const found = await refusing(() => s.get(idOf(input)));
      if (found === null) throw new HttpError(404, "not_found", `Request ${idOf(input)} not found`);
      return { body: found };
    },
  },
  resolve(ctx, "approve"),
  resolve(ctx, "deny"),
  {
    method: "POST",
    url: "/v1/approvals/:id/wait",
    operationId: "waitForApproval",
    summary: "Wait for the outcome; the requester's first collection gets the ticket",
    description:
      "Waits up to `timeout` seconds (default 30, at most 60). Approved: an ALLOW whose ticket carries " +
      "the token, handed to the requester (the bearer must be it) exactly once; denied or expired: a " +
      "DENY; still pending: REQUIRE_APPROVAL with `timedOut`.",
    tags: ["approvals"],
    auth: "identity",
    body: "ApprovalWaitRequest",
    responses: { 200: { description: "The outcome", schema: "ApprovalWaitResult" }, ...REFUSALS },
    handler: async (input) => {
      const { timeout } = input.body as { timeout?: number };
      const s = await service(ctx);
      const id = idOf(input);
      // A client that hangs up stops the wait (the socket, not the request: a request's own
      // "close" fires as soon as its body has been read).
      const stop = new AbortController();
      const onClose = () => stop.abort();
      const socket = input.request.raw.socket;
      socket.once("close", onClose);
      try {
        const result = await refusing(() =>
          s.waitForApproval(id, {
            timeout: Math.min(timeout ?? DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS),
            requester: input.bearer,
            signal: stop.signal,
          }),
        );
        return { body: result };
      } finally {
        socket.off("close", onClose);
      }
    },
  },
];

function resolve(ctx: SidecarContext, act: "approve" | "deny"): RouteDef {
  return {
    method: "POST",
    url: `/v1/approvals/:id/${act}`,
    operationId: act === "approve" ? "approve" : "deny",
    summary: act === "approve" ? "Approve as the bearer" : "Deny as the bearer",
    description:
      act === "approve"
        ? "The bearer may not be the requester or anyone in its delegation chain, must hold one of the " +
          "rule's approver roles, and counts once towards the quorum. The approval that completes it mints " +
          "the request's one ticket, which only the requester collects (wait)."
        : "An approver holding one of the rule's roles, or the requester withdrawing its own request.",
    tags: ["approvals"],
    auth: "identity",
    body: "ApprovalActRequest",
    responses: { 200: { description: "Recorded", schema: "ApprovalOutcome" }, ...REFUSALS },
    handler: async (input) => {
      const { reason } = input.body as { reason?: string | null };
      const s = await service(ctx);
      const id = idOf(input);
      const outcome = await refusing(() =>
        act === "approve"
          ? s.approve(id, input.bearer, reason ?? null)
          : s.deny(id, input.bearer, reason ?? null),
      );
      return { body: outcome };
    },
  };
}
