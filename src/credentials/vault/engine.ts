/** What the secrets-engine adapters (aws, kubernetes, kv) share with the Vault client. */
import type { Enforcement, RenderedScope } from "../credential.js";
import { CredentialError } from "../errors.js";
import type { CredentialTicket } from "../lifetime.js";
import type { VaultMethod } from "./http.js";

/** Authenticated calls to Vault; a non-2xx answer throws `CredentialVaultError`. */
export interface EngineContext {
  call(method: VaultMethod, path: string, body?: unknown): Promise<Record<string, unknown>>;
}

export interface IssueRequest {
  scope: RenderedScope;
  ticket: CredentialTicket;
  /** Seconds the credential may live (already bounded by the ticket). */
  ttl: number;
  /** `cred-<12 hex>`: also names per-request Vault roles. */
  credentialId: string;
}

export interface Issued {
  /** What the executor needs: secret material, plus the `publicKeys` entries. */
  payload: Record<string, unknown>;
  /** Payload keys that are not secret. */
  publicKeys?: string[];
  /** Non-secret facts, safe to log. */
  metadata: Record<string, string>;
  leaseId: string | null;
  /** Seconds; 0 when Vault gave no lease (KV reads). */
  leaseDuration: number;
  renewable: boolean;
  enforcement: Enforcement;
  source: string;
  /** A per-request Vault role to delete on revoke (`<mount>/roles/<name>`). */
  cleanupRole: string | null;
}

/** The `data` member of a Vault secret response, with its lease. */
export function secretOf(body: Record<string, unknown>): {
  data: Record<string, unknown>;
  leaseId: string | null;
  leaseDuration: number;
  renewable: boolean;
} {
  const data = body.data;
  return {
    data:
      data !== null && typeof data === "object" && !Array.isArray(data)
        ? (data as Record<string, unknown>)
        : {},
    leaseId: typeof body.lease_id === "string" && body.lease_id !== "" ? body.lease_id : null,
    leaseDuration: typeof body.lease_duration === "number" ? body.lease_duration : 0,
    renewable: body.renewable === true,
  };
}

/** A list of non-empty strings from a rendered scope field; `null` when absent. */
export function stringList(
  fields: Record<string, unknown>,
  name: string,
  type: string,
  required: boolean,
  allowEmptyStrings = false,
): string[] | null {
  const v = fields[name];
  if (v === undefined || v === null) {
    if (required)
      throw new CredentialError("template", `Credential scope of type '${type}' needs fields.${name}`);
    return null;
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || (x === "" && !allowEmptyStrings))) {
    throw new CredentialError(
      "template",
      `Credential scope fields.${name} of type '${type}' must be a list of ${allowEmptyStrings ? "" : "non-empty "}strings`,
    );
  }
  if (required && v.length === 0) {
    throw new CredentialError("template", `Credential scope fields.${name} of type '${type}' is empty`);
  }
  return v as string[];
}

/** Refuses scope fields an engine does not know: a restriction it would silently drop. */
export function onlyFields(fields: Record<string, unknown>, allowed: readonly string[], type: string): void {
  const unknown = Object.keys(fields).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new CredentialError(
      "template",
      `Credential scope of type '${type}' has fields this vault cannot enforce: ${unknown.join(", ")} ` +
        `(supported: ${allowed.join(", ")})`,
    );
  }
}

/** The name of a per-request role: `<prefix>-<the credential id's 12 hex>`. */
export function requestRoleName(prefix: string, credentialId: string): string {
  return `${prefix}-${credentialId.slice("cred-".length)}`;
}

/** The per-action override in `map` (own keys only), else `fallback`. */
export function forAction(map: Readonly<Record<string, string>>, action: string, fallback: string): string {
  return Object.hasOwn(map, action) ? (map[action] ?? fallback) : fallback;
}
