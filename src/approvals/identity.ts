/**
 * Who is acting on a request: an approver (or denier) must be identified — an identity token that
 * verifies with the deployment's identity keys, or, in-process only (the SDK), a trusted identity
 * object. No identity, a bare agent id, a token that fails, or an object from an untrusted
 * surface (the CLI, the sidecar) is refused: an approval is never anonymous.
 */
import { pyStrRepr } from "../core/pyformat.js";
import type { CallerIdentity } from "../core/types.js";
import { IdentityError } from "../identity/errors.js";
import type { IdentityVerifier } from "../identity/verifier.js";
import { InvalidCallerError, normalizeCaller } from "../pdp/caller.js";
import { ApprovalError } from "./errors.js";

/** An identity token, a trusted identity object (in-process), or nothing. */
export type ActorInput = string | Partial<CallerIdentity> | Record<string, unknown> | null | undefined;

export interface ResolveActorOptions {
  verifier: IdentityVerifier | null;
  /** In-process (SDK): identity objects are accepted as given. */
  trusted: boolean;
  /** Starts each refusal: `Approval refused`, `Denial refused`, `Ticket refused`. */
  prefix: string;
  /** `approver`, `requester`. */
  role: string;
}

function looksLikeJwt(text: string): boolean {
  return text.startsWith("eyJ") || text.split(".").length === 3;
}

export async function resolveActor(input: ActorInput, o: ResolveActorOptions): Promise<CallerIdentity> {
  const refuse = (why: string) => new ApprovalError(`${o.prefix}: ${why}`, "unidentified");
  if (input === null || input === undefined || input === "")
    throw refuse(`the ${o.role} must present an identity token (anonymous approvals are not accepted)`);
  if (typeof input === "string") {
    const text = input.trim();
    if (!looksLikeJwt(text))
      throw refuse(
        `a bare agent id (${pyStrRepr(text.slice(0, 64))}) does not identify the ${o.role}; present an identity token`,
      );
    if (o.verifier === null)
      throw refuse(
        `identity keys are not configured, so the ${o.role} cannot be identified (add a keys: section to agent-safe.yaml)`,
      );
    try {
      return await o.verifier.verify(text);
    } catch (err) {
      if (err instanceof IdentityError)
        throw refuse(`the ${o.role}'s identity token is not valid: ${err.message}`);
      throw refuse(`identity keys are not available (${(err as Error).message})`);
    }
  }
  if (!o.trusted)
    throw refuse(
      `identity objects are accepted only in-process; the ${o.role} must present an identity token`,
    );
  try {
    const identity = normalizeCaller(input);
    if (identity === null || identity.agent_id === "")
      throw new InvalidCallerError("agent_id must not be empty");
    return identity;
  } catch (err) {
    if (err instanceof InvalidCallerError) throw refuse(`invalid ${o.role} identity: ${err.message}`);
    throw err;
  }
}
