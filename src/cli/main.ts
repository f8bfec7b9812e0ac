/**
 * `agent-safe`: the command-line interface. Each command is one file under commands/ that declares
 * its arguments, options and handler. A well-formed invocation runs straight from that declaration;
 * help, version and usage errors go through commander, loaded only then.
 * Exit codes: 0 allow / success, 1 deny / failed check, 2 usage or configuration error,
 * 3 require approval.
 */
import { ConfigError } from "../config/errors.js";
import { APPROVAL_COMMANDS } from "./commands/approval.js";
import { AUDIT_COMMANDS } from "./commands/audit.js";
import { checkCommand } from "./commands/check.js";
import { credentialResolveCommand, credentialTestVaultCommand } from "./commands/credential.js";
import { delegationCreateCommand, delegationVerifyCommand } from "./commands/delegation.js";
import { explainCommand } from "./commands/explain.js";
import { identityIssueCommand } from "./commands/identity.js";
import { initCommand } from "./commands/init.js";
import {
  keysExportCommand,
  keysGenerateCommand,
  keysRotateCommand,
  keysShowCommand,
} from "./commands/keys.js";
import { killSwitchCommand } from "./commands/kill-switch.js";
import { listActionsCommand } from "./commands/list-actions.js";
import { rollbackCheckCommand, rollbackShowCommand } from "./commands/rollback.js";
import { runnerDryRunCommand, runnerExecuteCommand } from "./commands/runner.js";
import { serveCommand } from "./commands/serve.js";
import { testCommand } from "./commands/test.js";
import { ticketRedeemCommand, ticketVerifyCommand } from "./commands/ticket.js";
import { validateCommand } from "./commands/validate.js";
import { EXIT, printErr } from "./common.js";
import { type CommandSpec, fastParse } from "./spec.js";

export const COMMANDS: readonly CommandSpec[] = [
  initCommand,
  checkCommand,
  explainCommand,
  testCommand,
  validateCommand,
  listActionsCommand,
  keysShowCommand,
  keysGenerateCommand,
  keysRotateCommand,
  keysExportCommand,
  identityIssueCommand,
  delegationCreateCommand,
  delegationVerifyCommand,
  ticketVerifyCommand,
  ticketRedeemCommand,
  credentialResolveCommand,
  credentialTestVaultCommand,
  killSwitchCommand,
  runnerExecuteCommand,
  runnerDryRunCommand,
  rollbackShowCommand,
  rollbackCheckCommand,
  ...AUDIT_COMMANDS,
  ...APPROVAL_COMMANDS,
  serveCommand,
];

export async function main(argv: string[] = process.argv): Promise<number> {
  const debug = argv.includes("--debug");
  // `agent-safe ... | head`: a closed pipe ends the output, not the process with a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    const found = findCommand(argv);
    const parsed = found === undefined ? null : fastParse(found.spec, found.rest);
    if (found !== undefined && parsed !== null) {
      await found.spec.run(parsed.args, parsed.options);
    } else {
      const { buildProgram } = await import("./program.js");
      await buildProgram(COMMANDS).parseAsync(argv);
    }
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    return reportError(err, debug);
  }
}

/** The command named by argv: a two-word subcommand (`ticket verify`) first, then one word. */
export function findCommand(argv: readonly string[]): { spec: CommandSpec; rest: string[] } | undefined {
  const sub = COMMANDS.find((c) => c.name === `${argv[2]} ${argv[3]}`);
  if (sub !== undefined) return { spec: sub, rest: argv.slice(4) };
  const spec = COMMANDS.find((c) => c.name === argv[2]);
  return spec === undefined ? undefined : { spec, rest: argv.slice(3) };
}

/** Errors that mean a bug rather than a problem the user can fix: they get the --debug hint. */
const INTERNAL_ERRORS = new Set([
  "Error",
  "TypeError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "EvalError",
]);

function reportError(err: unknown, debug: boolean): number {
  const commander = err as { code?: unknown; exitCode?: unknown };
  if (typeof commander.code === "string" && commander.code.startsWith("commander.")) {
    // Help and version are "errors" to commander; both have already printed.
    return commander.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof ConfigError) {
    for (const line of err.lines()) printErr(`error: ${line}`);
  } else if (err instanceof Error && !INTERNAL_ERRORS.has(err.name)) {
    // A typed error (usage, audit lock, keys, state store, ...) already says what to do.
    printErr(`error: ${err.message}`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    printErr(`error: ${message}${debug ? "" : " (run with --debug for details)"}`);
  }
  if (debug && err instanceof Error && err.stack) printErr(err.stack);
  return EXIT.USAGE;
}
