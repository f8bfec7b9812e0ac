/**
 * The credential resolver (REFERENCE.md §9, with the holes closed): from an execution ticket to
 * a credential bounded by the action's rendered scope and by the ticket's lifetime.
 *
 * Contract with the runner (docs/credentials.md § The runner contract). At most one credential
 * is ever issued per ticket, whichever path is taken:
 *
 * 1. `resolve(token, expectations)` — the recommended path. The resolver *is* the redemption:
 *    it verifies the ticket (inspect only) and checks everything that can fail before consuming
 *    it (registry, credentials block, template, lifetime), then redeems it (single use, shared
 *    nonce store), claims the ticket's one credential, and asks the vault. The runner does NOT
 *    redeem again: it executes `result.ticket.params` with `result.credential`, then calls
 *    `revoke(credential)` in a `finally` (or uses `withCredential`, which does all of it).
 *    Once redeemed, a vault failure spends the ticket: no retry with the same ticket.
 * 2. `resolveRedeemed(token, redemption)` — for a runner that has already redeemed the ticket
 *    itself (`validator.redeem`). The resolver re-verifies the token (it must be genuine,
 *    unexpired, bound to the redemption's action/target/params, and *used*), then claims the
 *    ticket's one credential in the nonce store, so a second call — or a `resolve` — gets nothing.
 *
 * A ticket for another action or target, an expired, forged or replayed ticket: no credential,
 * and the vault is never asked.
 */
import type { ActionDef } from "../core/types.js";
import type { NonceStore } from "../state/types.js";
import type {
  TicketCode,
  TicketExpectations,
  TicketResult,
  TicketValidator,
  VerifiedTicket,
} from "../tickets/index.js";
import type { Credential, RenderedScope } from "./credential.js";
import { CredentialError, type CredentialErrorCode } from "./errors.js";
import { lifetimeSeconds } from "./lifetime.js";
import { renderScope } from "./template.js";
import type { CredentialVault } from "./vault.js";

export interface CredentialResolverOptions {
  validator: TicketValidator;
  /** The same shared nonce store as the validator's (it records the ticket's one credential). */
  nonces: NonceStore;
  vault: CredentialVault;
  /** The action registry: `(name) => world.actions.get(name)?.def`. */
  actions: (name: string) => ActionDef | undefined;
  /** Unknown `{{ params.x }}` placeholders are errors (strict, default) or kept verbatim (reference). */
  strictTemplates?: boolean;
  clock?: () => number;
}

export interface CredentialResolution {
  success: boolean;
  code: "ok" | CredentialErrorCode;
  /** `null` on success; else the reason (`Vault error: …`, `Action not found in registry: …`, …). */
  error: string | null;
  /** The ticket's action and target when readable, else the expected ones, else `unknown`. */
  action: string;
  target: string;
  ticket_nonce: string;
  credential: Credential | null;
  /** The ticket the credential is for (its params are the ones to execute). */
  ticket: VerifiedTicket | null;
  /** The validator's code when the ticket was refused. */
  ticket_code: TicketCode | null;
  /** Whether the ticket is now spent (by this call or, for `resolveRedeemed`, before it). */
  redeemed: boolean;
}

export interface RevokeOutcome {
  revoked: boolean;
  /** `Credential revocation failed for <id>: <why>` (0.9.0's ResolverWarning). */
  warning: string | null;
}

const SLOT_GRACE_MS = 60_000;

/** Whether the runner must refuse to run `action` without a credential from `resolver`. */
export function credentialsRequired(action: Pick<ActionDef, "credentials">, resolver: unknown): boolean {
  return resolver !== null && resolver !== undefined && action.credentials !== null;
}

export class CredentialResolver {
  readonly vault: CredentialVault;
  private readonly validator: TicketValidator;
  private readonly nonces: NonceStore;
  private readonly actions: (name: string) => ActionDef | undefined;
  private readonly strict: boolean;
  private readonly clock: () => number;

