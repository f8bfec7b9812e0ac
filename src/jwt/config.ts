/**
 * Token settings from `agent-safe.yaml`'s `keys:` section, and the key rings they imply. Keys are
 * "configured" when that section exists; without it, identities are not verified (0.9.0
 * behaviour) and no tickets are issued.
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { expandEnv } from "../config/env.js";
import { ConfigError } from "../config/errors.js";
import type { ProjectConfig } from "../config/project.js";
import { KeyError, type KeyPurpose, KeyStore } from "../keys/keystore.js";
import { Ed25519KeyRing, HmacKeyRing, type JwtAlgorithm, type KeyRing } from "./keyring.js";

export const DEFAULT_ISSUER = "agent-safe";
export const DEFAULT_IDENTITY_TTL_SECONDS = 3600;
export const DEFAULT_TICKET_TTL_SECONDS = 300;
export const DEFAULT_MAX_DELEGATION_DEPTH = 5;

export interface TokenSettings {
  algorithm: JwtAlgorithm;
  issuer: string;
  /** Server-side; a caller can ask for less, never more. */
  maxDelegationDepth: number;
  identityTtlSeconds: number;
  ticketTtlSeconds: number;
  leewaySeconds: number;
}

export interface TokenKeys {
  settings: TokenSettings;
  /** Signs and verifies identity and delegation tokens. */
  identity: KeyRing;
  /** Signs and verifies execution tickets. */
  tickets: KeyRing;
  /** EdDSA only: where the key files are (for `keys`, JWKS). */
  keyStore: KeyStore | null;
}

export interface TokenKeysOptions {
  /** Key store re-read interval (ms), see `Ed25519KeyRing`. */
  refreshMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function defaultTokenSettings(overrides: Partial<TokenSettings> = {}): TokenSettings {
  return {
    algorithm: "EdDSA",
    issuer: DEFAULT_ISSUER,
    maxDelegationDepth: DEFAULT_MAX_DELEGATION_DEPTH,
    identityTtlSeconds: DEFAULT_IDENTITY_TTL_SECONDS,
    ticketTtlSeconds: DEFAULT_TICKET_TTL_SECONDS,
    leewaySeconds: 0,
    ...overrides,
  };
}

/** EdDSA keys from a key store directory (one Ed25519 key per purpose). */
export function ed25519TokenKeys(
  store: KeyStore,
  settings: Partial<TokenSettings> = {},
  options: TokenKeysOptions = {},
): TokenKeys {
  const ring = (purpose: KeyPurpose) =>
    new Ed25519KeyRing(store, purpose, { refreshMs: options.refreshMs ?? 5000 });
  return {
    settings: defaultTokenSettings({ ...settings, algorithm: "EdDSA" }),
    identity: ring("identity-issuer"),
    tickets: ring("ticket-signing"),
    keyStore: store,
  };
}

/** HS256 with one shared secret for identities and tickets, as 0.9.0. */
export function hmacTokenKeys(secret: string | Uint8Array, settings: Partial<TokenSettings> = {}): TokenKeys {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
  return {
    settings: defaultTokenSettings({ ...settings, algorithm: "HS256" }),
    identity: new HmacKeyRing(bytes, "identity-issuer"),
    tickets: new HmacKeyRing(bytes, "ticket-signing"),
    keyStore: null,
  };
}

/** The project's token keys, or `null` when agent-safe.yaml has no `keys:` section. */
export function projectTokenKeys(project: ProjectConfig, options: TokenKeysOptions = {}): TokenKeys | null {
  const keys = project.settings.keys;
  if (keys === null) return null;
  const settings: Partial<TokenSettings> = {
    issuer: keys.issuer,
    maxDelegationDepth: keys.max_delegation_depth,
    identityTtlSeconds: keys.identity_ttl_seconds,
    ticketTtlSeconds: keys.ticket_ttl_seconds,
    leewaySeconds: keys.leeway_seconds,
  };
  if (keys.algorithm === "HS256") {
    if (keys.hmac_secret === null) {
      throw new ConfigError(
        "keys.hmac_secret: required when keys.algorithm is HS256 (a file or $" + "{ENV})",
      );
    }
    return hmacTokenKeys(readSecret(keys.hmac_secret, project.root, options.env), settings);
  }
  return ed25519TokenKeys(new KeyStore(resolve(project.root, keys.dir)), settings, options);
}

/**
 * `keys.hmac_secret`: a value containing `${NAME}` is expanded from the environment and is the
 * secret itself; anything else is a file (relative to the config) holding it, one trailing
 * newline ignored. The file must not be readable by others. The secret is never logged.
 */
export function readSecret(value: string, root: string, env: NodeJS.ProcessEnv = process.env): string {
  let secret: string;
  if (value.includes("${")) {
    secret = expandEnv(value, "keys.hmac_secret", env);
  } else {
    const path = resolve(root, value);
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
      secret = readFileSync(path, "utf8").replace(/\r?\n$/, "");
    } catch {
      throw new ConfigError(`keys.hmac_secret: cannot read ${path}`);
    }
    if ((mode & 0o077) !== 0) {
      throw new KeyError(
        `Secret file ${path} is accessible by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      );
    }
  }
  if (secret === "") throw new KeyError("Signing key must not be empty");
  return secret;
}
