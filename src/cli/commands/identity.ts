/** `agent-safe identity issue`: mint an identity token (a credential: printed to stdout only). */
import type { CommandSpec } from "../spec.js";
import { TOKEN_OPTIONS } from "../tokens/options.js";

export const identityIssueCommand: CommandSpec = {
  name: "identity issue",
  groupSummary: "identity tokens for agents",
  summary: "issue an identity token for an agent",
  description:
    "Issue a signed identity token (EdDSA with the identity-issuer key, or HS256 when configured)\n" +
    "for an agent, with its roles and groups. The token is printed to stdout and nowhere else:\n" +
    "it is a credential. Agents present it as their caller in the strict profile.",
  arguments: [],
  options: [
    { flags: "--agent-id <id>", description: "the agent's id (required)" },
    { flags: "--name <name>", description: "the agent's display name" },
    { flags: "--roles <a,b>", description: "comma-separated roles" },
    { flags: "--groups <a,b>", description: "comma-separated groups" },
    {
      flags: "--ttl <seconds>",
      description: "lifetime in seconds (default: keys.identity_ttl_seconds, 3600)",
    },
    ...TOKEN_OPTIONS,
  ],
  helpAfter: `
Example:
  TOKEN=$(agent-safe identity issue --agent-id deploy-bot --roles deployer --groups sre --ttl 900)
  agent-safe check restart-deployment -t dev/test-app -c "$TOKEN" -p '{"namespace":"dev","deployment":"test-app"}'`,
  async run(_args, options) {
    const { runIdentityIssue } = await import("../tokens/identity-run.js");
    runIdentityIssue(options);
  },
};
