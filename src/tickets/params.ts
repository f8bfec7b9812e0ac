/**
 * Binding a ticket to its parameters (THREATS.md T2, DESIGN.md §4 item 6).
 *
 * - `params_digest` = `sha256:` + hex SHA-256 of the RFC 8785 (JCS) canonical JSON of the params
 *   (`{}` when there are none): the same params give the same digest whatever their key order or
 *   number spelling (`5.0` and `5`), so a validator compares digests, not texts.
 * - Parameters an action marks `sensitive: true` appear in the ticket's `params` only as
 *   `sha256:<hex of the canonical value>`, never in clear; the executor supplies the real values
 *   and redemption proves them against `params_digest`.
 *
 * A plain hash of a low-entropy secret can be guessed offline by whoever holds the ticket: a
 * ticket is a credential, kept out of logs, and secrets proper belong in the credential vault.
 */
import { sha256 as digest } from "../codec/hash.js";
import { CanonicalJsonError, canonicalize } from "../codec/jcs.js";
import type { ActionDef } from "../core/types.js";
import { TicketError } from "./errors.js";

function sha256(text: string): string {
  return `sha256:${digest(text, "hex")}`;
}

function canonical(value: unknown, what: string): string {
  try {
    return canonicalize(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new TicketError(`Cannot digest ${what}: ${err.message}`);
    throw err;
  }
}

/** The digest of a request's params (`null`/absent counts as `{}`). */
export function paramsDigest(params: unknown): string {
  return sha256(canonical(params ?? {}, "the params"));
}

/** The digest standing in for one sensitive value. */
export function valueDigest(value: unknown): string {
  return sha256(canonical(value, "a sensitive parameter"));
}

export interface TicketParams {
  /** Plain JSON (canonical numbers), sensitive values replaced by their digests. */
  params: Record<string, unknown>;
  /** The names of the parameters given only as digests, sorted. */
  redacted: string[];
  digest: string;
}

export function ticketParams(
  params: Record<string, unknown> | null | undefined,
  actionDef: Pick<ActionDef, "parameters">,
): TicketParams {
  const text = canonical(params ?? {}, "the params");
  const plain = JSON.parse(text) as Record<string, unknown>;
  const redacted: string[] = [];
  for (const def of actionDef.parameters) {
    if (def.sensitive && Object.hasOwn(plain, def.name)) {
      plain[def.name] = valueDigest(plain[def.name]);
      redacted.push(def.name);
    }
  }
  return { params: plain, redacted: redacted.sort(), digest: sha256(text) };
}
