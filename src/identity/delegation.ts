/**
 * Delegation tokens (REFERENCE.md §5.2) with 0.9.0's holes closed (THREATS.md T14–T16):
 *
 * - the maximum depth is the server's (`keys.max_delegation_depth`, default 5); a request may
 *   lower it, never raise it;
 * - self-delegation and cycles (the child already in the chain) are refused;
 * - the child's roles and groups must be held by the parent (nothing is inherited by default);
 * - the child expires no later than the parent, so it dies with it.
 *
 * The chain lives inside the signed token, and the verifier re-checks all of these rules on
 * every token it accepts (claims.ts `checkChain`).
 */
import { pyListRepr, pyStrRepr } from "../core/pyformat.js";
import type { CallerIdentity, DelegationLink } from "../core/types.js";
import { pydanticIso } from "../jwt/claims.js";
import type { JwtAlgorithm } from "../jwt/keyring.js";
import { checkChain, notHeld } from "./claims.js";
import { DelegationError, IdentityError } from "./errors.js";
import { checkAgentId, checkList, checkName, type IdentityIssuer } from "./issuer.js";
import type { IdentityVerifier, VerifiedIdentity } from "./verifier.js";

export interface DelegationRequest {
  childAgentId: string;
  childName?: string;
  /** Must be held by the parent; omitted or empty means none. */
  roles?: readonly string[];
  groups?: readonly string[];
  /** Seconds; capped at the parent's remaining lifetime (the default). */
  ttl?: number;
  /** Lowers the server's maximum depth for this request; cannot raise it. */
  maxDepth?: number;
}

export interface DelegationToken {
  /** A bearer credential for the child. Never log it. */
  token: string;
  identity: CallerIdentity;
  parent_agent_id: string;
  child_agent_id: string;
  delegation_depth: number;
  delegated_roles: string[];
  delegation_chain: DelegationLink[];
  issued_at: string;
  expires_at: string;
  kid: string | null;
  algorithm: JwtAlgorithm;
}

export interface DelegationServiceOptions {
  clock?: () => number;
}

export class DelegationService {
  private readonly clock: () => number;

  constructor(
    private readonly issuer: IdentityIssuer,
    private readonly verifier: IdentityVerifier,
    options: DelegationServiceOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** The server's limit. */
  get maxDepth(): number {
    return this.verifier.maxDelegationDepth;
  }

  /** Mints a token for `childAgentId` acting for the parent; `DelegationError` with the reason. */
  async createDelegation(parentToken: string, request: DelegationRequest): Promise<DelegationToken> {
    let parent: VerifiedIdentity;
    try {
      parent = await this.verifier.verifyToken(parentToken);
    } catch (err) {
      if (err instanceof IdentityError)
        throw new DelegationError(`Invalid parent token: ${err.message}`, err.code);
      throw err;
    }
    const now = this.clock();
    const p = parent.identity;
    const child = delegationInput(() => checkAgentId(request.childAgentId, "child agent id"));
    const childName = delegationInput(() => checkName(request.childName));
    const roles = delegationInput(() => checkList(request.roles, "roles"));
    const groups = delegationInput(() => checkList(request.groups, "groups"));
    const maxDepth = this.effectiveMaxDepth(request.maxDepth);

    if (child === p.agent_id) {
      throw refused(`Self-delegation is not allowed: ${pyStrRepr(child)} cannot delegate to itself`);
    }
    if (p.delegation_chain.some((link) => link.agent_id === child)) {
      throw refused(`Delegation cycle: ${pyStrRepr(child)} is already in the delegation chain`);
    }
    const depth = p.delegation_depth + 1;
    if (depth > maxDepth) throw refused(`Delegation depth ${depth} exceeds max depth ${maxDepth}`);
    const extraRoles = notHeld(roles, p.roles);
    if (extraRoles.length > 0)
      throw refused(`Cannot delegate roles not held by parent: ${pyListRepr(extraRoles)}`);
    const extraGroups = notHeld(groups, p.groups);
    if (extraGroups.length > 0)
      throw refused(`Cannot delegate groups not held by parent: ${pyListRepr(extraGroups)}`);

    const iat = Math.floor(now / 1000);
    const parentExp = Math.floor(parent.expiresAt);
    if (parent.expiresAt * 1000 <= now || parentExp <= iat) throw refused("Parent token has expired");
    const ttl = request.ttl;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) {
      throw refused("The TTL must be a whole number of seconds, at least 1");
    }
    const exp = ttl === undefined ? parentExp : Math.min(iat + ttl, parentExp);

    const link: DelegationLink = {
      agent_id: p.agent_id,
      agent_name: p.agent_name,
      roles: [...p.roles],
      groups: [...p.groups],
      delegated_at: pydanticIso(now),
    };
    const identity: CallerIdentity = {
      agent_id: child,
      agent_name: childName,
      roles,
      groups,
      delegation_chain: [...p.delegation_chain.map((l) => ({ ...l })), link],
      delegated_roles: [...roles],
      delegation_depth: depth,
    };
    checkChain(identity, maxDepth);
    const issued = this.issuer.sign(identity, iat, exp);
    return {
      token: issued.token,
      identity,
      parent_agent_id: p.agent_id,
      child_agent_id: child,
      delegation_depth: depth,
      delegated_roles: identity.delegated_roles,
      delegation_chain: identity.delegation_chain,
      issued_at: issued.issued_at,
      expires_at: issued.expires_at,
      kid: issued.kid,
      algorithm: issued.algorithm,
    };
  }

  /** The token's identity (direct or delegated), or `IdentityError` with the reason. */
  verifyDelegation(token: string): Promise<VerifiedIdentity> {
    return this.verifier.verifyToken(token);
  }

  private effectiveMaxDepth(requested: number | undefined): number {
    const server = this.maxDepth;
    if (requested === undefined) return server;
    if (!Number.isInteger(requested) || requested < 1) {
      throw refused("The maximum delegation depth must be a positive integer");
    }
    return Math.min(requested, server);
  }
}

function refused(message: string): DelegationError {
  return new DelegationError(message, "invalid_request");
}

function delegationInput<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof IdentityError) throw new DelegationError(err.message, err.code);
    throw err;
  }
}
