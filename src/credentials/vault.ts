/** The vault interface every credential source implements (REFERENCE.md §9 vault protocol). */
import type { Credential, RenderedScope } from "./credential.js";
import type { CredentialTicket } from "./lifetime.js";

export interface VaultHealth {
  ok: boolean;
  /** e.g. `env`, or `https://vault:8200 (Vault 1.17.2)`. */
  description: string;
  /** Non-secret details: version, sealed, auth method. */
  details: Record<string, unknown>;
}

export interface CredentialVault {
  /** `env` or `hashicorp`. */
  readonly kind: string;
  /** Whether credentials can be bounded by the action's scope at all (the env vault: never). */
  readonly scoped: boolean;
  /**
   * Issues a credential for `scope` (already rendered) on behalf of `ticket`, living at most
   * `ttl` seconds and never beyond the ticket's expiry. Throws `CredentialError` /
   * `CredentialVaultError`; never returns a credential it could not bound in time.
   */
  getCredential(scope: RenderedScope, ticket: CredentialTicket, ttl: number): Promise<Credential>;
  /** Extends a renewable lease, never past the ticket's expiry. */
  renew(credential: Credential, incrementSeconds?: number): Promise<Credential>;
  /** Ends the credential now (lease revoke, per-request role deleted). Throws on failure. */
  revoke(credential: Credential): Promise<void>;
  /** Reachability and authentication, without issuing anything. */
  health(): Promise<VaultHealth>;
  /** Releases connections and timers. Issued credentials stay valid until revoked or expired. */
  close(): Promise<void>;
}
