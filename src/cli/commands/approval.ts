/**
 * `agent-safe approval list|show|approve|deny|wait`: the approval workflow from the command line
 * (docs/approvals.md). Approving and denying need the approver's identity token (`--as` or
 * `--token-file`); `wait` hands the ticket to the requester (its token) exactly once.
 */
import { JSON_OPTIONS, PROJECT_OPTIONS } from "../common.js";
import type { CommandSpec, OptionSpec } from "../spec.js";

const STORE_OPTIONS: readonly OptionSpec[] = [
  {
    flags: "--store <url>",
    description: "approval store (default: approvals.store, sqlite:.agent-safe/approvals.db)",
  },
];

const IDENTITY_OPTIONS: readonly OptionSpec[] = [
  {
    flags: "--token-file <file>",
    description: "a file holding your identity token (agent-safe identity issue …)",
  },
  {
    flags: "--as <token>",
    description: "your identity token itself (visible to other local users; prefer --token-file)",
  },
];

const WRITE_OPTIONS: readonly OptionSpec[] = [
  { flags: "--audit-log <file>", description: "audit log to record in (default: the project's)" },
  {
    flags: "--by <name>",
    description: "0.9.0: not accepted (approvers are identified by token)",
    hidden: true,
  },
  { flags: "--signing-key <secret>", description: "0.9.0: the HS256 secret", hidden: true },
];

const ARG = [{ name: "<request_id>", description: "the request id (apr-…)" }];

async function handlers() {
  return import("../approvals/run.js");
}

export const approvalListCommand: CommandSpec = {
  name: "approval list",
  groupSummary: "list, show, approve, deny and wait for approval requests",
  summary: "list approval requests (pending by default)",
  description: "List approval requests, oldest first: pending ones unless --status says otherwise.",
  arguments: [],
  options: [
    {
      flags: "--status <status>",
      description: "pending (default), approved, denied, expired or all",
      choices: ["pending", "approved", "denied", "expired", "all"],
    },
    ...STORE_OPTIONS,
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  helpAfter:
    "\nExit codes: 0 listed (even none), 1 the store is unavailable, 2 usage or configuration error.",
  async run(_args, options) {
    await (await handlers()).runList(options);
  },
};

export const approvalShowCommand: CommandSpec = {
  name: "approval show",
  summary: "show one approval request",
  description:
    "Show REQUEST_ID: its status, what it asks for, who approved, and its ticket (never the token).",
  arguments: ARG,
  options: [...STORE_OPTIONS, ...JSON_OPTIONS, ...PROJECT_OPTIONS],
  helpAfter:
    "\nExit codes: 0 shown, 1 not found or the store is unavailable, 2 usage or configuration error.",
  async run([id], options) {
    await (await handlers()).runShow(id as string, options);
  },
};

export const approvalApproveCommand: CommandSpec = {
  name: "approval approve",
  summary: "approve a request, as an identified approver",
  description:
    "Approve REQUEST_ID as the identity in --token-file (or --as). The approver may not be the\n" +
    "requester or anyone in its delegation chain, must hold one of the rule's approver roles, and\n" +
    "counts once towards the quorum. The approval that completes the quorum mints the request's one\n" +
    "ticket, which the requester collects with `agent-safe approval wait`.",
  arguments: ARG,
  options: [
    ...IDENTITY_OPTIONS,
    { flags: "--reason <text>", description: "why (recorded with the approval)" },
    ...WRITE_OPTIONS,
    ...STORE_OPTIONS,
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  helpAfter: `
Exit codes: 0 approved (or recorded, when more approvals are needed), 1 refused, 2 usage or
configuration error.

Example:
  agent-safe approval approve apr-3f2a9c1b7d04 --token-file ~/.agent-safe/me.token --reason "change 4711"`,
  async run([id], options) {
    await (await handlers()).runResolve("approve", id as string, options);
  },
};

export const approvalDenyCommand: CommandSpec = {
  name: "approval deny",
  summary: "deny a request, as an identified approver",
  description:
    "Deny REQUEST_ID as the identity in --token-file (or --as): an approver holding one of the rule's\n" +
    "roles, or the requester withdrawing its own request. One denial settles it.",
  arguments: ARG,
  options: [
    ...IDENTITY_OPTIONS,
    { flags: "--reason <text>", description: "why (recorded with the denial)" },
    ...WRITE_OPTIONS,
    ...STORE_OPTIONS,
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  helpAfter: "\nExit codes: 0 denied, 1 refused, 2 usage or configuration error.",
  async run([id], options) {
    await (await handlers()).runResolve("deny", id as string, options);
  },
};

export const approvalWaitCommand: CommandSpec = {
  name: "approval wait",
  summary: "wait for a request to be approved or denied; collect its ticket",
  description:
    "Wait until REQUEST_ID is approved, denied or expires (or --timeout passes). With the requester's\n" +
    "identity (--token-file / --as), an approved request's ticket is printed: once, to the first\n" +
    "wait that collects it. PostgreSQL stores wake the wait at once; SQLite stores are polled.",
  arguments: ARG,
  options: [
    { flags: "--timeout <seconds>", description: "how long to wait (default 60; 0 looks once)" },
    ...IDENTITY_OPTIONS,
    { flags: "--audit-log <file>", description: "audit log to record in (default: the project's)" },
    ...STORE_OPTIONS,
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  helpAfter: `
Exit codes: 0 approved, 1 denied, expired or not found, 3 still pending at the timeout,
2 usage or configuration error.

Example:
  TICKET=$(agent-safe approval wait apr-3f2a9c1b7d04 --token-file agent.token --timeout 600 --json | jq -r .decision.ticket.token)`,
  async run([id], options) {
    await (await handlers()).runWait(id as string, options);
  },
};

export const APPROVAL_COMMANDS: readonly CommandSpec[] = [
  approvalListCommand,
  approvalShowCommand,
  approvalApproveCommand,
  approvalDenyCommand,
  approvalWaitCommand,
];
