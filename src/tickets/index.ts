/**
 * Execution tickets (REFERENCE.md §6, DESIGN.md §4 item 6, THREATS.md T1, T2, T13).
 *
 * Wiring (for the decision pipeline, the SDK, the runner and the sidecar):
 *
 * ```ts
 * const keys = projectTokenKeys(project);                 // src/jwt/config.ts; null: no keys, no tickets
 * const backend = await openStateBackend(project.settings.state, { baseDir: project.root });
 * const { issuer, validator } = ticketServices(keys, backend.nonces);
 *
 * // Pipeline, after the audit event, for a final ALLOW (and for an approval that was granted):
 * decision.ticket = issuer.issue({ decision, params, actionDef });   // ExecutionTicket; TicketError if not ALLOW
 *
 * // Runner / executors: redeem exactly once, binding action, target and the params executed.
 * const r = await validator.redeem(token, { expectedAction, expectedTarget, expectedParams });
 * if (!r.valid) refuse(r.reason);                         // r.code: expired | replay | params_mismatch | …
 * execute(r.ticket.params);                               // expectedParams, proven against the digest
 *
 * // Inspection only (`ticket verify`, dashboards): never consumes.
 * const v = await validator.verify(token, expectations);  // v.used tells whether it was redeemed
 * ```
 *
 * Single use holds across validators, processes and replicas because the nonce store is shared
 * (SQLite on one machine, Redis across replicas); a `memory` store only within one process.
 */
import type { TokenKeys } from "../jwt/config.js";
import type { NonceStore } from "../state/types.js";
import { TicketIssuer } from "./issuer.js";
import { TicketValidator } from "./validator.js";

export { TicketError } from "./errors.js";
export { type ExecutionTicket, type TicketIssueInput, TicketIssuer } from "./issuer.js";
export { type OpenNonceStore, openProjectNonceStore } from "./nonce-store.js";
export { paramsDigest, type TicketParams, ticketParams, valueDigest } from "./params.js";
export {
  type TicketCode,
  type TicketExpectations,
  type TicketResult,
  TicketValidator,
  type TicketValidatorOptions,
  type VerifiedTicket,
} from "./validator.js";

export interface TicketServices {
  issuer: TicketIssuer;
  validator: TicketValidator;
}

/** The issuer and validator for one deployment's keys and shared nonce store. */
export function ticketServices(
  keys: TokenKeys,
  nonces: NonceStore,
  options: { clock?: () => number } = {},
): TicketServices {
  return {
    issuer: new TicketIssuer(keys.tickets, keys.settings, options),
    validator: new TicketValidator(keys.tickets, keys.settings, nonces, options),
  };
}
