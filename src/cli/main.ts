/**
 * `agent-safe`: the command-line interface. Each command is one file under commands/ that declares
 * its arguments, options and handler. A well-formed invocation runs straight from that declaration;
 * help, version and usage errors go through commander, loaded only then.
 * Exit codes: 0 allow / success, 1 deny / failed check, 2 usage or configuration error,
 * 3 require approval.
 */
import { ConfigError } from "../config/errors.js";
import { checkCommand } from "./commands/check.js";
import { explainCommand } from "./commands/explain.js";
import { initCommand } from "./commands/init.js";
import { listActionsCommand } from "./commands/list-actions.js";
import { testCommand } from "./commands/test.js";
import { validateCommand } from "./commands/validate.js";
import { EXIT, printErr, UsageError } from "./common.js";
import { type CommandSpec, fastParse } from "./spec.js";

export const COMMANDS: readonly CommandSpec[] = [
  initCommand,
  checkCommand,
  explainCommand,
  testCommand,
  validateCommand,
  listActionsCommand,
];

export async function main(argv: string[] = process.argv): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    const spec = COMMANDS.find((c) => c.name === argv[2]);
    const parsed = spec === undefined ? null : fastParse(spec, argv.slice(3));
    if (spec !== undefined && parsed !== null) {
      await spec.run(parsed.args, parsed.options);
    } else {
      const { buildProgram } = await import("./program.js");
      await buildProgram(COMMANDS).parseAsync(argv);
    }
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    return reportError(err, debug);
  }
}

function reportError(err: unknown, debug: boolean): number {
  const commander = err as { code?: unknown; exitCode?: unknown };
  if (typeof commander.code === "string" && commander.code.startsWith("commander.")) {
    // Help and version are "errors" to commander; both have already printed.
    return commander.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof ConfigError) {
    for (const line of err.lines()) printErr(`error: ${line}`);
  } else if (err instanceof UsageError) {
    printErr(`error: ${err.message}`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    printErr(`error: ${message}${debug ? "" : " (run with --debug for details)"}`);
  }
  if (debug && err instanceof Error && err.stack) printErr(err.stack);
  return EXIT.USAGE;
}
