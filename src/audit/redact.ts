/**
 * Redaction of secrets before an event is written or shipped (DESIGN.md §6, THREATS T9).
 *
 * A secret value becomes `hmac-sha256:<hex>`, an HMAC-SHA256 keyed with the deployment's
 * redaction key (`.agent-safe/keys/redaction.key`, created by `init`): someone holding the key can
 * check whether a logged digest is a given value, nobody else can brute-force a short secret the
 * way they could a plain hash. A string is MACed as its UTF-8 bytes, any other value as its
 * RFC 8785 canonical JSON. Without a key, values become `[REDACTED]` (nothing to correlate, and
 * nothing leaks).
 *
 * What is redacted: `params` named by `sensitiveParams` or marked `sensitive: true` in the action
 * definition; with `secretOutput`, an execution's `context.output`/`stdout`/`stderr`; any
 * `redactPaths`. Then every other string of the event (reason, context, params, ids) is scrubbed
 * of the raw secret text (values of 4 characters or more), so a message that quotes a secret
 * does not leak it either.
 */
import { createHmac } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { canonicalize } from "../codec/jcs.js";
import { AuditError } from "./errors.js";
import type { AuditInput } from "./types.js";

export const REDACTED_PREFIX = "hmac-sha256:";
export const REDACTED_UNKEYED = "[REDACTED]";
/** Shorter secrets are still replaced where they are a value, but not searched for inside text. */
const MIN_SCRUB_LENGTH = 4;
const OUTPUT_KEYS = ["output", "stdout", "stderr"] as const;

export class Redactor {
  private constructor(private readonly key: Buffer | null) {}

  /** A redactor keyed with `key` (at least 16 bytes). */
  static withKey(key: Buffer): Redactor {
    if (key.length < 16) throw new AuditError("CONFIG", "The redaction key must be at least 16 bytes");
    return new Redactor(Buffer.from(key));
  }

  /** No key: secrets are replaced by `[REDACTED]`. */
  static unkeyed(): Redactor {
    return new Redactor(null);
  }

  /** Reads a key file: 64 hex characters (what `init` writes) or at least 16 raw bytes. */
  static fromFile(path: string): Redactor {
    return Redactor.withKey(readRedactionKey(path));
  }

  get keyed(): boolean {
    return this.key !== null;
  }

  /** The replacement text for a secret value. */
  digest(value: unknown): string {
    if (this.key === null) return REDACTED_UNKEYED;
    const mac = createHmac("sha256", this.key);
    mac.update(typeof value === "string" ? value : canonicalize(value), "utf8");
    return REDACTED_PREFIX + mac.digest("hex");
  }
}

export function readRedactionKey(path: string): Buffer {
  let raw: Buffer;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new AuditError(
        "CONFIG",
        `Redaction key ${path} is accessible by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      );
    }
    raw = readFileSync(path);
  } catch (err) {
    if (err instanceof AuditError) throw err;
    throw new AuditError("CONFIG", `Cannot read the redaction key ${path}`, { cause: err });
  }
  const text = raw.toString("utf8").trim();
  if (/^[0-9a-fA-F]{32,}$/.test(text) && text.length % 2 === 0) return Buffer.from(text, "hex");
  return Buffer.from(text, "utf8");
}

/** The fields of an event that redaction may change. */
export interface RedactableFields {
  params: Record<string, unknown>;
  context: Record<string, unknown> | null;
  reason: string;
  correlation_id: string | null;
  ticket_id: string | null;
  target: string;
}

/** Whether `input` asks for any redaction at all (the common case is no). */
export function wantsRedaction(input: AuditInput): boolean {
  return (
    (input.sensitiveParams !== undefined && input.sensitiveParams.length > 0) ||
    input.actionDef?.parameters.some((p) => p.sensitive) === true ||
    input.secretOutput === true ||
    (input.redactPaths !== undefined && input.redactPaths.length > 0)
  );
}

/** Returns redacted copies of the fields (the input objects are never modified). */
export function redactFields(
  fields: RedactableFields,
  input: AuditInput,
  redactor: Redactor,
): RedactableFields {
  const secrets = new Map<string, string>();
  const remember = (raw: unknown, digest: string) => {
    if (typeof raw === "string" && raw.length >= MIN_SCRUB_LENGTH) secrets.set(raw, digest);
  };
  const names = new Set<string>(input.sensitiveParams ?? []);
  for (const p of input.actionDef?.parameters ?? []) if (p.sensitive) names.add(p.name);

  let params = fields.params;
  for (const name of names) {
    if (!Object.hasOwn(params, name)) continue;
    const value = params[name];
    if (value === null || value === undefined) continue;
    const digest = redactor.digest(value);
    remember(value, digest);
    params = { ...params, [name]: digest };
  }
  let context = fields.context;
  if (input.secretOutput === true && context !== null) {
    for (const key of OUTPUT_KEYS) {
      const value = context[key];
      if (value === null || value === undefined || value === "") continue;
      const digest = redactor.digest(value);
      remember(value, digest);
      context = { ...context, [key]: digest };
    }
  }
  let event: Record<string, unknown> = { ...fields, params, context };
  for (const path of input.redactPaths ?? []) event = redactPath(event, path, 0, redactor, remember);

  if (secrets.size > 0) {
    // Longest first, so a secret that contains another is replaced whole.
    const ordered = [...secrets.entries()].sort((a, b) => b[0].length - a[0].length);
    event = scrub(event, ordered) as Record<string, unknown>;
  }
  return event as unknown as RedactableFields;
}

function redactPath(
  node: Record<string, unknown>,
  path: readonly string[],
  at: number,
  redactor: Redactor,
  remember: (raw: unknown, digest: string) => void,
): Record<string, unknown> {
  const key = path[at];
  if (key === undefined || !Object.hasOwn(node, key)) return node;
  const value = node[key];
  if (at === path.length - 1) {
    if (value === null || value === undefined) return node;
    const digest = redactor.digest(value);
    remember(value, digest);
    return { ...node, [key]: digest };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return node;
  const inner = redactPath(value as Record<string, unknown>, path, at + 1, redactor, remember);
  return inner === value ? node : { ...node, [key]: inner };
}

/** Replaces every occurrence of a secret inside strings, returning the same object when unchanged. */
function scrub(value: unknown, secrets: readonly [string, string][]): unknown {
  if (typeof value === "string") {
    if (value.startsWith(REDACTED_PREFIX)) return value; // a digest: never rewrite it
    let out = value;
    for (const [raw, digest] of secrets) if (out.includes(raw)) out = out.split(raw).join(digest);
    return out;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const next = value.map((v) => {
      const s = scrub(v, secrets);
      if (s !== v) changed = true;
      return s;
    });
    return changed ? next : value;
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const s = scrub(v, secrets);
      if (s !== v) changed = true;
      next[k] = s;
    }
    return changed ? next : value;
  }
  return value;
}
