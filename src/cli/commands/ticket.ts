/** `agent-safe ticket verify|redeem`: inspect or consume an execution ticket. */
import type { CommandSpec, OptionSpec } from "../spec.js";
import { LEGACY_KEY_OPTIONS, TOKEN_OPTIONS } from "../tokens/options.js";

const EXPECT_OPTIONS: readonly OptionSpec[] = [
  { flags: "--action <action>", description: "the action the ticket must be for" },
  { flags: "--target <target>", description: "the target the ticket must be for" },
  {
    flags: "--params <json>",
    description: "the params about to be executed (checked against the ticket's digest)",
  },
];

export const ticketVerifyCommand: CommandSpec = {
  name: "ticket verify",
  groupSummary: "verify and redeem execution tickets",
  summary: "check an execution ticket without using it",
  description:
    "Check TOKEN's signature, algorithm, type, issuer and expiry, and optionally its action, target\n" +
    "and params, and say whether it has already been used. Nothing is consumed: see `ticket redeem`.",
  arguments: [{ name: "<token>", description: "the execution ticket (JWT)" }],
  options: [...EXPECT_OPTIONS, ...LEGACY_KEY_OPTIONS, ...TOKEN_OPTIONS],
  helpAfter: "\nExit codes: 0 valid and unused, 1 invalid, expired or used, 2 usage or configuration error.",
  async run([token], options) {
    const { runTicket } = await import("../tokens/ticket-run.js");
    await runTicket("verify", token as string, options);
  },
};

export const ticketRedeemCommand: CommandSpec = {
  name: "ticket redeem",
  summary: "use an execution ticket (once)",
  description:
    "Check TOKEN as `ticket verify` does, then consume it in the project's shared nonce store\n" +
    "(the `state:` setting): exactly one redemption of a ticket ever succeeds.",
  arguments: [{ name: "<token>", description: "the execution ticket (JWT)" }],
  options: [...EXPECT_OPTIONS, ...LEGACY_KEY_OPTIONS, ...TOKEN_OPTIONS],
  helpAfter:
    "\nExit codes: 0 redeemed, 1 refused (invalid, expired, mismatch, already used), 2 usage or configuration error.",
  async run([token], options) {
    const { runTicket } = await import("../tokens/ticket-run.js");
    await runTicket("redeem", token as string, options);
  },
};
