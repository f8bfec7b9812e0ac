/**
 * `agent-safe`: the command-line interface. Each command lives in its own file under commands/
 * and imports what it needs lazily, so start-up stays fast. Exit codes: 0 allow / success,
 * 1 deny / failed check, 2 usage or configuration error, 3 require approval.
 */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/errors.js";
import { VERSION } from "../version.js";
import { registerCheck } from "./commands/check.js";
import { registerExplain } from "./commands/explain.js";
import { registerInit } from "./commands/init.js";
import { registerListActions } from "./commands/list-actions.js";
import { registerTest } from "./commands/test.js";
import { registerValidate } from "./commands/validate.js";
import { EXIT, printErr, UsageError } from "./common.js";

export function buildProgram(): Command {
  const program = new Command()
    .name("agent-safe")
    .description(
      "Decide what an AI agent may do to your infrastructure: ALLOW, DENY or REQUIRE_APPROVAL,\n" +
        "from action definitions, a target inventory and priority-ordered policy rules.",
    )
    .version(`agent-safe, version ${VERSION}`, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .addHelpText(
      "after",
      `
Exit codes: 0 allow or success, 1 deny or a failed check, 2 usage or configuration error,
3 require approval.

Examples:
  agent-safe check restart-deployment --target dev/test-app --params '{"namespace":"dev","deployment":"test-app"}'
  agent-safe explain delete-namespace --target prod/payments-ns --params '{"namespace":"payments"}'
  agent-safe test tests/policy/
  agent-safe validate --strict`,
    );
  for (const register of [
    registerInit,
    registerCheck,
    registerExplain,
    registerTest,
    registerValidate,
    registerListActions,
  ]) {
    register(program);
  }
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    return reportError(err, debug);
  }
}

function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
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
