/**
 * Identity token claims (REFERENCE.md §5.1–5.2) to and from `CallerIdentity`.
 *
 * Reading checks what a signature cannot: the types of the claims, and that a delegation chain is
 * one the delegation rules could have produced — depth equal to the chain length and within the
 * server's limit, no agent twice (no self-delegation, no cycle), and every link no wider than the
 * one before it. A token failing these was minted outside the rules (0.9.0 did not check cycles,
 * and an HS256 secret holder can sign anything) and is refused.
 */
import { pyListRepr, pyStrRepr } from "../core/pyformat.js";
import type { CallerIdentity, DelegationLink } from "../core/types.js";
import { isStringList, TICKET_TYPE } from "../jwt/claims.js";
import { JwtError } from "../jwt/errors.js";

/** Claims whose absence makes a token invalid as an identity (0.9.0's list). */
export const IDENTITY_REQUIRED_CLAIMS = ["agent_id", "iss", "iat", "exp"] as const;

function invalid(message: string): JwtError {
  return new JwtError(message, "invalid_claim");
}

function stringClaim(payload: Record<string, unknown>, name: string, fallback: string): string {
  const v = payload[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "string") throw invalid(`Invalid claim "${name}": must be a string`);
  return v;
}

function listClaim(payload: Record<string, unknown>, name: string): string[] {
  const v = payload[name];
  if (v === undefined || v === null) return [];
  if (!isStringList(v)) throw invalid(`Invalid claim "${name}": must be a list of strings`);
  return [...v];
}

function parseLink(v: unknown, i: number): DelegationLink {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw invalid(`Invalid claim "delegation_chain": link ${i} must be an object`);
  }
  const link = v as Record<string, unknown>;
  if (typeof link.agent_id !== "string" || link.agent_id === "") {
    throw invalid(`Invalid claim "delegation_chain": link ${i} must have a non-empty agent_id`);
  }
  const at = link.delegated_at;
  if (at !== undefined && at !== null && typeof at !== "string") {
    throw invalid(`Invalid claim "delegation_chain": link ${i} delegated_at must be a string`);
  }
  return {
    agent_id: link.agent_id,
    agent_name: stringClaim(link, "agent_name", ""),
    roles: listClaim(link, "roles"),
    groups: listClaim(link, "groups"),
    delegated_at: typeof at === "string" ? at : null,
  };
}

/** Sorted, de-duplicated members of `child` that are not in `parent`. */
export function notHeld(child: readonly string[], parent: readonly string[]): string[] {
  const held = new Set(parent);
  return [...new Set(child.filter((x) => !held.has(x)))].sort();
}

/**
 * The `type` claim tells tickets from identities: any token carrying one is not an identity
 * (0.9.0 identities have none; tickets have `type: execution-ticket`).
 */
export function assertIdentityKind(payload: Record<string, unknown>): void {
  if (payload.type === undefined) return;
  throw new JwtError(
    payload.type === TICKET_TYPE
      ? "Token is an execution ticket, not an identity token"
      : 'Token is not an identity token (unexpected "type" claim)',
    "invalid_claim",
  );
}

/** The verified payload of an identity token as a caller; throws `JwtError` (`invalid_claim`). */
export function identityFromClaims(payload: Record<string, unknown>, maxDepth: number): CallerIdentity {
  const agentId = payload.agent_id;
  if (typeof agentId !== "string" || agentId === "")
    throw invalid('Invalid claim "agent_id": must be a non-empty string');
  const chainClaim = payload.delegation_chain ?? [];
  if (!Array.isArray(chainClaim)) throw invalid('Invalid claim "delegation_chain": must be a list');
  const chain = chainClaim.map(parseLink);
  const depthClaim = payload.delegation_depth ?? 0;
  if (typeof depthClaim !== "number" || !Number.isInteger(depthClaim) || depthClaim < 0) {
    throw invalid('Invalid claim "delegation_depth": must be a non-negative integer');
  }
  const identity: CallerIdentity = {
    agent_id: agentId,
    agent_name: stringClaim(payload, "agent_name", ""),
    roles: listClaim(payload, "roles"),
    groups: listClaim(payload, "groups"),
    delegation_chain: chain,
    delegated_roles: listClaim(payload, "delegated_roles"),
    delegation_depth: depthClaim,
  };
  checkChain(identity, maxDepth);
  return identity;
}

/** The delegation rules, re-checked on every verified token. */
export function checkChain(identity: CallerIdentity, maxDepth: number): void {
  const chain = identity.delegation_chain;
  if (identity.delegation_depth !== chain.length) {
    throw invalid(
      `Delegation depth ${identity.delegation_depth} does not match the chain length ${chain.length}`,
    );
  }
  if (identity.delegation_depth > maxDepth) {
    throw invalid(`Delegation depth ${identity.delegation_depth} exceeds max depth ${maxDepth}`);
  }
  const seen = new Set<string>();
  for (const id of [...chain.map((l) => l.agent_id), identity.agent_id]) {
    if (seen.has(id)) throw invalid(`Delegation cycle: ${pyStrRepr(id)} appears more than once in the chain`);
    seen.add(id);
  }
  for (let i = 1; i <= chain.length; i++) {
    const parent = chain[i - 1]!;
    const child = i < chain.length ? chain[i]! : identity;
    const roles = notHeld(child.roles, parent.roles);
    if (roles.length > 0) {
      throw invalid(`Delegated roles not held by ${pyStrRepr(parent.agent_id)}: ${pyListRepr(roles)}`);
    }
    const groups = notHeld(child.groups, parent.groups);
    if (groups.length > 0) {
      throw invalid(`Delegated groups not held by ${pyStrRepr(parent.agent_id)}: ${pyListRepr(groups)}`);
    }
  }
  const delegated = notHeld(identity.delegated_roles, identity.roles);
  if (delegated.length > 0) throw invalid(`Delegated roles not held by the caller: ${pyListRepr(delegated)}`);
}

/** The payload of an identity token: 0.9.0's claims, in 0.9.0's order. */
export function identityClaims(
  identity: CallerIdentity,
  issuer: string,
  iat: number,
  exp: number,
): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    agent_id: identity.agent_id,
    agent_name: identity.agent_name,
    roles: identity.roles,
    groups: identity.groups,
    iss: issuer,
    iat,
    exp,
  };
  if (identity.delegation_depth > 0) {
    claims.delegation_chain = identity.delegation_chain;
    claims.delegated_roles = identity.delegated_roles;
    claims.delegation_depth = identity.delegation_depth;
  }
  return claims;
}

/** A deep-frozen copy: cached identities are shared, so nobody may change them. */
export function frozenIdentity(identity: CallerIdentity): CallerIdentity {
  return Object.freeze({
    ...identity,
    roles: Object.freeze([...identity.roles]) as string[],
    groups: Object.freeze([...identity.groups]) as string[],
    delegated_roles: Object.freeze([...identity.delegated_roles]) as string[],
    delegation_chain: Object.freeze(
      identity.delegation_chain.map((l) =>
        Object.freeze({
          ...l,
          roles: Object.freeze([...l.roles]) as string[],
          groups: Object.freeze([...l.groups]) as string[],
        }),
      ),
    ) as DelegationLink[],
  });
}
