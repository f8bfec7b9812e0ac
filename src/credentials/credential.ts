/**
 * A credential issued for one execution ticket (REFERENCE.md §9, with our guarantees).
 *
 * The payload (keys, tokens, passwords) lives in a private field: `JSON.stringify`, spreading,
 * `structuredClone`, `console.log` and `util.inspect` never see it; `toJSON()` writes
 * `"payload": "[REDACTED]"`. Read it only where it is handed to an executor (`credential.payload`),
 * and list its secret strings with `secrets()` so that logs can be scrubbed of them
 * (`scrubSecrets`, `redactAuditInput` in ./redact.ts).
 */
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";

/** A credential scope after templating: `type` and `ttl` as declared, `fields` rendered. */
export interface RenderedScope {
  type: string;
  fields: Record<string, unknown>;
  /** Seconds, as declared by the action (the credential may live less: see `lifetimeSeconds`). */
  ttl: number;
}

/**
 * How far the credential's rights are bounded by the action's rendered scope:
 * - `none`: not at all (the env vault, static secrets, KV reads): whatever the secret allows;
 * - `vault-role`: by a Vault role configured by the platform team (and, for Kubernetes, the
 *   namespace taken from the rendered scope); the template's verbs/actions are not enforced;
 * - `request`: by a Vault role written from the rendered scope for this one credential.
 */
export type Enforcement = "none" | "vault-role" | "request";

export const REDACTED_PAYLOAD = "[REDACTED]";
const ID_PATTERN = /^cred-[0-9a-f]{12}$/;

export function newCredentialId(): string {
  return `cred-${randomBytes(6).toString("hex")}`;
}

export function isCredentialId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export interface CredentialInit {
  credential_id?: string;
  type: string;
  payload: Record<string, unknown>;
  /** Epoch ms when the credential stops working (its lease end, or our bookkeeping end). */
  expiresAtMs: number;
  /** Epoch ms beyond which the credential must never be renewed: its ticket's expiry. */
  deadlineMs: number;
  scope: RenderedScope;
  ticket_nonce: string;
  lease_id?: string | null;
  renewable?: boolean;
  /** Where it came from: `env`, `static`, `vault:aws/creds`, `vault:kubernetes/creds`, `vault:kv`. */
  source: string;
  enforcement: Enforcement;
  /** Non-secret facts (service account name, Vault role, ARN): safe to log. */
  metadata?: Record<string, string>;
  /** Top-level payload keys that are not secret (an API server URL, a CA): not scrubbed from logs. */
  publicKeys?: readonly string[];
}

export class Credential {
  readonly credential_id: string;
  readonly type: string;
  /** ISO-8601 UTC. */
  readonly expires_at: string;
  readonly expiresAtMs: number;
  readonly deadlineMs: number;
  readonly scope: RenderedScope;
  readonly ticket_nonce: string;
  readonly lease_id: string | null;
  readonly renewable: boolean;
  readonly source: string;
  readonly enforcement: Enforcement;
  readonly metadata: Readonly<Record<string, string>>;
  readonly publicKeys: readonly string[];
  readonly #payload: Readonly<Record<string, unknown>>;

  constructor(init: CredentialInit) {
    const id = init.credential_id ?? newCredentialId();
    if (!isCredentialId(id)) throw new TypeError(`Invalid credential id: ${id}`);
    this.credential_id = id;
    this.type = init.type;
    this.expiresAtMs = init.expiresAtMs;
    this.expires_at = new Date(init.expiresAtMs).toISOString();
    this.deadlineMs = init.deadlineMs;
    this.scope = deepFreeze(structuredClone(init.scope));
    this.ticket_nonce = init.ticket_nonce;
    this.lease_id = init.lease_id ?? null;
    this.renewable = init.renewable ?? false;
    this.source = init.source;
    this.enforcement = init.enforcement;
    this.metadata = Object.freeze({ ...(init.metadata ?? {}) });
    this.publicKeys = Object.freeze([...(init.publicKeys ?? [])]);
    this.#payload = deepFreeze(structuredClone(init.payload));
  }

  /** Alias of `credential_id` (the runner's `RunCredential.id`). */
  get id(): string {
    return this.credential_id;
  }

  /** The secret material. Hand it to an executor; never log it. */
  get payload(): Readonly<Record<string, unknown>> {
    return this.#payload;
  }

  /** Whether the credential has expired at `nowMs`. */
  expired(nowMs: number = Date.now()): boolean {
    return nowMs >= this.expiresAtMs;
  }

  /**
   * Every secret string in the payload (numbers as text), longest first, without duplicates;
   * values under `publicKeys` excepted.
   */
  secrets(): string[] {
    const found = new Set<string>();
    for (const [k, v] of Object.entries(this.#payload))
      if (!this.publicKeys.includes(k)) collectStrings(v, found);
    return [...found].sort((a, b) => b.length - a.length);
  }

  /** The same credential with a new expiry (after a lease renewal). */
  withExpiry(expiresAtMs: number): Credential {
    return new Credential({
      ...this.describe(),
      payload: this.#payload as Record<string, unknown>,
      expiresAtMs,
    });
  }

  /** Everything but the payload: what logs, audit events and `--json` output may show. */
  toJSON(): Record<string, unknown> {
    return {
      credential_id: this.credential_id,
      type: this.type,
      expires_at: this.expires_at,
      lease_id: this.lease_id,
      renewable: this.renewable,
      source: this.source,
      enforcement: this.enforcement,
      ticket_nonce: this.ticket_nonce,
      scope: this.scope,
      metadata: this.metadata,
      payload: REDACTED_PAYLOAD,
    };
  }

  toString(): string {
    return `Credential(${this.credential_id}, ${this.type})`;
  }

  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }

  private describe(): Omit<CredentialInit, "payload"> {
    return {
      credential_id: this.credential_id,
      type: this.type,
      expiresAtMs: this.expiresAtMs,
      deadlineMs: this.deadlineMs,
      scope: this.scope,
      ticket_nonce: this.ticket_nonce,
      lease_id: this.lease_id,
      renewable: this.renewable,
      source: this.source,
      enforcement: this.enforcement,
      metadata: { ...this.metadata },
      publicKeys: this.publicKeys,
    };
  }
}

function collectStrings(value: unknown, out: Set<string>): void {
  if (typeof value === "string") {
    if (value !== "") out.add(value);
  } else if (typeof value === "number" || typeof value === "bigint") {
    out.add(String(value));
  } else if (Array.isArray(value)) {
    for (const v of value) collectStrings(v, out);
  } else if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) collectStrings(v, out);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
