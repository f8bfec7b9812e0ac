/**
 * `agent-safe audit verify|show|show-state|state-coverage|ship`: the audit log (docs/audit.md).
 * The handlers live in ../audit/ and are loaded only when a command runs.
 */
import type { CommandSpec, OptionSpec } from "../spec.js";

const AUDIT_OPTIONS: readonly OptionSpec[] = [
  { flags: "--json", description: "print machine-readable JSON" },
  { flags: "--json-output", description: "alias of --json", hidden: true },
  {
    flags: "--config <file>",
    description: "agent-safe.yaml to use (default: found from the working directory upwards)",
  },
  { flags: "--debug", description: "show stack traces on errors" },
];

const LOG_ALIASES: readonly OptionSpec[] = [
  { flags: "--audit-log <file>", description: "0.9.0 spelling of the LOG argument", hidden: true },
  { flags: "--log-file <file>", description: "0.9.0 spelling of the LOG argument", hidden: true },
];

const LOG_ARG = {
  name: "[log]",
  description: "the audit log (default: audit.path of agent-safe.yaml, else ./audit.jsonl)",
};

export const auditVerifyCommand: CommandSpec = {
  name: "audit verify",
  groupSummary: "verify, show and ship the audit log",
  summary: "check the audit log's hash chain, signatures and checkpoints",
  description:
    "Verify every line's hash, the chain from the first event to the last across all segments of\n" +
    "the log (LOG, LOG.000001, ...), every checkpoint signature, and that the log still reaches the\n" +
    "newest shipped checkpoint (--checkpoints), which detects a cut tail or a rewritten chain.\n" +
    "0.9.0 logs are verified with 0.9.0's algorithm. --repair first cuts a torn last line left by a\n" +
    "crash and records the repair in the log.",
  arguments: [
    { name: "[log...]", description: "logs or segments (default: audit.path, else ./audit.jsonl)" },
  ],
  options: [
    {
      flags: "--checkpoints <file>",
      description:
        "shipped checkpoints to check against (repeatable; default: LOG.checkpoints.jsonl if present)",
      multiple: true,
    },
    {
      flags: "--public-key <file>",
      description: "audit public key(s): PEM or JWKS (default: the project's keys)",
    },
    { flags: "--repair", description: "cut a torn last line (after a crash) and log a repair event first" },
    {
      flags: "--require-signed",
      description: "fail unless every checkpoint signature verifies and there is one",
    },
    { flags: "--workers <n>", description: "threads to verify with (default: one per CPU for big logs)" },
    ...LOG_ALIASES,
    ...AUDIT_OPTIONS,
  ],
  helpAfter: "\nExit codes: 0 valid, 1 invalid, torn or missing, 2 usage or configuration error.",
  async run([logs], options) {
    const { runAuditVerify } = await import("../audit/verify-run.js");
    await runAuditVerify(logs as string[], options);
  },
};

export const auditShowCommand: CommandSpec = {
  name: "audit show",
  summary: "show the latest audit events",
  description:
    "Print the newest events (20 by default), oldest first, optionally filtered. Reads the log from\n" +
    "its end, so it stays fast on big logs. --last 0 shows nothing; --all shows every match.",
  arguments: [LOG_ARG],
  options: [
    { flags: "--last <n>", description: "how many events (default 20; 0 shows none)" },
    { flags: "--all", description: "every matching event" },
    {
      flags: "--event-type <type>",
      description: "only this type (decision, state_capture, execution, checkpoint, ...)",
    },
    { flags: "--caller <id>", description: "only events of this caller" },
    { flags: "--action <name>", description: "only events of this action" },
    { flags: "--since <time>", description: "only events at or after this time (ISO-8601, or 30m, 2h, 7d)" },
    ...LOG_ALIASES,
    ...AUDIT_OPTIONS,
  ],
  async run([log], options) {
    const { runAuditShow } = await import("../audit/show-run.js");
    await runAuditShow(log as string | undefined, options);
  },
};

export const auditShowStateCommand: CommandSpec = {
  name: "audit show-state",
  summary: "show the state captured for a decision",
  description: "Show the last state capture recorded for AUDIT_ID: before and after state, and the changes.",
  arguments: [{ name: "<audit-id>", description: "the decision's audit id (evt-...)" }],
  options: [
    { flags: "--log <file>", description: "the audit log (default: audit.path, else ./audit.jsonl)" },
    ...LOG_ALIASES,
    ...AUDIT_OPTIONS,
  ],
  async run([auditId], options) {
    const { runAuditShowState } = await import("../audit/state-run.js");
    await runAuditShowState(auditId as string, options);
  },
};

export const auditStateCoverageCommand: CommandSpec = {
  name: "audit state-coverage",
  summary: "how many decisions have a state capture",
  description: "Count the decision events and how many of them have a state capture (for rollback).",
  arguments: [LOG_ARG],
  options: [...LOG_ALIASES, ...AUDIT_OPTIONS],
  async run([log], options) {
    const { runAuditStateCoverage } = await import("../audit/state-run.js");
    await runAuditStateCoverage(log as string | undefined, options);
  },
};

export const auditShipCommand: CommandSpec = {
  name: "audit ship",
  summary: "ship the log to a filesystem, webhook or S3, resuming from a cursor",
  description:
    "Deliver the log's events, in order, to one destination, starting after the last event this\n" +
    "destination received (its cursor in LOG.cursors/). Re-running ships only what is new, so an\n" +
    "interrupted run is simply re-run. The events a live shipper could not queue are shipped here too.",
  arguments: [LOG_ARG],
  options: [
    {
      flags: "--backend <backend>",
      description: "filesystem, webhook or s3",
      choices: ["filesystem", "webhook", "s3"],
    },
    { flags: "--path <file>", description: "filesystem: the file to append to" },
    { flags: "--url <url>", description: "webhook: the URL to POST to" },
    { flags: "--header <name=value>", description: "webhook: an extra header (repeatable)", multiple: true },
    { flags: "--hmac-secret-file <file>", description: "webhook: key of the X-Agent-Safe-Signature HMAC" },
    { flags: "--bucket <bucket>", description: "s3: the bucket" },
    { flags: "--prefix <prefix>", description: "s3: key prefix (default audit-logs/)" },
    { flags: "--region <region>", description: "s3: region (default: the AWS environment)" },
    { flags: "--endpoint <url>", description: "s3: a custom endpoint (MinIO, moto)" },
    { flags: "--force-path-style", description: "s3: path-style URLs" },
    {
      flags: "--object-lock-mode <mode>",
      description: "s3: GOVERNANCE or COMPLIANCE retention",
      choices: ["GOVERNANCE", "COMPLIANCE"],
    },
    { flags: "--object-lock-days <days>", description: "s3: retention period in days" },
    { flags: "--name <name>", description: "the destination's cursor name (default: derived from it)" },
    { flags: "--attempts <n>", description: "tries per event before giving up (default 5)" },
    ...LOG_ALIASES,
    ...AUDIT_OPTIONS,
  ],
  helpAfter: "\nExit codes: 0 everything shipped, 1 an event could not be delivered, 2 usage error.",
  async run([log], options) {
    const { runAuditShip } = await import("../audit/ship-run.js");
    await runAuditShip(log as string | undefined, options);
  },
};

export const AUDIT_COMMANDS: readonly CommandSpec[] = [
  auditVerifyCommand,
  auditShowCommand,
  auditShowStateCommand,
  auditStateCoverageCommand,
  auditShipCommand,
];
