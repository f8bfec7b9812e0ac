/** What the key, identity, delegation and ticket commands share: the project and its token keys. */
import { ConfigError } from "../../config/errors.js";
import { findConfigFile, type ProjectConfig, resolveProject } from "../../config/project.js";
import { readProjectFile } from "../../config/project-file.js";
import { hmacTokenKeys, projectTokenKeys, type TokenKeys } from "../../jwt/config.js";
import { printErr, printWarnings, UsageError } from "../common.js";

export interface TokenFlags {
  config?: string;
  json?: boolean;
  jsonOutput?: boolean;
  /** 0.9.0: the HS256 secret on the command line (visible to other users: discouraged). */
  signingKey?: string;
  /** 0.9.0: the issuer to expect. */
  issuer?: string;
}

/** agent-safe.yaml (found as every command finds it) without loading the world. */
export function openProjectConfig(flags: TokenFlags): ProjectConfig {
  const cwd = process.cwd();
  const file = findConfigFile(flags.config, cwd);
  const settings = readProjectFile(file);
  printWarnings(settings.warnings);
  return resolveProject(file, settings, { config: flags.config }, cwd);
}

/** The project's keys, or HS256 with `--signing-key` (0.9.0). A project without keys is an error. */
export function tokenKeys(project: ProjectConfig, flags: TokenFlags): TokenKeys {
  let keys: TokenKeys | null;
  if (flags.signingKey !== undefined) {
    printErr(
      "warning: --signing-key puts the secret on the command line, where other local users can see it; " +
        "prefer keys.hmac_secret in agent-safe.yaml",
    );
    const k = project.settings.keys;
    keys = hmacTokenKeys(flags.signingKey, {
      ...(k === null
        ? {}
        : {
            issuer: k.issuer,
            maxDelegationDepth: k.max_delegation_depth,
            identityTtlSeconds: k.identity_ttl_seconds,
            ticketTtlSeconds: k.ticket_ttl_seconds,
            leewaySeconds: k.leeway_seconds,
          }),
    });
  } else {
    keys = projectTokenKeys(project);
  }
  if (keys === null) {
    throw new ConfigError(
      "no keys configured: add a `keys:` section to agent-safe.yaml (`agent-safe init` writes one), " +
        "or pass --signing-key for an HS256 secret",
    );
  }
  if (flags.issuer !== undefined) keys = { ...keys, settings: { ...keys.settings, issuer: flags.issuer } };
  return keys;
}

/** `a,b, c` → `["a", "b", "c"]`. */
export function csv(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function positiveInt(text: string | undefined, flag: string, unit = "seconds"): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} must be a whole number of ${unit}, at least 1, got '${text}'`);
  }
  return Number(text);
}
