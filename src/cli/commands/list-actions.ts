/** `agent-safe list-actions`: the registered actions, optionally filtered by tag or risk. */
import type { Command } from "commander";
import { openProject } from "../../config/open-project.js";
import { RISK_CLASSES } from "../../core/types.js";
import {
  type CommonOptions,
  EXIT,
  print,
  printJson,
  projectOverrides,
  UsageError,
  wantsJson,
  withJsonOption,
  withProjectOptions,
} from "../common.js";

export function registerListActions(program: Command): void {
  const cmd = program
    .command("list-actions")
    .summary("list the actions in the registry")
    .option("--tag <tag>", "only actions with this tag")
    .option("--risk <class>", `only actions of this risk class (${RISK_CLASSES.join(", ")})`);
  withJsonOption(withProjectOptions(cmd));
  cmd.action(async (opts: CommonOptions & { tag?: string; risk?: string }) => {
    if (opts.risk !== undefined && !(RISK_CLASSES as readonly string[]).includes(opts.risk)) {
      throw new UsageError(`--risk must be one of ${RISK_CLASSES.join(", ")}, got '${opts.risk}'`);
    }
    const { input } = await openProject({ overrides: projectOverrides(opts), cache: opts.cache !== false });
    const actions = [...input.actions]
      .filter((a) => opts.tag === undefined || a.tags.includes(opts.tag))
      .filter((a) => opts.risk === undefined || a.risk_class === opts.risk)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (wantsJson(opts)) printJson(actions);
    else if (actions.length === 0) print("No actions found.");
    else {
      for (const a of actions) print(`  ${a.name.padEnd(30)} [${a.risk_class}]  v${a.version}`);
      print(`\n${actions.length} action(s) registered.`);
    }
    process.exitCode = EXIT.OK;
  });
}
