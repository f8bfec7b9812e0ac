/**
 * The resolver as the runner's `CredentialProvider` (src/runner/runner.ts): the runner redeems
 * the ticket first, then `acquire`s a credential for it and `release`s it in a `finally`. This
 * is the resolver's path 2 (`resolveRedeemed`): the token must prove the redemption, and the
 * nonce store records the ticket's one credential, so a second `acquire` for the same ticket,
 * here or in another process, gets nothing.
 *
 * `acquire` returns the `Credential` itself (it is a `RunCredential`: `id`, `type`, `payload`),
 * whose payload never serialises; `secretsFor(credential)` lists what to scrub from output.
 */
import type { ActionDef } from "../core/types.js";
import type { VerifiedTicket } from "../tickets/validator.js";
import type { Credential } from "./credential.js";
import { CredentialError } from "./errors.js";
import type { CredentialResolver } from "./resolver.js";

/** Structurally the runner's `RunCredential`. */
export interface ProvidedCredential {
  id: string;
  type: string;
  payload: Readonly<Record<string, unknown>>;
}

export class ResolverCredentialProvider {
  private readonly live = new Map<string, Credential>();

  constructor(private readonly resolver: CredentialResolver) {}

  /** With a vault configured, every action that declares `credentials` needs one. */
  required(action: Pick<ActionDef, "credentials">): boolean {
    return this.resolver.required(action);
  }

  /** A credential for the redeemed `ticket`; throws `CredentialError` (the runner refuses to run). */
  async acquire(action: Pick<ActionDef, "name">, ticket: VerifiedTicket, token: string): Promise<Credential> {
    const r = await this.resolver.resolveRedeemed(token, ticket, {
      expectedAction: action.name,
      expectedTarget: ticket.target,
    });
    if (!r.success || r.credential === null) {
      throw new CredentialError(
        r.code === "ok" ? "vault" : r.code,
        r.error ?? "Credential resolution failed",
      );
    }
    this.live.set(r.credential.credential_id, r.credential);
    return r.credential;
  }

  /** Revokes; throws when revocation failed (the runner records `credentialRevoked: false`). */
  async release(credential: ProvidedCredential): Promise<void> {
    const c = this.live.get(credential.id);
    if (c === undefined) throw new CredentialError("vault", `Unknown credential: ${credential.id}`);
    this.live.delete(credential.id);
    const outcome = await this.resolver.revoke(c);
    if (!outcome.revoked)
      throw new CredentialError("vault", outcome.warning ?? "Credential revocation failed");
  }

  /** The secret strings of a credential this provider issued (for scrubbing output). */
  secretsFor(credential: ProvidedCredential): string[] {
    return this.live.get(credential.id)?.secrets() ?? [];
  }
}
