/** `agent-safe list-actions`: the registered actions, optionally filtered by tag or risk. */
import { openProject } from "../../config/open-project.js";
import { RISK_CLASSES } from "../../core/types.js";
import {
  type CommonOptions,
  EXIT,
  JSON_OPTIONS,
  PROJECT_OPTIONS,
  print,
  printJson,
  projectOverrides,
  wantsJson,
} from "../common.js";
import type { CommandSpec } from "../spec.js";

export const listActionsCommand: CommandSpec = {
  name: "list-actions",
  summary: "list the actions in the registry",
  description: "List the registered actions, sorted by name, with their risk class and version.",
  arguments: [],
  options: [
    { flags: "--tag <tag>", description: "only actions with this tag" },
    {
      flags: "--risk <class>",
      description: `only actions of this risk class (${RISK_CLASSES.join(", ")})`,
      choices: RISK_CLASSES,
    },
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  async run(_args, options) {
    await runListActions(options as CommonOptions & { tag?: string; risk?: string });
  },
};

async function runListActions(opts: CommonOptions & { tag?: string; risk?: string }): Promise<void> {
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
}
