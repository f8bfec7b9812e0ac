/**
 * HashiCorpVault: the `CredentialVault` over Vault's HTTP API. For each credential type
 * (`credentials.roles.<type>`) one engine: aws, kubernetes or kv. Every credential is bounded by
 * its ticket: the requested `ttl` is `min(scope ttl, ticket time left)`, and with `enforceTtl` a
 * lease Vault makes longer is revoked at once and refused. Leases are renewed
 * (`PUT /v1/sys/leases/renew`) never past the ticket's expiry, and revoked
 * (`PUT /v1/sys/leases/revoke`); per-request roles are deleted on revoke.
 */
import type { AwsRoleSettings, KvRoleSettings } from "../../config/credentials-schema.js";
import { Credential, isCredentialId, newCredentialId, type RenderedScope } from "../credential.js";
import { CredentialError, CredentialVaultError } from "../errors.js";
import { type CredentialTicket, lifetimeSeconds, ticketDeadlineMs } from "../lifetime.js";
import type { CredentialVault, VaultHealth } from "../vault.js";
import type { VaultAuth } from "./auth.js";
import { issueAws } from "./aws.js";
import type { EngineContext, Issued } from "./engine.js";
import { type VaultHttp, type VaultMethod, vaultErrors } from "./http.js";
import { issueKubernetes, type KubernetesEngineSettings } from "./kubernetes.js";
import { issueKv } from "./kv.js";

/** One credential type's engine settings (as validated, the Kubernetes CA already read). */
export type EngineSettings = AwsRoleSettings | KubernetesEngineSettings | KvRoleSettings;

export interface HashiCorpVaultOptions {
  http: VaultHttp;
  auth: VaultAuth;
  /** Credential type → engine settings. */
  roles: Readonly<Record<string, EngineSettings>>;
  /** Refuse (and revoke) leases longer than the ticket allows (default true). */
  enforceTtl?: boolean;
  clock?: () => number;
}

const HEALTHY = new Set([200, 429, 472, 473]);

export class HashiCorpVault implements CredentialVault {
  readonly kind = "hashicorp";
  readonly scoped = true;
  private readonly http: VaultHttp;
  readonly auth: VaultAuth;
  private readonly roles: Readonly<Record<string, EngineSettings>>;
  private readonly enforceTtl: boolean;
  private readonly clock: () => number;
  private readonly cleanups = new Map<string, string>();
  private closed = false;

  constructor(options: HashiCorpVaultOptions) {
    this.http = options.http;
    this.auth = options.auth;
    this.roles = options.roles;
    this.enforceTtl = options.enforceTtl ?? true;
    this.clock = options.clock ?? Date.now;
  }

  /** Authenticated request; non-2xx throws. A 403 with an AppRole token re-logs in once. */
  async call(method: VaultMethod, path: string, body?: unknown): Promise<Record<string, unknown>> {
    if (this.closed) throw new CredentialVaultError("The vault client is closed");
    let reply = await this.http.send(method, path, { token: await this.auth.token(), body });
    if (reply.status === 403 && this.auth.invalidate()) {
      reply = await this.http.send(method, path, { token: await this.auth.token(), body });
    }
    if (reply.status < 200 || reply.status >= 300) {
      throw new CredentialVaultError(`${method} /v1/${path}: ${vaultErrors(reply)}`, reply.status);
    }
    return reply.body ?? {};
  }

  /** The engine settings for a credential type, or a clear error. */
  roleFor(type: string): EngineSettings {
    const role = Object.hasOwn(this.roles, type) ? this.roles[type] : undefined;
    if (role === undefined) {
      throw new CredentialVaultError(
        `No Vault role configured for credential type '${type}' (add credentials.roles.${type} to agent-safe.yaml)`,
      );
    }
    return role;
  }

