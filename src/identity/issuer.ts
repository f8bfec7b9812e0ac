/**
 * Issues identity tokens (REFERENCE.md §5.1): `agent_id`, `agent_name`, `roles`, `groups`, `iss`,
 * `iat`, `exp` (whole seconds, truncated), default lifetime one hour. Signed with the
 * "identity-issuer" Ed25519 key and its `kid`, or HS256 when configured. Whoever can call this
 * can mint identities: keep it in the sidecar or an operator's hands, not in an untrusted agent.
 */
import type { CallerIdentity } from "../core/types.js";
import { pydanticIso } from "../jwt/claims.js";
import type { TokenSettings } from "../jwt/config.js";
import { signJwt } from "../jwt/jws.js";
import type { JwtAlgorithm, KeyRing } from "../jwt/keyring.js";
import { identityClaims } from "./claims.js";
import { IdentityError } from "./errors.js";

export interface IdentityInput {
  agentId: string;
  agentName?: string;
  roles?: readonly string[];
  groups?: readonly string[];
  /** Lifetime in seconds; default `keys.identity_ttl_seconds` (3600). */
  ttlSeconds?: number;
}

export interface IssuedIdentity {
  /** The token: a bearer credential. Never log it. */
  token: string;
  identity: CallerIdentity;
  /** pydantic ISO (`…Z`), from the token's whole-second claims. */
  issued_at: string;
  expires_at: string;
  kid: string | null;
  algorithm: JwtAlgorithm;
}

/** The longest lifetime accepted for any identity token: 30 days. */
export const MAX_IDENTITY_TTL_SECONDS = 30 * 24 * 3600;

export interface IdentityIssuerOptions {
  clock?: () => number;
}

export class IdentityIssuer {
  private readonly clock: () => number;

  constructor(
    private readonly ring: KeyRing,
    private readonly settings: Pick<TokenSettings, "issuer" | "identityTtlSeconds">,
    options: IdentityIssuerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  issue(input: IdentityInput): IssuedIdentity {
    const agentId = checkAgentId(input.agentId, "agent id");
    const ttl = checkTtl(input.ttlSeconds ?? this.settings.identityTtlSeconds);
    const iat = Math.floor(this.clock() / 1000);
    return this.sign(
      {
        agent_id: agentId,
        agent_name: checkName(input.agentName),
        roles: checkList(input.roles, "roles"),
        groups: checkList(input.groups, "groups"),
        delegation_chain: [],
        delegated_roles: [],
        delegation_depth: 0,
      },
      iat,
      iat + ttl,
    );
  }

  /** Signs an identity with explicit times (delegation caps `exp` at the parent's). */
  sign(identity: CallerIdentity, iat: number, exp: number): IssuedIdentity {
    const signed = signJwt(this.ring, identityClaims(identity, this.settings.issuer, iat, exp));
    return {
      token: signed.token,
      identity,
      issued_at: pydanticIso(iat * 1000),
      expires_at: pydanticIso(exp * 1000),
      kid: signed.kid,
      algorithm: signed.alg,
    };
  }
}

export function checkAgentId(value: unknown, what: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new IdentityError(`The ${what} must be a non-empty string`, "invalid_request");
  }
  if (value.length > 256 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new IdentityError(
      `The ${what} must be at most 256 characters, without control characters`,
      "invalid_request",
    );
  }
  return value;
}

export function checkName(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string")
    throw new IdentityError("The agent name must be a string", "invalid_request");
  return value;
}

export function checkList(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((x) => typeof x === "string" && x !== "")) {
    throw new IdentityError(`${what} must be a list of non-empty strings`, "invalid_request");
  }
  return [...new Set(value as string[])];
}

export function checkTtl(value: unknown): number {
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_IDENTITY_TTL_SECONDS
  ) {
    throw new IdentityError(
      `The TTL must be a whole number of seconds from 1 to ${MAX_IDENTITY_TTL_SECONDS}`,
      "invalid_request",
    );
  }
  return value;
}
