/**
 * `POST /v1/check` and `POST /v1/check-plan`: the decision pipeline over HTTP.
 *
 * The caller is the bearer of `Authorization` (handed to the pipeline untrusted: only a token
 * that verifies is an identity) and the time is the server's (`at` is never passed). A caller
 * that does not authenticate gets a DENY decision, `Unauthenticated caller: <why>`, recorded in
 * the audit log like any other, and the response says `WWW-Authenticate: Bearer`. The response
 * is sent only after the decision's audit record is durable; if it cannot be written, no
 * decision is returned (503).
 */
import { AuditError } from "../../audit/errors.js";
import type { Params } from "../../core/types.js";
import type { Decision } from "../../pdp/decision.js";
import type { CheckRequest } from "../../pdp/request.js";
import type { SidecarContext } from "../context.js";
import { badRequest, HttpError } from "../errors.js";
import type { RouteGroup, RouteReply } from "../route.js";
import { FORBIDDEN_FIELDS } from "../schemas.js";

const ERRORS = {
  400: {
    description: "Malformed JSON, wrong types, unknown fields, or a body naming a caller or a time",
    schema: "Error",
  },
  401: { description: "An Authorization header that is not `Bearer <token>`", schema: "Error" },
  413: { description: "The body is over the limit", schema: "Error" },
  415: { description: "The body is not application/json", schema: "Error" },
  422: {
    description:
      "The request cannot be recorded in the audit log (e.g. an integer beyond 2^53), so it is not decided",
    schema: "Error",
  },
  503: {
    description:
      "The decision could not be recorded in the audit log (or the sidecar is stopping), so none was made",
    schema: "Error",
  },
} as const;

export const decisionRoutes: RouteGroup = (ctx) => [
  {
    method: "POST",
    url: "/v1/check",
    operationId: "check",
    summary: "Decide one request",
    description:
      "ALLOW (with an execution ticket when keys are configured), DENY or REQUIRE_APPROVAL, with the " +
      "reason and the rule. An unauthenticated caller is a DENY decision (code `unauthenticated`), not an HTTP error.",
    tags: ["decisions"],
    auth: "caller",
    body: "CheckRequest",
    precheck: (raw) => forbid(raw, ""),
    responses: { 200: { description: "The decision", schema: "Decision" }, ...ERRORS },
    handler: async ({ raw, bearer }) => {
      const body = raw as Record<string, unknown>;
      const decision = await decide(ctx, request(body, bearer), correlation(body));
      return reply(decision, [decision]);
    },
  },
  {
    method: "POST",
    url: "/v1/check-plan",
    operationId: "checkPlan",
    summary: "Decide every step of a plan, in order",
    description:
      "One decision per step, in order, with no short-circuit: a DENY does not stop later steps from " +
      "being decided (and recorded). Every step is decided for the bearer, each at the server's time.",
    tags: ["decisions"],
    auth: "caller",
    body: "CheckPlanRequest",
    precheck: (raw) => {
      forbid(raw, "");
      const steps = (raw as Record<string, unknown>).steps;
      if (Array.isArray(steps)) {
        for (const [i, s] of steps.entries()) forbid(s, `steps[${i}].`);
      }
    },
    responses: {
      200: { description: "The decisions, one per step", schema: "CheckPlanResponse" },
      ...ERRORS,
    },
    handler: async ({ raw, bearer }) => {
      const body = raw as Record<string, unknown>;
      const correlationId = correlation(body);
      const decisions: Decision[] = [];
      for (const step of body.steps as Record<string, unknown>[]) {
        decisions.push(await decide(ctx, request(step, bearer), correlationId));
      }
      return reply({ decisions }, decisions);
    },
  },
];

function forbid(raw: unknown, where: string): void {
  if (raw === null || typeof raw !== "object") return;
  for (const [field, why] of Object.entries(FORBIDDEN_FIELDS)) {
    if (Object.hasOwn(raw, field)) throw badRequest(`${where}${field}: ${why}`);
  }
}

/** The request as the pipeline takes it, from the parsed body (params keep 5.0 a float). */
function request(body: Record<string, unknown>, bearer: string | null): CheckRequest {
  return {
    action: body.action as string,
    target: (body.target as string | null | undefined) ?? null,
    caller: bearer,
    params: (body.params as Params | null | undefined) ?? null,
    ticketId: (body.ticket_id as string | null | undefined) ?? null,
  };
}

function correlation(body: Record<string, unknown>): string | null {
  return (body.correlation_id as string | null | undefined) ?? null;
}

/** One decision through the pipeline, timed and counted; 503 when it cannot be recorded. */
export async function decide(
  ctx: SidecarContext,
  req: CheckRequest,
  correlationId: string | null,
): Promise<Decision> {
  const started = performance.now();
  let decision: Decision;
  try {
    decision = await ctx.pipeline.check(req, { trusted: false, correlationId });
  } catch (err) {
    if (!(err instanceof AuditError)) throw err;
    if (err.code === "INVALID_EVENT") {
      // This request cannot be written down (e.g. an integer beyond 2^53 in params, which
      // canonical JSON cannot carry); the log itself is fine. No record, no decision.
      throw new HttpError(
        422,
        "unrecordable_request",
        `No decision: the request cannot be recorded in the audit log (${err.message})`,
      );
    }
    if (err.code === "CLOSED")
      throw new HttpError(503, "shutting_down", "The sidecar is shutting down; retry on another replica");
    ctx.audit.failed(err.message);
    ctx.metrics.auditError();
    ctx.log.error({ code: err.code, error: err.message }, "audit append failed; the request was refused");
    throw new HttpError(
      503,
      "audit_unavailable",
      "The decision could not be recorded in the audit log, so none was made; retry later",
    );
  }
  ctx.audit.succeeded();
  ctx.metrics.decided(decision, (performance.now() - started) / 1000);
  return decision;
}

function reply(body: unknown, decisions: readonly Decision[]): RouteReply {
  const unauthenticated = decisions.some((d) => d.code === "unauthenticated");
  return unauthenticated ? { body, headers: { "www-authenticate": 'Bearer realm="agent-safe"' } } : { body };
}
