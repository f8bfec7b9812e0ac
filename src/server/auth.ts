/**
 * Who is asking. The caller is identified only by `Authorization: Bearer <identity token>`; a
 * request body can name neither a caller nor a time. Two kinds of route use it differently:
 *
 * - decision routes (`/v1/check`, `/v1/check-plan`) hand the bearer to the pipeline as the
 *   caller. A missing, forged, expired or bare-id credential is then a DENY decision
 *   (`Unauthenticated caller: <why>`, code `unauthenticated`), recorded in the audit log like
 *   every decision, exactly as in-process; the response carries `WWW-Authenticate`.
 * - every other authenticated route needs a verified identity and answers 401 without one.
 *
 * Admin routes take a separate admin token (a file given to `serve --admin-token-file`),
 * compared in constant time. Tokens are never logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { CallerIdentity } from "../core/types.js";
import { IdentityError } from "../identity/errors.js";
import type { IdentityVerifier } from "../identity/verifier.js";
import { HttpError, unauthenticated } from "./errors.js";

/** The shortest admin token accepted. */
export const MIN_ADMIN_TOKEN_LENGTH = 24;

/**
 * The credentials of `Authorization: Bearer <credentials>` (scheme case-insensitive; may be
 * empty), or `null` without the header. Any other scheme is a 401.
 */
export function bearerOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (Array.isArray(header)) throw unauthenticated("Send one Authorization header");
  const m = /^bearer(?:[ \t]+(.*))?$/is.exec(header.trim());
  if (m === null) throw unauthenticated("The Authorization header must be: Bearer <identity token>");
  return (m[1] ?? "").trim();
}

/** A verified identity for a route that needs one; 401 otherwise (a missing key store: 401 too). */
export async function requireIdentity(
  verifier: IdentityVerifier | null,
  bearer: string | null,
): Promise<CallerIdentity> {
  if (verifier === null) {
    throw new HttpError(501, "not_configured", "Identity keys are not configured (no keys: section)");
  }
  if (bearer === null || bearer === "") throw unauthenticated("No identity token was presented");
  try {
    return await verifier.verify(bearer);
  } catch (err) {
    if (err instanceof IdentityError) throw unauthenticated(`Invalid identity token: ${err.message}`);
    throw unauthenticated("Identity keys are not available");
  }
}

/** The admin token, kept only as its SHA-256 so that comparing takes the same time for any input. */
export class AdminToken {
  private constructor(private readonly digest: Buffer) {}

  /**
   * Reads the token from `path` (one trailing newline ignored). The file must not be readable
   * by group or others, and the token must be at least `MIN_ADMIN_TOKEN_LENGTH` characters.
   */
  static fromFile(path: string): AdminToken {
    let text: string;
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
      text = readFileSync(path, "utf8").replace(/\r?\n$/, "");
    } catch {
      throw new AdminTokenError(`cannot read the admin token file ${path}`);
    }
    if ((mode & 0o077) !== 0) {
      throw new AdminTokenError(
        `the admin token file ${path} is accessible by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      );
    }
    return AdminToken.of(text);
  }

  static of(token: string): AdminToken {
    if (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw new AdminTokenError(
        `the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without whitespace ` +
          "(e.g. openssl rand -hex 32)",
      );
    }
    return new AdminToken(sha256(token));
  }

  /** Constant-time: both sides are hashed to 32 bytes first, so even the length does not leak. */
  matches(presented: string | null): boolean {
    if (presented === null) return false;
    return timingSafeEqual(sha256(presented), this.digest);
  }

  /** 401 without a token, 403 with a wrong one. */
  check(bearer: string | null): void {
    if (bearer === null || bearer === "") throw unauthenticated("The admin token is required");
    if (!this.matches(bearer)) throw new HttpError(403, "forbidden", "Wrong admin token");
  }
}

export class AdminTokenError extends Error {
  override name = "AdminTokenError";
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
