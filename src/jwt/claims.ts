/**
 * Registered-claim checks in PyJWT's order and words, as 0.9.0 applied them (leeway 0 by default):
 * required claims, then `iat` (not in the future), `nbf`, `exp` (must be in the future), `iss`,
 * and `aud` (none is configured, so any non-empty audience is refused).
 */
import { JwtError } from "./errors.js";

/** The `type` claim of an execution ticket; identity tokens carry no `type` claim. */
export const TICKET_TYPE = "execution-ticket";

export interface ClaimRules {
  /** Claims that must be present and non-null, checked in this order. */
  required: readonly string[];
  issuer: string;
  nowMs: number;
  /** Clock tolerance for replicas whose clocks differ slightly (default 0, as 0.9.0). */
  leewaySeconds?: number;
}

export interface RegisteredClaims {
  iat: number;
  exp: number;
}

function numericClaim(payload: Record<string, unknown>, name: string, label: string): number | undefined {
  const v = payload[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new JwtError(`${label} claim (${name}) must be an integer.`, "invalid_claim");
  }
  return v;
}

/** Throws `JwtError` at the first failing check; returns `iat` and `exp` in epoch seconds. */
export function checkRegisteredClaims(payload: Record<string, unknown>, rules: ClaimRules): RegisteredClaims {
  for (const claim of rules.required) {
    if (payload[claim] === undefined || payload[claim] === null) {
      throw new JwtError(`Token is missing the "${claim}" claim`, "missing_claim");
    }
  }
  const now = rules.nowMs / 1000;
  const leeway = rules.leewaySeconds ?? 0;
  const iat = numericClaim(payload, "iat", "Issued At");
  if (iat !== undefined && iat > now + leeway)
    throw new JwtError("The token is not yet valid (iat)", "immature");
  const nbf = numericClaim(payload, "nbf", "Not Before");
  if (nbf !== undefined && nbf > now + leeway)
    throw new JwtError("The token is not yet valid (nbf)", "immature");
  const exp = numericClaim(payload, "exp", "Expiration Time");
  if (exp !== undefined && exp <= now - leeway) throw new JwtError("Signature has expired", "expired");
  if (payload.iss !== rules.issuer) throw new JwtError("Invalid issuer", "issuer");
  const aud = payload.aud;
  if (aud !== undefined && aud !== null && !(Array.isArray(aud) && aud.length === 0) && aud !== "") {
    throw new JwtError("Invalid audience", "audience");
  }
  if (iat === undefined || exp === undefined) {
    // Only reachable when a caller does not require them; every token type here does.
    throw new JwtError(`Token is missing the "${iat === undefined ? "iat" : "exp"}" claim`, "missing_claim");
  }
  return { iat, exp };
}

export function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, pydantic's JSON form (microseconds omitted when zero). */
export function pydanticIso(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  const ms = iso.slice(20, 23);
  return ms === "000" ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${ms}000Z`;
}

/** Python `isoformat()` of an aware UTC time: like `pydanticIso` but ending in `+00:00`. */
export function pythonIsoformat(epochMs: number): string {
  return `${pydanticIso(epochMs).slice(0, -1)}+00:00`;
}

/** An epoch-seconds claim (possibly fractional) as pydantic ISO. */
export function claimTimeIso(seconds: number): string {
  return pydanticIso(Math.round(seconds * 1000));
}
