/**
 * `POST /v1/tickets/verify` and `POST /v1/tickets/redeem`: execution tickets, checked against the
 * deployment's shared nonce store. `verify` inspects (valid? already used?); `redeem` consumes,
 * and exactly one redeem of a ticket ever succeeds, across every replica sharing the store.
 *
 * The caller must present a verified identity token (401 otherwise): an executor redeeming a
 * ticket is accountable like any caller. A refused ticket is a result (`valid: false` with the
 * reason and code, 200), exactly as the in-process SDK returns it, not an HTTP error.
 */
import type { TicketExpectations, TicketResult } from "../../tickets/validator.js";
import type { SidecarContext } from "../context.js";
import { HttpError } from "../errors.js";
import type { RouteDef, RouteGroup } from "../route.js";

export const ticketRoutes: RouteGroup = (ctx) => [
  route(ctx, "verify", "Inspect an execution ticket without using it"),
  route(ctx, "redeem", "Use an execution ticket (exactly once, across replicas)"),
];

function route(ctx: SidecarContext, mode: "verify" | "redeem", summary: string): RouteDef {
  return {
    method: "POST",
    url: `/v1/tickets/${mode}`,
    operationId: mode === "verify" ? "verifyTicket" : "redeemTicket",
    summary,
    description:
      "Checks signature, algorithm, type, issuer and expiry, then the expected action, target and params " +
      (mode === "verify"
        ? "and whether the nonce was used (nothing is consumed)."
        : "and consumes the nonce."),
    tags: ["tickets"],
    auth: "identity",
    body: "TicketRequest",
    responses: {
      200: { description: "The result: valid, or why not", schema: "TicketResult" },
      400: { description: "Malformed body", schema: "Error" },
      401: { description: "No valid identity token", schema: "Error" },
      501: { description: "No ticket keys configured", schema: "Error" },
    },
    handler: async ({ raw }) => {
      const tickets = ctx.composed.tickets;
      if (tickets === null) {
        throw new HttpError(501, "not_configured", "Ticket keys are not configured (no keys: section)");
      }
      const body = raw as Record<string, unknown>;
      const expectations: TicketExpectations = {
        expectedAction: (body.expected_action as string | null | undefined) ?? null,
        expectedTarget: (body.expected_target as string | null | undefined) ?? null,
      };
      // Absent: params not checked; null: checked against {} (as in-process).
      if (Object.hasOwn(body, "expected_params")) {
        expectations.expectedParams = body.expected_params as Record<string, unknown> | null;
      }
      const token = body.token as string;
      const result: TicketResult =
        mode === "verify"
          ? await tickets.validator.verify(token, expectations)
          : await tickets.validator.redeem(token, expectations);
      if (result.code === "state_unavailable") ctx.metrics.stateError("ticket");
      return { body: result };
    },
  };
}
