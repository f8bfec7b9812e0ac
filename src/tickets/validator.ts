/**
 * Validates execution tickets (REFERENCE.md §6.2), stopping at the first failure:
 *
 * | # | check | reason |
 * |---|---|---|
 * | 1 | format, pinned algorithm, `kid`, signature | `Invalid ticket: <detail>` |
 * | 1 | required claims, `iat`/`nbf` not in the future | `Invalid ticket: <detail>` |
 * | 1 | expiry | `Ticket has expired` |
 * | 1 | issuer | `Invalid ticket issuer` |
 * | 2 | `type == "execution-ticket"` | `Token is not an execution ticket` |
 * | 3 | expected action | `Action mismatch: ticket is for '<a>', expected '<b>'` |
 * | 4 | expected target | `Target mismatch: ticket is for '<t>', expected '<u>'` |
 * | 5 | expected params (digest of their canonical JSON) | `Params mismatch: …` |
 * | 6 | nonce unused | `Ticket has already been used (replay detected)` |
 * | ok | | `Ticket is valid` |
 *
 * `verify` inspects: it reports whether the nonce was already used, without consuming it.
 * `redeem` consumes the nonce atomically in the deployment's shared `NonceStore`, so exactly one
 * redemption of a ticket ever succeeds, across validators, processes and replicas. A store that
 * cannot be reached fails closed (`State store unavailable: …`).
 */
import { timingSafeEqual } from "node:crypto";
import { canonicalize } from "../codec/jcs.js";
import type { Params } from "../core/types.js";
import { checkRegisteredClaims, claimTimeIso, isStringList, TICKET_TYPE } from "../jwt/claims.js";
import type { TokenSettings } from "../jwt/config.js";
import { JwtError } from "../jwt/errors.js";
import { verifyJws } from "../jwt/jws.js";
import type { JwtAlgorithm, KeyRing } from "../jwt/keyring.js";
import type { NonceStore } from "../state/types.js";
import { TicketError } from "./errors.js";
import { paramsDigest } from "./params.js";

export type TicketCode =
  | "valid"
  | "invalid"
  | "expired"
  | "issuer"
  | "type"
  | "action_mismatch"
  | "target_mismatch"
  | "params_mismatch"
  | "replay"
  | "state_unavailable";

export interface TicketExpectations {
  expectedAction?: string | null;
  expectedTarget?: string | null;
  /** The params about to be executed; `null` means `{}`. Omit to skip the params check. */
  expectedParams?: Params | Record<string, unknown> | null;
}

export interface VerifiedTicket {
  action: string;
  target: string;
  caller: string;
  /** The expected params when they were given and matched (sensitive values in clear), else the ticket's. */
  params: Record<string, unknown>;
  params_digest: string;
  /** Whether expected params were given and matched the ticket's digest. */
  params_checked: boolean;
  /** Whether `params` holds every value in clear (nothing redacted, or the expected params checked). */
  params_complete: boolean;
  /** Params the ticket holds only as digests; execution must supply them via `expectedParams`. */
  redacted_params: string[];
  audit_id: string;
  nonce: string;
  /** From the JWT's claims: whole seconds, pydantic ISO. */
  issued_at: string;
  expires_at: string;
  kid: string | null;
  algorithm: JwtAlgorithm;
}

export interface TicketResult {
  valid: boolean;
  /** 0.9.0's reason string where it has one. */
  reason: string;
  code: TicketCode;
  /** Set only when `valid`. */
  ticket: VerifiedTicket | null;
  /** Whether the nonce had been used (`null` when the check did not get that far). */
  used: boolean | null;
  /** `true` only for the one `redeem` that consumed the nonce. */
  redeemed: boolean;
}

export interface TicketValidatorOptions {
  clock?: () => number;
}

const REQUIRED = ["type", "action", "target", "caller", "audit_id", "nonce", "iss", "iat", "exp"] as const;
const NONCE = /^[0-9a-f]{32}$/;

type Checked = { ok: true; ticket: VerifiedTicket; expMs: number } | { ok: false; result: TicketResult };

