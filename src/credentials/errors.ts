/**
 * Typed credential errors. Messages never carry a secret: no credential payload, no Vault
 * token, no ticket.
 */

export type CredentialErrorCode =
  /** The credentials configuration is wrong (unknown type, missing role mapping, bad address). */
  | "config"
  /** The ticket does not allow a credential: invalid, expired, replayed, another action/target. */
  | "ticket"
  /** The ticket's action is not in the registry. */
  | "action_unknown"
  /** The action declares no `credentials` block. */
  | "no_credentials"
  /** The scope template cannot be rendered safely (unknown param, wildcard, sensitive param). */
  | "template"
  /** The credential would outlive its ticket, or the ticket has no time left. */
  | "lifetime"
  /** The vault failed: unreachable, timed out, refused, or answered something unusable. */
  | "vault";

export class CredentialError extends Error {
  override name = "CredentialError";
  constructor(
    readonly code: CredentialErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A vault could not issue, renew or revoke a credential (0.9.0's `CredentialVaultError`). */
export class CredentialVaultError extends CredentialError {
  override name = "CredentialVaultError";
  constructor(
    message: string,
    /** The HTTP status Vault answered, when it answered. */
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super("vault", message, options);
  }
}

/** A credential configuration error, raised while building a vault from settings. */
export class CredentialConfigError extends CredentialError {
  override name = "CredentialConfigError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("config", message, options);
  }
}
