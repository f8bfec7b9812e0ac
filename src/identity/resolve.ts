/**
 * Caller resolution (REFERENCE.md §2.1, DESIGN.md §4 item 5): what a request's `caller` becomes.
 *
 * Strict profile with keys configured — a caller must prove who it is:
 * - an identity token that verifies → that identity;
 * - an identity object → accepted only from a trusted in-process caller (`trusted: true`);
 * - anything else (no caller, a bare id, an invalid, expired, wrong-issuer or wrong-algorithm
 *   token, an untrusted object) → `{ error: "Unauthenticated caller: <why>" }`. The text is never
 *   reused as an agent id.
 *
 * Reference profile, or no keys configured — 0.9.0: `null` is anonymous, an object is taken as
 * given, a string is verified when a verifier exists and otherwise (or when verification fails
 * for any reason) becomes a bare agent id with no roles.
 */
import type { CallerIdentity, Profile } from "../core/types.js";
import { bareCaller, normalizeCaller } from "../pdp/caller.js";
import { IdentityError } from "./errors.js";
import type { IdentityVerifier } from "./verifier.js";

export interface ResolveCallerOptions {
  profile: Profile;
  /** The project's verifier; `null` when no keys are configured. */
  verifier: IdentityVerifier | null;
  /**
   * Whether keys are configured. Defaults to `verifier !== null`; `true` without a verifier
   * refuses every caller (fail closed).
   */
  keysConfigured?: boolean;
  /** In-process callers (SDK, what-if, tests) may pass identity objects; the sidecar may not. */
  trusted: boolean;
}

export type CallerSource = "token" | "object" | "anonymous" | "bare-id";

export type CallerResolution =
  | { caller: CallerIdentity | null; source: CallerSource; error?: undefined }
  | { error: string; code: UnauthenticatedCode; caller?: undefined };

export type UnauthenticatedCode =
  | "no_caller"
  | "bare_id"
  | "untrusted_object"
  | "keys_unavailable"
  | IdentityError["code"];

const PREFIX = "Unauthenticated caller: ";

/** A JWT starts with the base64url of `{"` or at least has three segments; anything else is a bare id. */
function looksLikeJwt(text: string): boolean {
  return text.startsWith("eyJ") || text.split(".").length >= 3;
}

function refuse(why: string, code: UnauthenticatedCode): CallerResolution {
  return { error: `${PREFIX}${why}`, code };
}

/**
 * Resolves `input` (null | string | identity object). Throws `InvalidCallerError` only for a
 * malformed trusted object (the request is invalid, not unauthenticated).
 */
export async function resolveCaller(
  input: unknown,
  options: ResolveCallerOptions,
): Promise<CallerResolution> {
  const keysConfigured = options.keysConfigured ?? options.verifier !== null;
  const strict = options.profile === "strict" && keysConfigured;
  if (!strict) return resolveLoose(input, options.verifier);

  if (input === null || input === undefined) return refuse("no identity token was presented", "no_caller");
  if (typeof input === "string") {
    if (!looksLikeJwt(input)) return refuse("a bare agent id is not an identity token", "bare_id");
    if (options.verifier === null) return refuse("identity keys are not available", "keys_unavailable");
    try {
      return { caller: await options.verifier.verify(input), source: "token" };
    } catch (err) {
      if (err instanceof IdentityError) return refuse(err.message, err.code);
      // A key store that cannot be read denies; it never lets the caller through.
      return refuse(`identity keys are not available (${(err as Error).message})`, "keys_unavailable");
    }
  }
  if (!options.trusted && typeof input === "object") {
    return refuse(
      "identity objects are accepted only in-process; present an identity token",
      "untrusted_object",
    );
  }
  return { caller: normalizeCaller(input), source: "object" };
}

async function resolveLoose(input: unknown, verifier: IdentityVerifier | null): Promise<CallerResolution> {
  if (input === null || input === undefined) return { caller: null, source: "anonymous" };
  if (typeof input === "string") {
    if (verifier !== null) {
      try {
        return { caller: await verifier.verify(input), source: "token" };
      } catch {
        // 0.9.0: any failure turns the whole string into a bare agent id.
      }
    }
    return { caller: bareCaller(input), source: "bare-id" };
  }
  return { caller: normalizeCaller(input), source: "object" };
}
