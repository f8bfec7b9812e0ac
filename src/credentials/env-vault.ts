/**
 * EnvVarVault (REFERENCE.md §9): credentials from a static map or the environment. FOR
 * DEVELOPMENT ONLY: the credential is whatever secret was configured, with whatever rights it
 * has. The action's scope is rendered and recorded on the credential (`enforcement: "none"`) so
 * that logs show what *should* have been allowed, but nothing enforces it, and `revoke` only
 * forgets the id: the secret itself keeps working.
 *
 * 1. `credentials[scope.type]` (exact, case-sensitive) → that payload;
 * 2. else `<prefix><TYPE upper-cased, '-' → '_'>` → `{token: value}`;
 * 3. else `No credential configured for type '<t>'. Set <ENVVAR> or pass credentials={'<t>': {...}} to EnvVarVault().`
 */
import { Credential, type RenderedScope } from "./credential.js";
import { CredentialVaultError } from "./errors.js";
import { type CredentialTicket, lifetimeSeconds, ticketDeadlineMs } from "./lifetime.js";
import type { CredentialVault, VaultHealth } from "./vault.js";

export interface EnvVarVaultOptions {
  /** Static payloads by credential type. */
  credentials?: Record<string, Record<string, unknown>> | null;
  envPrefix?: string;
  env?: NodeJS.ProcessEnv;
  clock?: () => number;
}

export const DEFAULT_ENV_PREFIX = "AGENT_SAFE_CRED_";

export class EnvVarVault implements CredentialVault {
  readonly kind = "env";
  readonly scoped = false;
  private readonly statics: Record<string, Record<string, unknown>>;
  private readonly prefix: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly clock: () => number;
  private readonly issued = new Set<string>();

  constructor(options: EnvVarVaultOptions = {}) {
    this.statics = { ...(options.credentials ?? {}) };
    this.prefix = options.envPrefix ?? DEFAULT_ENV_PREFIX;
    this.env = options.env ?? process.env;
    this.clock = options.clock ?? Date.now;
  }

  /** The environment variable consulted for a credential type. */
  envVarFor(type: string): string {
    return `${this.prefix}${type.toUpperCase().replaceAll("-", "_")}`;
  }

  async getCredential(scope: RenderedScope, ticket: CredentialTicket, ttl: number): Promise<Credential> {
    const now = this.clock();
    const seconds = lifetimeSeconds(ttl, ticket, now);
    let payload: Record<string, unknown>;
    let source: string;
    if (Object.hasOwn(this.statics, scope.type)) {
      payload = this.statics[scope.type] ?? {};
      source = "static";
    } else {
      const name = this.envVarFor(scope.type);
      const value = this.env[name];
      if (value === undefined || value === "") {
        throw new CredentialVaultError(
          `No credential configured for type '${scope.type}'. Set ${name} or pass credentials={'${scope.type}': {...}} to EnvVarVault().`,
        );
      }
      payload = { token: value };
      source = "env";
    }
    const credential = new Credential({
      type: scope.type,
      payload,
      expiresAtMs: now + seconds * 1000,
      deadlineMs: ticketDeadlineMs(ticket),
      scope,
      ticket_nonce: ticket.nonce,
      source,
      enforcement: "none",
      metadata: { warning: "not scoped: the env vault is for development only" },
    });
    this.issued.add(credential.credential_id);
    return credential;
  }

  async renew(credential: Credential, incrementSeconds?: number): Promise<Credential> {
    const now = this.clock();
    if (!this.issued.has(credential.credential_id)) {
      throw new CredentialVaultError(`Unknown or revoked credential: ${credential.credential_id}`);
    }
    const wanted = incrementSeconds ?? credential.scope.ttl;
    const seconds = lifetimeSeconds(
      wanted,
      { expires_at: new Date(credential.deadlineMs).toISOString() },
      now,
    );
    return credential.withExpiry(now + seconds * 1000);
  }

  /** Forgets the id (0.9.0). The underlying secret is not revoked: it is static. */
  async revoke(credential: Credential): Promise<void> {
    this.issued.delete(credential.credential_id);
  }

  async health(): Promise<VaultHealth> {
    return {
      ok: true,
      description: `env (${this.prefix}<TYPE>; not scoped: development only)`,
      details: { static_types: Object.keys(this.statics).sort() },
    };
  }

  async close(): Promise<void> {
    this.issued.clear();
  }
}
