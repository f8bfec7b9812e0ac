/** A ticket that cannot be issued (not an ALLOW, no audit id, params JCS cannot represent). */
export class TicketError extends Error {
  override name = "TicketError";
}
