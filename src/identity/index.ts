/**
 * Identity tokens and delegation (REFERENCE.md §5, DESIGN.md §4 item 5, THREATS.md T11, T14–T16).
 *
 * Wiring (for the decision pipeline, the SDK and the sidecar):
 *
 * ```ts
 * const keys = projectTokenKeys(project);               // null when agent-safe.yaml has no `keys:`
 * const identity = keys === null ? null : identityServices(keys);
 *
 * // 1. Caller resolution, first check of the strict pipeline:
 * const r = await resolveCaller(request.caller, {
 *   profile: world.profile,
 *   verifier: identity?.verifier ?? null,
 *   trusted: true,                                      // SDK in-process; the sidecar passes false
 * });
 * if (r.error !== undefined) return deny(r.error);     // "Unauthenticated caller: <why>", code r.code
 * const caller = r.caller;                             // CallerIdentity | null (frozen when from a token)
 *
 * // 2. SDK delegate():
 * const d = await identity.delegation.createDelegation(parentToken, { childAgentId, childName, roles, groups, ttl });
 * //   throws DelegationError (a subclass of IdentityError) with 0.9.0's reason strings.
 * // 3. SDK verify_delegation(): identity.delegation.verifyDelegation(token) → VerifiedIdentity | throws
 * // 4. Minting: identity.issuer.issue({ agentId, agentName, roles, groups, ttlSeconds }) → { token, … }
 * ```
 *
 * Identity tokens are verified with jose, algorithm pinned to the deployment's (`EdDSA` by
 * default with a `kid`, `HS256` only when configured), and cached until they expire.
 */
import type { TokenKeys } from "../jwt/config.js";
import { DelegationService } from "./delegation.js";
import { IdentityIssuer } from "./issuer.js";
import { IdentityVerifier, type IdentityVerifierOptions } from "./verifier.js";

export { TICKET_TYPE } from "../jwt/claims.js";
export {
  ed25519TokenKeys,
  hmacTokenKeys,
  projectTokenKeys,
  type TokenKeys,
  type TokenSettings,
} from "../jwt/config.js";
export { type DelegationRequest, DelegationService, type DelegationToken } from "./delegation.js";
export { DelegationError, IdentityError, type IdentityErrorCode } from "./errors.js";
export { type IdentityInput, IdentityIssuer, type IssuedIdentity } from "./issuer.js";
export {
  type CallerResolution,
  type CallerSource,
  type ResolveCallerOptions,
  resolveCaller,
  type UnauthenticatedCode,
} from "./resolve.js";
export { IdentityVerifier, type IdentityVerifierOptions, type VerifiedIdentity } from "./verifier.js";

export interface IdentityServices {
  issuer: IdentityIssuer;
  verifier: IdentityVerifier;
  delegation: DelegationService;
}

export interface IdentityServicesOptions extends IdentityVerifierOptions {}

/** The issuer, verifier (with its cache) and delegation service for one deployment's keys. */
export function identityServices(keys: TokenKeys, options: IdentityServicesOptions = {}): IdentityServices {
  const clock = options.clock ?? Date.now;
  const issuer = new IdentityIssuer(keys.identity, keys.settings, { clock });
  const verifier = new IdentityVerifier(keys.identity, keys.settings, { ...options, clock });
  return { issuer, verifier, delegation: new DelegationService(issuer, verifier, { clock }) };
}
