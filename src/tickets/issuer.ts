/**
 * Issues execution tickets for final ALLOW decisions (REFERENCE.md §6.1): a JWT signed with the
 * "ticket-signing" Ed25519 key (`kid` in the header), or HS256 when configured, with 0.9.0's
 * claims — `type: "execution-ticket"`, `action`, `target`, `caller`, `params`, `audit_id`,
 * `nonce` (32 hex), `iss`, `iat`, `exp` (default lifetime 5 minutes) — plus `params_digest`, and
 * `redacted_params` naming the sensitive parameters given only as digests.
 */
import { randomUUID } from "node:crypto";
import type { ActionDef, Params } from "../core/types.js";
import { pydanticIso, TICKET_TYPE } from "../jwt/claims.js";
import type { TokenSettings } from "../jwt/config.js";
import { signJwt } from "../jwt/jws.js";
import type { KeyRing } from "../jwt/keyring.js";
import type { Decision } from "../pdp/decision.js";
import { TicketError } from "./errors.js";
import { ticketParams } from "./params.js";

/** The ticket object of a decision (REFERENCE.md §2.4), plus the params digest. */
export interface ExecutionTicket {
  /** The signed JWT: a bearer credential for one execution. Never log it. */
  token: string;
  action: string;
  target: string;
  caller: string;
  /** As in the token: sensitive values are `sha256:<hex>` digests. */
  params: Record<string, unknown>;
  audit_id: string;
  nonce: string;
  /** pydantic ISO with microseconds (the JWT's own claims are whole seconds). */
  issued_at: string;
  expires_at: string;
  params_digest: string;
  redacted_params: string[];
}

export interface TicketIssueInput {
  decision: Pick<Decision, "result" | "action" | "target" | "caller" | "audit_id">;
  /** The params to execute with (after defaults are filled in, if the pipeline fills them). */
  params: Params | Record<string, unknown> | null | undefined;
  /** The decided action's definition: says which params are sensitive. */
  actionDef: Pick<ActionDef, "name" | "parameters">;
}

export interface TicketIssuerOptions {
  clock?: () => number;
}

export class TicketIssuer {
  private readonly clock: () => number;
  /** The last instants formatted (many tickets are issued within one millisecond). */
  private isoAt = Number.NaN;
  private iso = "";
  private isoExpiresAt = Number.NaN;
  private isoExpires = "";

  constructor(
    private readonly ring: KeyRing,
    private readonly settings: Pick<TokenSettings, "issuer" | "ticketTtlSeconds">,
    options: TicketIssuerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  issue({ decision, params, actionDef }: TicketIssueInput): ExecutionTicket {
    if (decision.result !== "allow") {
      throw new TicketError(`Tickets are issued only for ALLOW decisions, not ${decision.result}`);
    }
    if (actionDef.name !== decision.action) {
      throw new TicketError(
        `The action definition '${actionDef.name}' is not the decided action '${decision.action}'`,
      );
    }
    if (typeof decision.audit_id !== "string" || decision.audit_id === "") {
      throw new TicketError("Cannot issue a ticket for a decision without an audit_id");
    }
    const bound = ticketParams(params as Record<string, unknown> | null | undefined, actionDef);
    const now = this.clock();
    const expiresMs = now + this.settings.ticketTtlSeconds * 1000;
    // A UUID4 in hex, as 0.9.0 (122 random bits; randomUUID draws from a pooled CSPRNG buffer).
    const nonce = randomUUID().replaceAll("-", "");
    const claims: Record<string, unknown> = {
      type: TICKET_TYPE,
      action: decision.action,
      target: decision.target,
      caller: decision.caller,
      params: bound.params,
      params_digest: bound.digest,
      audit_id: decision.audit_id,
      nonce,
      iss: this.settings.issuer,
      iat: Math.floor(now / 1000),
      exp: Math.floor(expiresMs / 1000),
    };
    if (bound.redacted.length > 0) claims.redacted_params = bound.redacted;
    // Signed here, at issue: a bearer credential is a plain string from the moment it exists
    // (lazy signing only helps callers that never read the token; every real one does).
    return {
      token: signJwt(this.ring, claims).token,
      action: decision.action,
      target: decision.target,
      caller: decision.caller,
      params: bound.params,
      audit_id: decision.audit_id,
      nonce,
      issued_at: this.isoOf(now),
      expires_at: this.isoOfExpiry(expiresMs),
      params_digest: bound.digest,
      redacted_params: bound.redacted,
    };
  }

  private isoOf(ms: number): string {
    if (ms !== this.isoAt) {
      this.iso = pydanticIso(ms);
      this.isoAt = ms;
    }
    return this.iso;
  }

  private isoOfExpiry(ms: number): string {
    if (ms !== this.isoExpiresAt) {
      this.isoExpires = pydanticIso(ms);
      this.isoExpiresAt = ms;
    }
    return this.isoExpires;
  }
}
