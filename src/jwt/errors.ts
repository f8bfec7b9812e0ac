/**
 * What can be wrong with a JWT, as a machine-readable code plus a message in PyJWT's words (the
 * 0.9.0 reason strings embed them). Identity and ticket code add their own prefixes
 * (`Invalid token: …`, `Invalid ticket: …`). Messages never contain the token or a key.
 */

export type JwtErrorCode =
  /** not three base64url segments of JSON, or too large */
  | "malformed"
  /** `alg` is not the one algorithm this deployment accepts (`none`, HS/EdDSA confusion, …) */
  | "algorithm"
  /** no `kid`, an unknown `kid`, or a retired key past its keep period */
  | "unknown_key"
  /** the signature does not verify */
  | "signature"
  /** a required claim is absent or null */
  | "missing_claim"
  /** a claim has the wrong type or an impossible value */
  | "invalid_claim"
  /** `iat` or `nbf` in the future */
  | "immature"
  | "expired"
  | "issuer"
  | "audience";

export class JwtError extends Error {
  override name = "JwtError";
  constructor(
    message: string,
    readonly code: JwtErrorCode,
  ) {
    super(message);
  }
}
