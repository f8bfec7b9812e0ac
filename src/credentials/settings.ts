/**
 * From settings to a vault: `credentials:` in agent-safe.yaml (`projectVault`), or a plain
 * object as 0.9.0's `build_vault(dict)` took (`buildVault`). `${ENV}` values are expanded here,
 * when the vault is built; secret settings (token, role_id, secret_id) are read each time they
 * are needed, from a file that others may not read or from `${ENV}`.
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import {
  type CredentialsSettings,
  type HashicorpSettings,
  hashicorpVaultSchema,
} from "../config/credentials-schema.js";
import { expandEnv } from "../config/env.js";
import { ConfigError } from "../config/errors.js";
import type { ProjectConfig } from "../config/project.js";
import { EnvVarVault } from "./env-vault.js";
import { CredentialConfigError } from "./errors.js";
import { type SecretSource, VaultAuth, type VaultAuthConfig } from "./vault/auth.js";
import { type EngineSettings, HashiCorpVault } from "./vault/client.js";
import { VaultHttp } from "./vault/http.js";
import type { CredentialVault } from "./vault.js";

export interface BuildVaultOptions {
  /** Where relative file settings are resolved (the config file's directory). */
  root?: string;
  env?: NodeJS.ProcessEnv;
  clock?: () => number;
  /** Static payloads for the env vault (the CLI's `--vault-cred TYPE=VALUE`). */
  statics?: Record<string, Record<string, unknown>>;
}

/** The project's vault, or `null` when agent-safe.yaml has no `credentials:` section. */
export function projectVault(
  project: Pick<ProjectConfig, "root" | "settings">,
  options: Omit<BuildVaultOptions, "root"> = {},
): CredentialVault | null {
  const settings = project.settings.credentials;
  if (settings === null) return null;
  return vaultFromSettings(settings, { ...options, root: project.root });
}

/** A vault from validated settings. */
export function vaultFromSettings(
  settings: CredentialsSettings,
  options: BuildVaultOptions = {},
): CredentialVault {
  if (settings.type === "env") {
    return new EnvVarVault({
      envPrefix: settings.env_prefix,
      credentials: options.statics ?? null,
      ...(options.env ? { env: options.env } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }
  return hashicorpVault(settings, options);
}

/**
 * 0.9.0's `build_vault(dict)`: `type` defaults to `env` (with `credentials` and `env_prefix`);
 * `hashicorp` takes the keys of `credentials:` in agent-safe.yaml.
 */
export function buildVault(config: Record<string, unknown> | null = null, options: BuildVaultOptions = {}) {
  const type = config?.type ?? "env";
  if (type === "env") {
    const { credentials, env_prefix, type: _t, ...rest } = config ?? {};
    const unknown = Object.keys(rest);
    if (unknown.length > 0)
      throw new CredentialConfigError(`Unknown env vault settings: ${unknown.join(", ")}`);
    return new EnvVarVault({
      credentials: {
        ...((credentials ?? {}) as Record<string, Record<string, unknown>>),
        ...(options.statics ?? {}),
      },
      ...(typeof env_prefix === "string" ? { envPrefix: env_prefix } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }
  if (type !== "hashicorp") {
    throw new CredentialConfigError(`Unknown vault type: ${String(type)}. Available: 'env', 'hashicorp'.`);
  }
  const parsed = hashicorpVaultSchema.safeParse(config);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? `credentials.${first.path.join(".")}: ` : "credentials: ";
    throw new CredentialConfigError(`${where}${first?.message ?? "invalid settings"}`);
  }
  return hashicorpVault(parsed.data, options);
}

function hashicorpVault(s: HashicorpSettings, options: BuildVaultOptions): HashiCorpVault {
  const root = options.root ?? process.cwd();
  const env = options.env ?? process.env;
  const address = expanded(s.address, "credentials.address", env);
  let caPem: string | null = null;
  if (s.ca_file !== null) {
    const path = resolve(root, expanded(s.ca_file, "credentials.ca_file", env));
    try {
      caPem = readFileSync(path, "utf8");
    } catch {
      throw new CredentialConfigError(`credentials.ca_file: cannot read ${path}`);
    }
  }
  const http = new VaultHttp({
    address,
    namespace: s.namespace === null ? null : expanded(s.namespace, "credentials.namespace", env),
    caPem,
    timeoutMs: s.timeout_seconds * 1000,
    allowHttp: s.allow_http,
  });
  const a = s.auth;
  const authConfig: VaultAuthConfig =
    a.method === "token"
      ? { method: "token", token: secretSource(a.token, "credentials.auth.token", root, env) }
      : {
          method: "approle",
          mount: a.mount,
          roleId: secretSource(a.role_id, "credentials.auth.role_id", root, env),
          secretId: secretSource(a.secret_id, "credentials.auth.secret_id", root, env),
        };
  const clock = options.clock ?? Date.now;
  const auth = new VaultAuth(http, authConfig, { clock, renew: s.renew_token });
  const roles: Record<string, EngineSettings> = {};
  for (const [type, role] of Object.entries(s.roles)) {
    if (role.engine !== "kubernetes") {
      roles[type] = role;
      continue;
    }
    const where = `credentials.roles.${type}`;
    const server = role.server === null ? null : expanded(role.server, `${where}.server`, env);
    let caPem: string | null = null;
    if (role.certificate_authority !== null) {
      const path = resolve(root, expanded(role.certificate_authority, `${where}.certificate_authority`, env));
      try {
        caPem = readFileSync(path, "utf8");
      } catch {
        throw new CredentialConfigError(`${where}.certificate_authority: cannot read ${path}`);
      }
    }
    roles[type] = { ...role, server, caPem };
  }
  return new HashiCorpVault({ http, auth, roles, enforceTtl: s.enforce_ttl, clock });
}

function expanded(value: string, where: string, env: NodeJS.ProcessEnv): string {
  try {
    return expandEnv(value, where, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CredentialConfigError(err.message);
    throw err;
  }
}

/**
 * A secret setting, read when called: a value containing `${NAME}` is expanded and is the secret
 * itself; anything else is a file (relative to `root`) holding it, one trailing newline ignored,
 * that group and others may not read. Errors name the setting, never the value.
 */
export function secretSource(
  value: string,
  where: string,
  root: string,
  env: NodeJS.ProcessEnv,
): SecretSource {
  return () => {
    let secret: string;
    if (value.includes("${")) {
      secret = expanded(value, where, env);
    } else {
      const path = resolve(root, value);
      let mode: number;
      try {
        mode = statSync(path).mode & 0o777;
        secret = readFileSync(path, "utf8").replace(/\r?\n$/, "");
      } catch {
        throw new CredentialConfigError(`${where}: cannot read ${path}`);
      }
      if ((mode & 0o077) !== 0) {
        throw new CredentialConfigError(
          `${where}: ${path} is accessible by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
        );
      }
    }
    if (secret.trim() === "") throw new CredentialConfigError(`${where}: the secret is empty`);
    return secret;
  };
}