  async getCredential(scope: RenderedScope, ticket: CredentialTicket, ttl: number): Promise<Credential> {
    const seconds = lifetimeSeconds(ttl, ticket, this.clock());
    const role = this.roleFor(scope.type);
    const credentialId = newCredentialId();
    const ctx: EngineContext = { call: (m, p, b) => this.call(m, p, b) };
    const request = { scope, ticket, ttl: seconds, credentialId };
    let issued: Issued;
    if (role.engine === "aws") issued = await issueAws(ctx, role, request);
    else if (role.engine === "kubernetes") issued = await issueKubernetes(ctx, role, request);
    else issued = await issueKv(ctx, role, request);

    const now = this.clock();
    const deadlineMs = ticketDeadlineMs(ticket);
    if (issued.leaseDuration > seconds && this.enforceTtl) {
      await this.endLease(issued.leaseId, issued.cleanupRole).catch(() => undefined);
      throw new CredentialVaultError(
        `Vault issued a ${issued.leaseDuration} s lease (${issued.metadata.vault_path}), longer than the ` +
          `${seconds} s the ticket allows; it was revoked. Lower the Vault role's TTL (or the mount's lease TTL), ` +
          "or set credentials.enforce_ttl: false",
      );
    }
    const lifetime = issued.leaseDuration > 0 ? issued.leaseDuration : seconds;
    if (issued.cleanupRole !== null) this.cleanups.set(credentialId, issued.cleanupRole);
    return new Credential({
      credential_id: credentialId,
      type: scope.type,
      payload: issued.payload,
      expiresAtMs: now + lifetime * 1000,
      deadlineMs,
      scope,
      ticket_nonce: ticket.nonce,
      lease_id: issued.leaseId,
      renewable: issued.renewable,
      source: issued.source,
      enforcement: issued.enforcement,
      metadata: { ...issued.metadata, lease_duration: String(issued.leaseDuration) },
      publicKeys: issued.publicKeys ?? [],
    });
  }

  async renew(credential: Credential, incrementSeconds?: number): Promise<Credential> {
    if (credential.lease_id === null || !credential.renewable) {
      throw new CredentialVaultError(`Credential ${credential.credential_id} has no renewable lease`);
    }
    const now = this.clock();
    const deadline = { expires_at: new Date(credential.deadlineMs).toISOString() };
    let increment: number;
    try {
      increment = lifetimeSeconds(incrementSeconds ?? credential.scope.ttl, deadline, now);
    } catch (err) {
      if (!(err instanceof CredentialError)) throw err;
      throw new CredentialError(
        "lifetime",
        `Credential ${credential.credential_id} has reached its ticket's expiry; it cannot be renewed`,
      );
    }
    const body = await this.call("PUT", "sys/leases/renew", { lease_id: credential.lease_id, increment });
    const duration = typeof body.lease_duration === "number" ? body.lease_duration : 0;
    if (duration > increment && this.enforceTtl) {
      await this.revoke(credential).catch(() => undefined);
      throw new CredentialVaultError(
        `Vault renewed ${credential.credential_id} for ${duration} s, beyond its ticket's expiry; it was revoked`,
      );
    }
    return credential.withExpiry(this.clock() + Math.max(duration, 0) * 1000);
  }

  async revoke(credential: Credential): Promise<void> {
    const cleanup = this.cleanups.get(credential.credential_id) ?? this.trustedCleanup(credential);
    await this.endLease(credential.lease_id, cleanup);
    this.cleanups.delete(credential.credential_id);
  }

  /** Revokes the lease, then deletes the per-request role (in that order: the lease needs it). */
  private async endLease(leaseId: string | null, cleanupRole: string | null): Promise<void> {
    if (leaseId !== null) await this.call("PUT", "sys/leases/revoke", { lease_id: leaseId });
    if (cleanupRole !== null) await this.call("DELETE", cleanupRole);
  }

  /**
   * A per-request role named in a credential from another process: only `<mount>/roles/<x>-<hex>`
   * where `<hex>` is this credential's own id, so a forged credential cannot delete other roles.
   */
  private trustedCleanup(credential: Credential): string | null {
    const path = credential.metadata.vault_role_path;
    if (path === undefined || !isCredentialId(credential.credential_id)) return null;
    const hex = credential.credential_id.slice("cred-".length);
    const mounts = Object.values(this.roles)
      .filter((r) => r.engine !== "kv")
      .map((r) => r.mount);
    const ok = mounts.some((m) => path.startsWith(`${m}/roles/`) && path.endsWith(`-${hex}`));
    return ok ? path : null;
  }

  async health(): Promise<VaultHealth> {
    const reply = await this.http.send("GET", "sys/health");
    const body = reply.body ?? {};
    const details: Record<string, unknown> = {
      address: this.http.origin,
      version: body.version ?? null,
      sealed: body.sealed ?? null,
      standby: body.standby ?? null,
      auth: this.auth.method,
    };
    if (!HEALTHY.has(reply.status)) {
      const why =
        reply.status === 503 ? "sealed" : reply.status === 501 ? "not initialised" : vaultErrors(reply);
      throw new CredentialVaultError(`Vault at ${this.http.origin} is not serving: ${why}`, reply.status);
    }
    await this.auth.token();
    const exp = this.auth.tokenExpiresAtMs;
    details.token_expires_at = exp === null ? null : new Date(exp).toISOString();
    const version = typeof body.version === "string" ? ` (Vault ${body.version})` : "";
    return { ok: true, description: `${this.http.origin}${version}`, details };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cleanups.clear();
  }
}
