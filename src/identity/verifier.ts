/**
 * Verifies identity and delegation tokens: format, the one pinned algorithm, the `kid` among the
 * "identity-issuer" keys (retired ones until `keep_until`), the signature, the kind (a token with
 * a `type` claim, i.e. an execution ticket, is not an identity), the claims in PyJWT's order
 * (required, `iat`, `nbf`, `exp`, `iss`, `aud`), and the delegation rules.
 *
 * Reason strings are 0.9.0's: `Token has expired`, `Invalid token issuer: Invalid issuer`,
 * `Invalid token: <detail>` (e.g. `Signature verification failed`,
 * `The specified alg value is not allowed`, `Unknown key id (kid)`, `The token is not yet valid (iat)`).
 *
 * Verified tokens are cached until they expire (or their key's keep period ends), in a bounded
 * LRU keyed by the token itself (by its SHA-256 when longer than 1 KB), so a hot caller costs a
 * map lookup. Failures are
 * cached for at most a second (never those that time or a key reload can cure), which blunts
 * floods of the same bad token without ever hiding a token that became valid.
 */
import { sha256 } from "../codec/hash.js";
import type { CallerIdentity } from "../core/types.js";
import { checkRegisteredClaims } from "../jwt/claims.js";
import type { TokenSettings } from "../jwt/config.js";
import { JwtError } from "../jwt/errors.js";
import { MAX_TOKEN_LENGTH, verifyJws } from "../jwt/jws.js";
import type { JwtAlgorithm, KeyRing } from "../jwt/keyring.js";
import { LruCache } from "./cache.js";
import {
  assertIdentityKind,
  frozenIdentity,
  IDENTITY_REQUIRED_CLAIMS,
  identityFromClaims,
} from "./claims.js";
import { IdentityError } from "./errors.js";

export interface VerifiedIdentity {
  /** Deep-frozen: shared with the cache. */
  identity: CallerIdentity;
  /** Epoch seconds, as in the token (`iat` may be fractional in 0.9.0 tokens). */
  issuedAt: number;
  expiresAt: number;
  kid: string | null;
  algorithm: JwtAlgorithm;
}

export interface IdentityVerifierOptions {
  clock?: () => number;
  /** Verified tokens kept (default 32,768: about 1.5 KB each with the key). */
  cacheSize?: number;
  /** How long a failure is remembered (default 1000 ms; 0 disables). */
  failureCacheMs?: number;
}

interface CachedFailure {
  error: IdentityError;
  untilMs: number;
}

/**
 * Verified tokens kept by default (was 10,000). A cache smaller than the set of tokens in use
 * misses on every call when they are used in turn (each miss an Ed25519 verification, ~60 µs);
 * an entry costs about 1.5 KB (identity and key), so a full cache about 50 MB.
 */
export const DEFAULT_CACHE_SIZE = 32_768;

const UNCACHEABLE_FAILURES = new Set(["unknown_key", "immature"]);

/** Maps a `JwtError` to 0.9.0's identity reason strings. */
export function identityErrorFrom(err: JwtError): IdentityError {
  if (err.code === "expired") return new IdentityError("Token has expired", "expired");
  if (err.code === "issuer") return new IdentityError("Invalid token issuer: Invalid issuer", "issuer");
  return new IdentityError(`Invalid token: ${err.message}`, err.code);
}

export class IdentityVerifier {
  private readonly clock: () => number;
  private readonly cache: LruCache<VerifiedIdentity>;
  private readonly failures: LruCache<CachedFailure>;
  private readonly failureCacheMs: number;
  private notEnoughSegments: IdentityError | null = null;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly ring: KeyRing,
    private readonly settings: Pick<TokenSettings, "issuer" | "maxDelegationDepth" | "leewaySeconds">,
    options: IdentityVerifierOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.cache = new LruCache(options.cacheSize ?? DEFAULT_CACHE_SIZE);
    this.failures = new LruCache(1024);
    this.failureCacheMs = options.failureCacheMs ?? 1000;
  }

  get maxDelegationDepth(): number {
    return this.settings.maxDelegationDepth;
  }

  /** The caller the token proves, or `IdentityError` with the reason. */
  async verify(token: string): Promise<CallerIdentity> {
    return (await this.verifyToken(token)).identity;
  }

  /** Like `verify`, with the token's times, `kid` and algorithm. */
  async verifyToken(token: string): Promise<VerifiedIdentity> {
    const now = this.clock();
    if (typeof token !== "string")
      throw new IdentityError("Invalid token: a token must be a string", "malformed");
    if (token.length <= MAX_TOKEN_LENGTH && !hasThreeSegments(token)) {
      // What verifyJws would say, without hashing or caching a bare id.
      this.notEnoughSegments ??= identityErrorFrom(new JwtError("Not enough segments", "malformed"));
      throw this.notEnoughSegments;
    }
    const key = cacheKey(token);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      if (now < this.validUntil(hit, now)) {
        this.hits++;
        return hit;
      }
      this.cache.delete(key);
    }
    const failed = this.failures.get(key);
    if (failed !== undefined && now < failed.untilMs) throw failed.error;
    this.misses++;
    try {
      const verified = await this.verifyUncached(token, now);
      this.cache.set(key, verified);
      return verified;
    } catch (err) {
      if (err instanceof IdentityError && this.failureCacheMs > 0 && !UNCACHEABLE_FAILURES.has(err.code)) {
        this.failures.set(key, { error: err, untilMs: now + this.failureCacheMs });
      }
      throw err;
    }
  }

  /** Drops every cached verification (e.g. after revoking a key). */
  clearCache(): void {
    this.cache.clear();
    this.failures.clear();
  }

  get cacheStats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.cache.size };
  }

  private validUntil(v: VerifiedIdentity, now: number): number {
    const expiry = (v.expiresAt + this.settings.leewaySeconds) * 1000;
    return Math.min(expiry, this.ring.keyValidUntil(v.kid, now));
  }

  private async verifyUncached(token: string, now: number): Promise<VerifiedIdentity> {
    try {
      const { header, payload } = await verifyJws(token, this.ring, now);
      assertIdentityKind(payload);
      const { iat, exp } = checkRegisteredClaims(payload, {
        required: IDENTITY_REQUIRED_CLAIMS,
        issuer: this.settings.issuer,
        nowMs: now,
        leewaySeconds: this.settings.leewaySeconds,
      });
      const identity = frozenIdentity(identityFromClaims(payload, this.settings.maxDelegationDepth));
      const kid = this.ring.algorithm === "EdDSA" && typeof header.kid === "string" ? header.kid : null;
      return { identity, issuedAt: iat, expiresAt: exp, kid, algorithm: this.ring.algorithm };
    } catch (err) {
      if (err instanceof JwtError) throw identityErrorFrom(err);
      throw err;
    }
  }
}

/** Whether `token` has at least two dots (three segments), as a JWS must. */
function hasThreeSegments(token: string): boolean {
  const first = token.indexOf(".");
  return first !== -1 && token.indexOf(".", first + 1) !== -1;
}

/**
 * Tokens up to this length are cached under themselves (a map lookup, no digest); longer ones
 * (long delegation chains) under their SHA-256, so no entry holds more than about 1 KB of key.
 */
const RAW_KEY_MAX = 1024;

/** The cache key of a token: itself when short (no dots in a digest: the two never meet). */
function cacheKey(token: string): string {
  return token.length <= RAW_KEY_MAX ? token : sha256(token, "base64");
}