function fail(
  code: TicketCode,
  reason: string,
  used: boolean | null = null,
): { ok: false; result: TicketResult } {
  return { ok: false, result: { valid: false, reason, code, ticket: null, used, redeemed: false } };
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

export class TicketValidator {
  private readonly clock: () => number;

  constructor(
    private readonly ring: KeyRing,
    private readonly settings: Pick<TokenSettings, "issuer" | "leewaySeconds">,
    private readonly nonces: NonceStore,
    options: TicketValidatorOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Every check, and whether the ticket was already used; consumes nothing. */
  async verify(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    const checked = await this.check(token, expectations);
    if (!checked.ok) return checked.result;
    let used: boolean;
    try {
      used = await this.nonces.isUsed(checked.ticket.nonce);
    } catch (err) {
      return fail("state_unavailable", storeReason(err)).result;
    }
    if (used) return fail("replay", "Ticket has already been used (replay detected)", true).result;
    return {
      valid: true,
      reason: "Ticket is valid",
      code: "valid",
      ticket: checked.ticket,
      used: false,
      redeemed: false,
    };
  }

  /** Every check, then consumes the nonce; only one redemption of a ticket ever succeeds. */
  async redeem(token: string, expectations: TicketExpectations = {}): Promise<TicketResult> {
    const checked = await this.check(token, expectations);
    if (!checked.ok) return checked.result;
    let consumed: boolean;
    try {
      // Remembered at least while any validator could still accept the ticket; stores add a grace.
      consumed = await this.nonces.consume(
        checked.ticket.nonce,
        checked.expMs + this.settings.leewaySeconds * 1000,
      );
    } catch (err) {
      return fail("state_unavailable", storeReason(err)).result;
    }
    if (!consumed) return fail("replay", "Ticket has already been used (replay detected)", true).result;
    return {
      valid: true,
      reason: "Ticket is valid",
      code: "valid",
      ticket: checked.ticket,
      used: false,
      redeemed: true,
    };
  }

  private async check(token: string, expect: TicketExpectations): Promise<Checked> {
    const now = this.clock();
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    let iat: number;
    let exp: number;
    try {
      ({ header, payload } = await verifyJws(token, this.ring, now));
      ({ iat, exp } = checkRegisteredClaims(payload, {
        required: REQUIRED,
        issuer: this.settings.issuer,
        nowMs: now,
        leewaySeconds: this.settings.leewaySeconds,
      }));
    } catch (err) {
      if (!(err instanceof JwtError)) throw err;
      if (err.code === "expired") return fail("expired", "Ticket has expired");
      if (err.code === "issuer") return fail("issuer", "Invalid ticket issuer");
      return fail("invalid", `Invalid ticket: ${err.message}`);
    }
    if (payload.type !== TICKET_TYPE) return fail("type", "Token is not an execution ticket");
    const claimError = invalidClaim(payload);
    if (claimError !== null) return fail("invalid", `Invalid ticket: ${claimError}`);
    const action = payload.action as string;
    const target = payload.target as string;
    if (
      expect.expectedAction !== undefined &&
      expect.expectedAction !== null &&
      expect.expectedAction !== action
    ) {
      return fail(
        "action_mismatch",
        `Action mismatch: ticket is for '${action}', expected '${expect.expectedAction}'`,
      );
    }
    if (
      expect.expectedTarget !== undefined &&
      expect.expectedTarget !== null &&
      expect.expectedTarget !== target
    ) {
      return fail(
        "target_mismatch",
        `Target mismatch: ticket is for '${target}', expected '${expect.expectedTarget}'`,
      );
    }
    const ticketParams = (payload.params ?? {}) as Record<string, unknown>;
    // 0.9.0 tickets have no digest: their params are all in clear.
    const digest =
      typeof payload.params_digest === "string" ? payload.params_digest : paramsDigest(ticketParams);
    let params = ticketParams;
    let verified = false;
    if (expect.expectedParams !== undefined) {
      let expected: string;
      try {
        expected = paramsDigest(expect.expectedParams);
      } catch (err) {
        if (err instanceof TicketError) return fail("params_mismatch", `Params mismatch: ${err.message}`);
        throw err;
      }
      if (!sameDigest(expected, digest)) {
        return fail(
          "params_mismatch",
          "Params mismatch: the params differ from those the ticket was issued for",
        );
      }
      params = JSON.parse(canonicalize(expect.expectedParams ?? {})) as Record<string, unknown>;
      verified = true;
    }
    const redacted = isStringList(payload.redacted_params) ? [...payload.redacted_params] : [];
    const ticket: VerifiedTicket = {
      action,
      target,
      caller: payload.caller as string,
      params,
      params_digest: digest,
      params_checked: verified,
      params_complete: verified || redacted.length === 0,
      redacted_params: redacted,
      audit_id: payload.audit_id as string,
      nonce: payload.nonce as string,
      issued_at: claimTimeIso(iat),
      expires_at: claimTimeIso(exp),
      kid: typeof header.kid === "string" ? header.kid : null,
      algorithm: this.ring.algorithm,
    };
    return { ok: true, ticket, expMs: exp * 1000 };
  }
}

/** Claim types a signature cannot vouch for; `null` when all are well-formed. */
function invalidClaim(payload: Record<string, unknown>): string | null {
  for (const name of ["action", "target", "caller", "audit_id"] as const) {
    if (typeof payload[name] !== "string") return `Invalid claim "${name}": must be a string`;
  }
  if (typeof payload.nonce !== "string" || !NONCE.test(payload.nonce)) {
    return 'Invalid claim "nonce": must be 32 lowercase hex characters';
  }
  const params = payload.params;
  if (params !== undefined && params !== null && (typeof params !== "object" || Array.isArray(params))) {
    return 'Invalid claim "params": must be an object';
  }
  const digest = payload.params_digest;
  if (digest !== undefined && (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest))) {
    return 'Invalid claim "params_digest": must be sha256:<64 hex>';
  }
  return null;
}

function storeReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith("State store unavailable") ? message : `State store unavailable: ${message}`;
}