  constructor(options: CredentialResolverOptions) {
    this.validator = options.validator;
    this.nonces = options.nonces;
    this.vault = options.vault;
    this.actions = options.actions;
    this.strict = options.strictTemplates ?? true;
    this.clock = options.clock ?? Date.now;
  }

  /** With a vault configured, an action that declares `credentials` never runs without one. */
  required(action: Pick<ActionDef, "credentials">): boolean {
    return action.credentials !== null;
  }

  /** Path 1: verify, check, redeem, claim, issue. See the module comment. */
  async resolve(token: string, expectations: TicketExpectations = {}): Promise<CredentialResolution> {
    const verified = await this.validator.verify(token, expectations);
    if (!verified.valid || verified.ticket === null) return ticketFailure(verified, expectations, false);
    const prepared = this.prepare(verified.ticket);
    if ("failure" in prepared) return prepared.failure;
    const redeemed = await this.validator.redeem(token, expectations);
    if (!redeemed.valid || redeemed.ticket === null) return ticketFailure(redeemed, expectations, false);
    return this.issue(redeemed.ticket, prepared.scope, Date.parse(redeemed.ticket.expires_at));
  }

  /**
   * Path 2: the runner redeemed `token` already. `redemption` is what `redeem` returned, or its
   * `ticket`; either way it is trusted only as far as the token itself proves it (genuine,
   * unexpired, used, and bound to the same nonce, action, target and params).
   */
  async resolveRedeemed(
    token: string,
    redemption: TicketResult | VerifiedTicket,
    expectations: TicketExpectations = {},
  ): Promise<CredentialResolution> {
    const result: TicketResult =
      "valid" in redemption
        ? redemption
        : { valid: true, reason: "", code: "valid", ticket: redemption, used: false, redeemed: true };
    const t = result.ticket;
    if (!result.valid || !result.redeemed || t === null) {
      return ticketFailure(
        {
          ...result,
          valid: false,
          reason: "Not a successful redemption: resolve() redeems the ticket itself",
        },
        expectations,
        false,
      );
    }
    for (const [want, got, what] of [
      [expectations.expectedAction, t.action, "Action"],
      [expectations.expectedTarget, t.target, "Target"],
    ] as const) {
      if (want !== undefined && want !== null && want !== got) {
        return failure("ticket", `${what} mismatch: ticket is for '${got}', expected '${want}'`, t, true);
      }
    }
    const check = await this.validator.verify(token, {
      expectedAction: t.action,
      expectedTarget: t.target,
      ...(t.params_checked ? { expectedParams: t.params } : {}),
    });
    if (check.valid)
      return failure("ticket", "Ticket has not been redeemed: redeem it first, or use resolve()", t, false);
    if (check.code !== "replay") return ticketFailure(check, expectations, true);
    const claims = tokenClaims(token);
    if (claims === null || claims.nonce !== t.nonce || typeof claims.exp !== "number") {
      return failure("ticket", "The redemption does not belong to this ticket", t, true);
    }
    // Params the verify above proved (params_checked), or else the signed token's own: never
    // unproven params from the caller's object.
    const proven: VerifiedTicket = t.params_checked
      ? t
      : {
          ...t,
          params: isRecord(claims.params) ? claims.params : {},
          redacted_params: Array.isArray(claims.redacted_params)
            ? claims.redacted_params.filter((n): n is string => typeof n === "string")
            : [],
        };
    const prepared = this.prepare(proven);
    if ("failure" in prepared) return prepared.failure;
    return this.issue(proven, prepared.scope, claims.exp * 1000);
  }

