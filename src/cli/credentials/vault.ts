/** The vault the credential commands use: the project's, or an env vault (0.9.0's CLI). */
import type { ProjectConfig } from "../../config/project.js";
import { type CredentialVault, EnvVarVault, vaultFromSettings } from "../../credentials/index.js";
import { printErr, UsageError } from "../common.js";

/** `--vault-cred TYPE=VALUE` (repeatable) → `{TYPE: {token: VALUE}}`. The value is never echoed. */
export function parseVaultCreds(list: unknown): Record<string, Record<string, unknown>> {
  const items = list === undefined ? [] : Array.isArray(list) ? list : [list];
  const out: Record<string, Record<string, unknown>> = {};
  for (const item of items as string[]) {
    const at = item.indexOf("=");
    if (at <= 0 || at === item.length - 1) {
      throw new UsageError("--vault-cred must be TYPE=VALUE (the value given is not shown)");
    }
    out[item.slice(0, at)] = { token: item.slice(at + 1) };
  }
  return out;
}

/**
 * The project's `credentials:` vault. Without one, an env vault (0.9.0: `AGENT_SAFE_CRED_<TYPE>`
 * and `--vault-cred`). `--vault-cred` only makes sense for an env vault.
 */
export function cliVault(project: ProjectConfig, vaultCred: unknown): CredentialVault {
  const statics = parseVaultCreds(vaultCred);
  const settings = project.settings.credentials;
  if (Object.keys(statics).length > 0) {
    if (settings?.type === "hashicorp") {
      throw new UsageError(
        "--vault-cred supplies env-vault credentials, but agent-safe.yaml configures a HashiCorp vault",
      );
    }
    printErr("warning: --vault-cred puts a secret on the command line, where other local users can see it");
  }
  const vault =
    settings === null || settings.type === "env"
      ? new EnvVarVault({
          credentials: statics,
          ...(settings === null ? {} : { envPrefix: settings.env_prefix }),
        })
      : vaultFromSettings(settings, { root: project.root });
  if (!vault.scoped) {
    printErr(
      "warning: the env vault does not scope credentials (whatever secret is configured is returned): development only",
    );
  }
  return vault;
}
