/** Typed identity errors. `message` is the reason string (0.9.0's where it has one). */
import type { JwtErrorCode } from "../jwt/errors.js";

export type IdentityErrorCode =
  | JwtErrorCode
  /** a valid token of another kind (an execution ticket) */
  | "not_identity"
  /** an identity or delegation request that cannot be honoured (bad input, a widening, a cycle) */
  | "invalid_request";

export class IdentityError extends Error {
  override name = "IdentityError";
  constructor(
    message: string,
    readonly code: IdentityErrorCode,
  ) {
    super(message);
  }
}

/** A refused delegation: `Invalid parent token: …`, a widening, a cycle, the depth limit. */
export class DelegationError extends IdentityError {
  override name = "DelegationError";
}
