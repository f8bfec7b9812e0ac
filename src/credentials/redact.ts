/**
 * Keeping credentials out of logs (THREATS T9). A credential's payload is never serialised
 * (see ./credential.ts); what an executor prints may still quote it (`kubectl config view`, an
 * error echoing a header). Before anything is written, shipped or printed, scrub it:
 *
 * ```ts
 * const secrets = credentialSecrets(credential);            // the raw strings to hunt for
 * const input = redactAuditInput(executionEvent, [credential], redactor); // then writer.append(input)
 * const safe = scrubSecrets(output, secrets);               // any text or JSON-like value
 * ```
 *
 * With the audit `Redactor` a secret becomes `hmac-sha256:<digest>`, as the audit log redacts
 * every other secret (DESIGN.md §6); without one, `[REDACTED]`. Secrets shorter than 4
 * characters are replaced only where they are a whole value, not searched for inside text.
 */
import type { AuditInput } from "../audit/types.js";
import type { Credential } from "./credential.js";

/** The part of the audit `Redactor` we use (`Redactor.digest`). */
export interface SecretDigester {
  digest(value: unknown): string;
}

export const REDACTED = "[REDACTED]";
const MIN_SCRUB_LENGTH = 4;
/** An audit digest: never rewritten (only this exact shape, so a crafted prefix hides nothing). */
const DIGEST = /^hmac-sha256:[0-9a-f]{64}$/;

/** Every secret string of the credentials (payload values), longest first, no duplicates. */
export function credentialSecrets(...credentials: readonly (Credential | null | undefined)[]): string[] {
  const all = new Set<string>();
  for (const c of credentials) if (c) for (const s of c.secrets()) all.add(s);
  return [...all].sort((a, b) => b.length - a.length);
}

/**
 * A copy of `value` (string, array, plain object, nested) with every occurrence of each secret
 * replaced by `replacement(secret)` (default `[REDACTED]`). Unchanged parts are shared.
 */
export function scrubSecrets<T>(
  value: T,
  secrets: readonly string[],
  replacement: (secret: string) => string = () => REDACTED,
): T {
  if (secrets.length === 0) return value;
  const ordered = [...new Set(secrets)].filter((s) => s !== "").sort((a, b) => b.length - a.length);
  const cache = new Map<string, string>();
  const replace = (s: string): string => {
    let r = cache.get(s);
    if (r === undefined) {
      r = replacement(s);
      cache.set(s, r);
    }
    return r;
  };
  return scrub(value, ordered, replace) as T;
}

function scrub(value: unknown, secrets: readonly string[], replace: (s: string) => string): unknown {
  if (typeof value === "string") {
    if (DIGEST.test(value)) return value;
    for (const s of secrets) if (value === s) return replace(s);
    let out = value;
    for (const s of secrets) {
      if (s.length >= MIN_SCRUB_LENGTH && out.includes(s)) out = out.split(s).join(replace(s));
    }
    return out;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const next = value.map((v) => {
      const r = scrub(v, secrets, replace);
      if (r !== v) changed = true;
      return r;
    });
    return changed ? next : value;
  }
  if (value !== null && typeof value === "object" && isPlain(value)) {
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = scrub(v, secrets, replace);
      if (r !== v) changed = true;
      next[k] = r;
    }
    return changed ? next : value;
  }
  return value;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * An audit event input with the credentials' secrets scrubbed from every field the writer
 * stores (reason, params, context, target, caller, ids): pass the result to
 * `AuditWriter.append()`. With the deployment's redactor (`projectRedactor(project)`), each
 * secret becomes the same `hmac-sha256:` digest the audit log uses for other secrets.
 */
export function redactAuditInput(
  input: AuditInput,
  credentials: readonly (Credential | null | undefined)[],
  redactor: SecretDigester | null = null,
): AuditInput {
  const secrets = credentialSecrets(...credentials);
  if (secrets.length === 0) return input;
  const replacement = redactor === null ? () => REDACTED : (s: string) => redactor.digest(s);
  const out: AuditInput = { ...input };
  for (const key of ["action", "target", "caller", "reason", "correlation_id", "ticket_id"] as const) {
    const v = input[key];
    if (typeof v === "string")
      (out as unknown as Record<string, unknown>)[key] = scrubSecrets(v, secrets, replacement);
  }
  if (input.params) out.params = scrubSecrets(input.params, secrets, replacement);
  if (input.context) out.context = scrubSecrets(input.context, secrets, replacement);
  return out;
}

/** What an audit event may say about a credential: id, type, expiry, lease, scope; no payload. */
export function credentialAuditContext(credential: Credential): Record<string, unknown> {
  return credential.toJSON();
}
