/** `agent-safe delegation create|verify` (REFERENCE.md §12.2), with server-side limits. */
import type { CommandSpec } from "../spec.js";
import { LEGACY_KEY_OPTIONS, TOKEN_OPTIONS } from "../tokens/options.js";

export const delegationCreateCommand: CommandSpec = {
  name: "delegation create",
  groupSummary: "delegate narrowed identities to sub-agents",
  summary: "create a delegation token for a child agent",
  description:
    "Create a token for CHILD acting on behalf of the agent of PARENT_TOKEN. The child gets only the\n" +
    "roles and groups given (which the parent must hold), expires no later than the parent, and\n" +
    "may not already be in the chain. The maximum depth is keys.max_delegation_depth.\n" +
    "Text output shows the token's first 40 characters; --json prints it whole.",
  arguments: [{ name: "<parent_token>", description: "the delegating agent's identity token" }],
  options: [
    { flags: "--child-id <id>", description: "the child agent's id (required)" },
    { flags: "--child-name <name>", description: "the child agent's display name" },
    { flags: "--roles <a,b>", description: "roles to delegate (a subset of the parent's; default none)" },
    { flags: "--groups <a,b>", description: "groups to delegate (a subset of the parent's; default none)" },
    {
      flags: "--ttl <seconds>",
      description: "lifetime, capped at the parent's remaining lifetime (the default)",
    },
    {
      flags: "--max-depth <n>",
      description: "0.9.0: a lower depth limit (cannot raise the server's)",
      hidden: true,
    },
    ...LEGACY_KEY_OPTIONS,
    ...TOKEN_OPTIONS,
  ],
  async run([parent], options) {
    const { runDelegationCreate } = await import("../tokens/delegation-run.js");
    await runDelegationCreate(parent as string, options);
  },
};

export const delegationVerifyCommand: CommandSpec = {
  name: "delegation verify",
  summary: "verify an identity or delegation token and show its chain",
  description: "Verify TOKEN and print the identity it proves: DIRECT or DELEGATED, with the chain.",
  arguments: [{ name: "<token>", description: "an identity or delegation token" }],
  options: [...LEGACY_KEY_OPTIONS, ...TOKEN_OPTIONS],
  helpAfter: "\nExit codes: 0 valid, 1 invalid or expired, 2 usage or configuration error.",
  async run([token], options) {
    const { runDelegationVerify } = await import("../tokens/delegation-run.js");
    await runDelegationVerify(token as string, options);
  },
};
