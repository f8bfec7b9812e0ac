/**
 * A credential lives no longer than the ticket it was issued for:
 * `min(scope ttl, whole seconds left on the ticket)`, refused when that is not positive.
 */
import { CredentialError } from "./errors.js";

/** What a vault needs to know of the ticket a credential is for (a `VerifiedTicket` fits). */
export interface CredentialTicket {
  action: string;
  target: string;
  nonce: string;
  /** ISO-8601: the ticket's `exp`. */
  expires_at: string;
  caller?: string;
}

/** Epoch ms of the ticket's expiry; a ticket without a readable expiry has none left. */
export function ticketDeadlineMs(ticket: Pick<CredentialTicket, "expires_at">): number {
  const ms = Date.parse(ticket.expires_at);
  return Number.isFinite(ms) ? ms : Number.NEGATIVE_INFINITY;
}

/**
 * The lifetime, in whole seconds, of a credential requested with `ttl` for `ticket` at `nowMs`.
 * Throws `CredentialError("lifetime")` when the ticket has no whole second left or `ttl` ≤ 0.
 */
export function lifetimeSeconds(
  ttl: number,
  ticket: Pick<CredentialTicket, "expires_at">,
  nowMs: number,
): number {
  if (!Number.isFinite(ttl) || ttl <= 0) {
    throw new CredentialError("lifetime", `Credential TTL must be a positive number of seconds, got ${ttl}`);
  }
  const left = Math.floor((ticketDeadlineMs(ticket) - nowMs) / 1000);
  const seconds = Math.min(Math.floor(ttl), left);
  if (!(seconds > 0)) {
    throw new CredentialError(
      "lifetime",
      `Refusing to issue a credential: its ticket expires at ${ticket.expires_at}, leaving no time for it`,
    );
  }
  return seconds;
}
