/** The commander program, built from the command specs: help, version and usage errors. */
import { Argument, Command, Option } from "commander";
import { VERSION } from "../version.js";
import type { CommandSpec } from "./spec.js";

const HELP_AFTER = `
Exit codes: 0 allow or success, 1 deny or a failed check, 2 usage or configuration error,
3 require approval.

Examples:
  agent-safe check restart-deployment --target dev/test-app --params '{"namespace":"dev","deployment":"test-app"}'
  agent-safe explain delete-namespace --target prod/payments-ns --params '{"namespace":"payments"}'
  agent-safe test tests/policy/
  agent-safe validate --strict

Documentation: docs/ (getting started, writing policies, CLI reference).`;

export function buildProgram(specs: readonly CommandSpec[]): Command {
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
    .addHelpText("after", HELP_AFTER);
  for (const spec of specs) {
    const words = spec.name.split(" ");
    let parent = program;
    if (words.length === 2) {
      const group = words[0]!;
      parent =
        program.commands.find((c) => c.name() === group) ??
        program
          .command(group)
          .summary(spec.groupSummary ?? "")
          .exitOverride();
      if (parent.summary() === "" && spec.groupSummary !== undefined) parent.summary(spec.groupSummary);
    }
    const cmd = parent
      .command(words.at(-1)!, spec.isDefault ? { isDefault: true } : {})
      .summary(spec.summary)
      .description(paragraphs(spec.description))
      .exitOverride();
    for (const a of spec.arguments) {
      const arg = new Argument(a.name, a.description);
      if (a.default !== undefined) arg.default(a.default);
      cmd.addArgument(arg);
    }
    for (const o of spec.options) {
      const option = new Option(o.flags, o.description);
      if (o.choices !== undefined) option.choices(o.choices);
      if (o.hidden) option.hideHelp();
      if (o.multiple)
        option.argParser((v: string, prev: unknown) => [...(Array.isArray(prev) ? prev : []), v]);
      cmd.addOption(option);
    }
    if (spec.helpAfter !== undefined) cmd.addHelpText("after", spec.helpAfter);
    cmd.action(async (...params: unknown[]) => {
      // commander passes the arguments, then the options object, then the command.
      const args = params.slice(0, spec.arguments.length);
      const options = params[spec.arguments.length] as Record<string, unknown>;
      await spec.run(args, options);
    });
  }
  return program;
}

/** Joins hard-wrapped lines into paragraphs, so commander can wrap them to the terminal width. */
function paragraphs(text: string): string {
  return text.replace(/([^\n])\n(?!\n)/g, "$1 ");
}
