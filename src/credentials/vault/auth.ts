/**
 * Agent-Safe's own Vault token: a configured token, or an AppRole login
 * (`POST /v1/auth/<mount>/login`). The token's lifetime is learned (`lookup-self`, or the login's
 * lease) and the token is renewed (`renew-self`) once less than a third of it is left; an AppRole
 * token that cannot be renewed is replaced by a new login. The secrets (token, role_id,
 * secret_id) are read from their file or `${ENV}` when needed and never logged.
 */
import { CredentialVaultError } from "../errors.js";
import { type VaultHttp, type VaultReply, vaultErrors, vaultPath } from "./http.js";

/** Reads a secret setting (file or `${ENV}`) when called. */
export type SecretSource = () => string;

export type VaultAuthConfig =
  | { method: "token"; token: SecretSource }
  | { method: "approle"; mount: string; roleId: SecretSource; secretId: SecretSource };

interface TokenState {
  token: string;
  /** `null`: the token does not expire (or its lifetime is unknown). */
  expiresAtMs: number | null;
  ttlMs: number;
  renewable: boolean;
}

export interface VaultAuthOptions {
  clock?: () => number;
  /** Renew the token with renew-self when a third of its TTL is left (default true). */
  renew?: boolean;
}

export class VaultAuth {
  private state: TokenState | null = null;
  private pending: Promise<string> | null = null;
  private readonly clock: () => number;
  private readonly renewEnabled: boolean;
  /** Counters for `credential test-vault` and tests. */
  readonly stats = { logins: 0, renewals: 0, lookups: 0 };

  constructor(
    private readonly http: VaultHttp,
    private readonly config: VaultAuthConfig,
    options: VaultAuthOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.renewEnabled = options.renew ?? true;
  }

  get method(): "token" | "approle" {
    return this.config.method;
  }

  /** When the current token expires (epoch ms), `null` if it does not or none is held yet. */
  get tokenExpiresAtMs(): number | null {
    return this.state?.expiresAtMs ?? null;
  }

  /** A usable token: logs in, looks up or renews first when needed. Concurrent callers share one. */
  async token(): Promise<string> {
    if (this.pending === null) {
      this.pending = this.ensure().finally(() => {
        this.pending = null;
      });
    }
    return this.pending;
  }

  /**
   * After Vault answered 403 with our token: an AppRole token is dropped (the next call logs in
   * again) and `true` is returned so the request can be retried once; a configured token cannot
   * be replaced (`false`).
   */
  invalidate(): boolean {
    if (this.config.method !== "approle") return false;
    this.state = null;
    return true;
  }

  private async ensure(): Promise<string> {
    const now = this.clock();
    if (this.state === null) {
      this.state = this.config.method === "approle" ? await this.login() : await this.lookupSelf();
      return this.state.token;
    }
    const s = this.state;
    if (s.expiresAtMs !== null && this.renewEnabled && s.expiresAtMs - now < s.ttlMs / 3) {
      try {
        this.state = await this.renewSelf(s);
      } catch (err) {
        if (this.config.method === "approle") {
          this.state = await this.login();
        } else if (s.expiresAtMs <= now) {
          throw err;
        }
      }
    } else if (s.expiresAtMs !== null && s.expiresAtMs <= now) {
      if (this.config.method !== "approle") {
        throw new CredentialVaultError("Vault token has expired (credentials.auth.token)");
      }
      this.state = await this.login();
    }
    return this.state.token;
  }

  private async login(): Promise<TokenState> {
    if (this.config.method !== "approle") throw new Error("unreachable");
    const body = { role_id: this.config.roleId(), secret_id: this.config.secretId() };
    const reply = await this.http.send("POST", vaultPath("auth", this.config.mount, "login"), { body });
    if (reply.status !== 200) {
      throw new CredentialVaultError(`Vault AppRole login failed: ${vaultErrors(reply)}`, reply.status);
    }
    this.stats.logins++;
    return this.fromAuth(reply, "AppRole login");
  }

  private async lookupSelf(): Promise<TokenState> {
    if (this.config.method !== "token") throw new Error("unreachable");
    const token = this.config.token();
    const reply = await this.http.send("GET", "auth/token/lookup-self", { token });
    if (reply.status !== 200) {
      throw new CredentialVaultError(
        `Vault rejected the configured token (lookup-self): ${vaultErrors(reply)}`,
        reply.status,
      );
    }
    this.stats.lookups++;
    const data = (reply.body?.data ?? {}) as Record<string, unknown>;
    const ttl = typeof data.ttl === "number" ? data.ttl : 0;
    return {
      token,
      expiresAtMs: ttl > 0 ? this.clock() + ttl * 1000 : null,
      ttlMs: ttl * 1000,
      renewable: data.renewable === true,
    };
  }

  /** `POST /v1/auth/token/renew-self`. */
  async renewSelf(current: TokenState | null = this.state): Promise<TokenState> {
    if (current === null) throw new CredentialVaultError("No Vault token to renew");
    if (!current.renewable) throw new CredentialVaultError("The Vault token is not renewable");
    const reply = await this.http.send("POST", "auth/token/renew-self", { token: current.token, body: {} });
    if (reply.status !== 200) {
      throw new CredentialVaultError(`Vault token renewal failed: ${vaultErrors(reply)}`, reply.status);
    }
    this.stats.renewals++;
    const next = this.fromAuth(reply, "token renewal");
    this.state = next;
    return next;
  }

  private fromAuth(reply: VaultReply, what: string): TokenState {
    const auth = (reply.body?.auth ?? null) as Record<string, unknown> | null;
    const token = auth?.client_token;
    if (typeof token !== "string" || token === "") {
      throw new CredentialVaultError(`Vault ${what} returned no client token`, reply.status);
    }
    const ttl = typeof auth?.lease_duration === "number" ? auth.lease_duration : 0;
    return {
      token,
      expiresAtMs: ttl > 0 ? this.clock() + ttl * 1000 : null,
      ttlMs: ttl * 1000,
      renewable: auth?.renewable === true,
    };
  }
}
