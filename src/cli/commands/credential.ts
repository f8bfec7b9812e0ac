/** `agent-safe credential resolve|test-vault`: credentials through the project's vault. */
import { JSON_OPTIONS, PROJECT_OPTIONS } from "../common.js";
import type { CommandSpec, OptionSpec } from "../spec.js";
import { LEGACY_KEY_OPTIONS } from "../tokens/options.js";

const VAULT_CRED: OptionSpec = {
  flags: "--vault-cred <type=value>",
  description: "0.9.0: an env-vault credential on the command line (visible to other users)",
  hidden: true,
  multiple: true,
};

export const credentialResolveCommand: CommandSpec = {
  name: "credential resolve",
  groupSummary: "obtain credentials through the vault",
  summary: "redeem an execution ticket for a credential (metadata only)",
  description:
    "Verify TOKEN (and optionally its action, target and params), render its action's credential\n" +
    "scope, redeem the ticket (it is single use) and obtain a credential from the vault configured\n" +
    "under `credentials:` in agent-safe.yaml, bounded by the scope and by the ticket's expiry.\n" +
    "Prints the credential's id, type, expiry and lease, never its secret unless --show-secret is\n" +
    "given. The issuance (or refusal) is written to the audit log.",
  arguments: [{ name: "<token>", description: "the execution ticket (JWT)" }],
  options: [
    { flags: "--action <action>", description: "the action the ticket must be for" },
    { flags: "--target <target>", description: "the target the ticket must be for" },
    { flags: "--params <json>", description: "the params about to be executed (checked against the ticket)" },
    {
      flags: "--show-secret",
      description: "also print the credential's secret to stdout (it then exists outside the vault)",
    },
    ...PROJECT_OPTIONS,
    ...JSON_OPTIONS,
    VAULT_CRED,
    ...LEGACY_KEY_OPTIONS,
  ],
  helpAfter:
    "\nExit codes: 0 credential issued, 1 refused (ticket invalid, expired, used, other action/target; " +
    "vault error), 2 usage or configuration error.",
  async run([token], options) {
    const { runCredentialResolve } = await import("../credentials/resolve-run.js");
    await runCredentialResolve(token as string, options);
  },
};

export const credentialTestVaultCommand: CommandSpec = {
  name: "credential test-vault",
  summary: "check the vault: reach it, authenticate, issue and revoke a test credential",
  description:
    "Check that the configured vault is reachable and accepts Agent-Safe's authentication, then\n" +
    "request a short-lived credential (--ttl, 60 s) of --cred-type for a dummy ticket and revoke it\n" +
    "at once.",
  arguments: [],
  options: [
    { flags: "--cred-type <type>", description: "credential type to request (default: kubernetes)" },
    { flags: "--ttl <seconds>", description: "lifetime of the test credential (default: 60)" },
    {
      flags: "--scope <json>",
      description: 'scope fields for the test credential, e.g. \'{"namespaces": ["agent-safe"]}\'',
    },
    {
      flags: "--config <file>",
      description: "agent-safe.yaml to use (default: found from the working directory upwards)",
    },
    ...JSON_OPTIONS,
    VAULT_CRED,
    { flags: "--debug", description: "show stack traces on errors" },
  ],
  helpAfter: "\nExit codes: 0 the vault works, 1 it does not, 2 usage or configuration error.",
  async run(_args, options) {
    const { runTestVault } = await import("../credentials/test-vault-run.js");
    await runTestVault(options);
  },
};
