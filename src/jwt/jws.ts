/**
 * Compact JWS: signing and verification with the algorithm pinned.
 *
 * Verification is jose's (`compactVerify`, with `algorithms` set to the one algorithm of the
 * deployment). Before jose runs we decode the segments ourselves, to give PyJWT's messages for
 * malformed input and to pick the key by `kid` from our own key ring (never from a `jku`, `jwk`
 * or `x5u` header). `alg: none`, an HS256 token on an EdDSA deployment (algorithm confusion),
 * and the reverse all stop at the algorithm check.
 *
 * Signing writes the compact form directly with node:crypto (Ed25519 or HMAC-SHA256): the same
 * bytes jose would produce, about three times faster than jose's WebCrypto path (ticket issuance
 * is on the decision hot path). Tests check every token we sign with jose's own `jwtVerify`.
 * `prepareJwt` fixes the key and encodes the claims at once but signs on first use, so a token
 * nobody reads costs no signature (an Ed25519 signature is ~22 µs of the ~25 a ticket costs).
 */
import { compactVerify, errors } from "jose";
import { JwtError } from "./errors.js";
import type { JwtAlgorithm, KeyRing } from "./keyring.js";

/** Larger tokens are refused before any parsing or crypto (a delegation chain is a few KB). */
export const MAX_TOKEN_LENGTH = 64 * 1024;

export interface JwtHeader {
  alg: JwtAlgorithm;
  typ?: string;
  kid?: string;
  [key: string]: unknown;
}

export interface VerifiedJws {
  header: JwtHeader;
  payload: Record<string, unknown>;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Reused for encoding (tokens are built one at a time, synchronously). */
let scratch = Buffer.allocUnsafe(8192);

function b64url(text: string): string {
  if (scratch.length < text.length * 3) scratch = Buffer.allocUnsafe(text.length * 3);
  const n = scratch.write(text, 0, "utf8");
  return scratch.toString("base64url", 0, n);
}

export interface SignedJwt {
  token: string;
  kid: string | null;
  alg: JwtAlgorithm;
}

/** The last encoded header (a deployment signs with one key at a time). */
let lastHeader: { alg: JwtAlgorithm; kid: string | null; encoded: string } | null = null;

function encodedHeader(alg: JwtAlgorithm, kid: string | null): string {
  if (lastHeader !== null && lastHeader.alg === alg && lastHeader.kid === kid) return lastHeader.encoded;
  const header: Record<string, string> = kid === null ? { alg, typ: "JWT" } : { alg, kid, typ: "JWT" };
  lastHeader = { alg, kid, encoded: b64url(JSON.stringify(header)) };
  return lastHeader.encoded;
}

/**
 * A JWT whose header and payload are fixed (the key chosen, the claims encoded) and whose
 * signature is computed on first use. Ed25519 and HMAC signatures are deterministic, so the token
 * is the same bytes whenever it is produced.
 */
export interface PreparedJwt {
  kid: string | null;
  alg: JwtAlgorithm;
  /** The compact token (signed once, then remembered). */
  token(): string;
}

/** Chooses the key and encodes `payload` (a JSON object) now; signs when the token is asked for. */
export function prepareJwt(ring: KeyRing, payload: Record<string, unknown>): PreparedJwt {
  const signer = ring.signer();
  const signingInput = `${encodedHeader(signer.alg, signer.kid)}.${b64url(JSON.stringify(payload))}`;
  let token: string | null = null;
  return {
    kid: signer.kid,
    alg: signer.alg,
    token: () => {
      token ??= `${signingInput}.${signer.sign(Buffer.from(signingInput, "latin1")).toString("base64url")}`;
      return token;
    },
  };
}

/** Signs `payload` (a JSON object) with the ring's current key; `typ: JWT`, `kid` when EdDSA. */
export function signJwt(ring: KeyRing, payload: Record<string, unknown>): SignedJwt {
  const prepared = prepareJwt(ring, payload);
  return { token: prepared.token(), kid: prepared.kid, alg: prepared.alg };
}

function decodeSegment(segment: string, what: "header" | "payload"): Record<string, unknown> {
  if (!B64URL.test(segment) || segment.length % 4 === 1)
    throw new JwtError(`Invalid ${what} padding`, "malformed");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    // The parser's message quotes the input: never echo attacker bytes into a reason.
    throw new JwtError(`Invalid ${what} string: not valid JSON`, "malformed");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new JwtError(`Invalid ${what} string: must be a json object`, "malformed");
  }
  return value as Record<string, unknown>;
}

/** Decodes without verifying. For messages and tests only: never trust what it returns. */
export function decodeUnverified(token: string): VerifiedJws {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("Not enough segments", "malformed");
  return {
    header: decodeSegment(parts[0]!, "header") as JwtHeader,
    payload: decodeSegment(parts[1]!, "payload"),
  };
}

/**
 * Checks format, algorithm, key and signature. Claims (`exp`, `iss`, …) are the caller's to check
 * (see claims.ts), in PyJWT's order. Throws `JwtError`; any other error is a fault of ours.
 */
export async function verifyJws(token: unknown, ring: KeyRing, nowMs: number): Promise<VerifiedJws> {
  if (typeof token !== "string")
    throw new JwtError("Invalid token type: a token must be a string", "malformed");
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError("Token is too large", "malformed");
  const parts = token.split(".");
  if (parts.length < 3) throw new JwtError("Not enough segments", "malformed");
  if (parts.length > 3) throw new JwtError("Too many segments", "malformed");
  const header = decodeSegment(parts[0]!, "header");
  const payload = decodeSegment(parts[1]!, "payload");
  const signature = parts[2]!;
  if (!B64URL.test(signature) || signature.length % 4 === 1)
    throw new JwtError("Invalid crypto padding", "malformed");
  if (header.alg !== ring.algorithm)
    throw new JwtError("The specified alg value is not allowed", "algorithm");
  const key = await ring.verificationKey(ring.algorithm === "EdDSA" ? header.kid : null, nowMs);
  try {
    await compactVerify(token, key, { algorithms: [ring.algorithm] });
  } catch (err) {
    throw joseError(err);
  }
  return { header: header as JwtHeader, payload };
}

function joseError(err: unknown): Error {
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new JwtError("Signature verification failed", "signature");
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new JwtError("The specified alg value is not allowed", "algorithm");
  if (err instanceof errors.JOSEError) return new JwtError(err.message, "malformed");
  return err instanceof Error ? err : new Error(String(err));
}
