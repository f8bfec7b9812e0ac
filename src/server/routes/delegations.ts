/**
 * `POST /v1/delegations`: a delegation token for a child agent. The parent is the bearer (a
 * verified identity token); the body names the child and what it may hold. The rules are the
 * in-process ones (DESIGN.md §4, THREATS.md T14–T16): the server's maximum depth, no
 * self-delegation or cycles, roles and groups only from the parent's, expiry no later than the
 * parent's. A refused delegation is 403 `delegation_refused` with the reason and its code.
 */
import { DelegationError } from "../../identity/errors.js";
import { HttpError, unauthenticated } from "../errors.js";
import type { RouteGroup } from "../route.js";
import type { DelegationRequestBody } from "../schemas.js";

export const delegationRoutes: RouteGroup = (ctx) => [
  {
    method: "POST",
    url: "/v1/delegations",
    operationId: "delegate",
    summary: "Delegate to a child agent",
    description: "Mints a delegation token for `child_agent_id`, acting for the bearer (the parent).",
    tags: ["identity"],
    auth: "identity",
    body: "DelegationRequest",
    responses: {
      200: { description: "The child's token and identity", schema: "DelegationToken" },
      400: { description: "Malformed body", schema: "Error" },
      401: { description: "No valid identity token (the parent)", schema: "Error" },
      403: { description: "The delegation rules refuse it", schema: "Error" },
      501: { description: "No identity keys configured", schema: "Error" },
    },
    handler: async ({ body, bearer }) => {
      const identity = ctx.composed.identity;
      if (identity === null) {
        throw new HttpError(501, "not_configured", "Identity keys are not configured (no keys: section)");
      }
      const b = body as DelegationRequestBody;
      try {
        const token = await identity.delegation.createDelegation(bearer ?? "", {
          childAgentId: b.child_agent_id,
          ...(b.child_name !== undefined ? { childName: b.child_name } : {}),
          ...(b.roles !== undefined ? { roles: b.roles } : {}),
          ...(b.groups !== undefined ? { groups: b.groups } : {}),
          ...(b.ttl_seconds !== undefined ? { ttl: b.ttl_seconds } : {}),
          ...(b.max_depth !== undefined ? { maxDepth: b.max_depth } : {}),
        });
        return { body: token };
      } catch (err) {
        if (!(err instanceof DelegationError)) throw err;
        if (err.message.startsWith("Invalid parent token")) throw unauthenticated(err.message);
        throw new HttpError(403, "delegation_refused", err.message, {}, err.code);
      }
    },
  },
];