  /** Resolves, runs `fn` with the credential, and revokes it whatever happens. */
  async withCredential<T>(
    token: string,
    expectations: TicketExpectations,
    fn: (credential: Credential, ticket: VerifiedTicket) => Promise<T>,
  ): Promise<T> {
    const r = await this.resolve(token, expectations);
    if (!r.success || r.credential === null || r.ticket === null) {
      throw new CredentialError(
        r.code === "ok" ? "vault" : r.code,
        r.error ?? "Credential resolution failed",
      );
    }
    try {
      return await fn(r.credential, r.ticket);
    } finally {
      await this.revoke(r.credential);
    }
  }

  /** Extends a renewable lease, never past the ticket's expiry. */
  renew(credential: Credential, incrementSeconds?: number): Promise<Credential> {
    return this.vault.renew(credential, incrementSeconds);
  }

  /** Revokes after use. Never throws: a failure is returned as a warning. */
  async revoke(credential: Credential): Promise<RevokeOutcome> {
    try {
      await this.vault.revoke(credential);
      return { revoked: true, warning: null };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        revoked: false,
        warning: `Credential revocation failed for ${credential.credential_id}: ${why}`,
      };
    }
  }

  close(): Promise<void> {
    return this.vault.close();
  }

  /** Everything that can be refused before the ticket is spent. */
  private prepare(t: VerifiedTicket): { scope: RenderedScope } | { failure: CredentialResolution } {
    const def = this.actions(t.action);
    if (def === undefined) {
      return { failure: failure("action_unknown", `Action not found in registry: ${t.action}`, t, false) };
    }
    if (def.credentials === null) {
      return {
        failure: failure(
          "no_credentials",
          `Action '${t.action}' does not declare a credentials block`,
          t,
          false,
        ),
      };
    }
    try {
      const { scope } = renderScope(def.credentials, t.params, {
        strict: this.strict,
        digestOnly: t.params_checked ? [] : t.redacted_params,
      });
      lifetimeSeconds(scope.ttl, t, this.clock());
      return { scope };
    } catch (err) {
      if (err instanceof CredentialError) return { failure: failure(err.code, err.message, t, false) };
      throw err;
    }
  }

  /** Claims the ticket's one credential, then asks the vault. */
  private async issue(t: VerifiedTicket, scope: RenderedScope, expMs: number): Promise<CredentialResolution> {
    let claimed: boolean;
    try {
      claimed = await this.nonces.consume(`credential:${t.nonce}`, expMs + SLOT_GRACE_MS);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return failure("ticket", `State store unavailable: ${why}`, t, true);
    }
    if (!claimed) {
      return failure("ticket", "A credential was already issued for this ticket (replay detected)", t, true);
    }
    try {
      const credential = await this.vault.getCredential(scope, t, scope.ttl);
      return {
        success: true,
        code: "ok",
        error: null,
        action: t.action,
        target: t.target,
        ticket_nonce: t.nonce,
        credential,
        ticket: t,
        ticket_code: null,
        redeemed: true,
      };
    } catch (err) {
      const code = err instanceof CredentialError ? err.code : "vault";
      const why = err instanceof Error ? err.message : String(err);
      return failure(code, `Vault error: ${why}`, t, true);
    }
  }
}

function failure(
  code: CredentialErrorCode,
  error: string,
  t: VerifiedTicket,
  redeemed: boolean,
): CredentialResolution {
  return {
    success: false,
    code,
    error,
    action: t.action,
    target: t.target,
    ticket_nonce: t.nonce,
    credential: null,
    ticket: redeemed ? t : null,
    ticket_code: null,
    redeemed,
  };
}

function ticketFailure(r: TicketResult, e: TicketExpectations, redeemed: boolean): CredentialResolution {
  return {
    success: false,
    code: "ticket",
    error: r.reason,
    action: e.expectedAction ?? "unknown",
    target: e.expectedTarget ?? "unknown",
    ticket_nonce: "",
    credential: null,
    ticket: null,
    ticket_code: r.code,
    redeemed,
  };
}

/** The payload of a compact JWS (only after the validator has verified this very token). */
function tokenClaims(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (part === undefined) return null;
  try {
    const parsed = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
