/** `agent-safe explain`: the decision, and why each higher-priority rule did not match. */
import { relative } from "node:path";
import { openProject } from "../../config/open-project.js";
import { explainRequest } from "../../pdp/explain.js";
import {
  type CommonOptions,
  JSON_OPTIONS,
  PROJECT_OPTIONS,
  print,
  printJson,
  printWarnings,
  projectOverrides,
  wantsJson,
} from "../common.js";
import {
  evalTimeFromFlag,
  exitCodeFor,
  printDecision,
  REQUEST_OPTIONS,
  type RequestFlags,
  requestFromFlags,
} from "../request-input.js";
import type { CommandSpec } from "../spec.js";

export const explainCommand: CommandSpec = {
  name: "explain",
  summary: "show the decision and why higher-priority rules did not match",
  description:
    "Decide like `check` (the same caller resolution, without guards, audit or ticket), then list\n" +
    "every rule that outranks the winning one (all rules, on a default deny) with the first\n" +
    "condition that did not hold. Use it to debug a policy.",
  arguments: [{ name: "<action>", description: "the action to explain" }],
  options: [...REQUEST_OPTIONS, ...JSON_OPTIONS, ...PROJECT_OPTIONS],
  async run(args, options) {
    await runExplain(args[0] as string, options as CommonOptions & RequestFlags);
  },
};

async function runExplain(action: string, opts: CommonOptions & RequestFlags): Promise<void> {
  const { world, warnings, project } = await openProject({
    overrides: projectOverrides(opts),
    cache: opts.cache !== false,
  });
  printWarnings(warnings);
  const time = evalTimeFromFlag(opts.at, Date.now());
  const request = requestFromFlags(action, opts);
  // The caller is resolved as `check` resolves it: with keys configured, --caller must be a token.
  const { projectTokenKeys } = await import("../../jwt/config.js");
  const { identityServices } = await import("../../identity/index.js");
  const keys = projectTokenKeys(project);
  const { decision, rulesEvaluated, missed } = await explainRequest(world, request, time, {
    verifier: keys === null ? null : identityServices(keys).verifier,
    keysConfigured: keys !== null,
    trusted: false,
  });
  const explained = { rulesEvaluated, missed };
  if (wantsJson(opts)) {
    printJson({
      decision,
      rules_evaluated: explained.rulesEvaluated,
      missed: explained.missed,
    });
  } else {
    printDecision(decision);
    print();
    if (!explained.rulesEvaluated) {
      print("No rule was consulted: a built-in check decided first.");
    } else if (explained.missed.length === 0) {
      print(
        decision.policy_matched === null
          ? "There are no rules."
          : "The winning rule is the first in priority order.",
      );
    } else {
      print(decision.policy_matched === null ? "No rule matched:" : "Rules checked before the winner:");
      for (const m of explained.missed) {
        const where =
          m.source === null ? "" : `  (${relative(process.cwd(), m.source.file)}:${m.source.line})`;
        print(`  [${m.priority}] ${m.rule} → ${m.decision}: ${m.condition}: ${m.why}${where}`);
      }
    }
  }
  process.exitCode = exitCodeFor(decision);
}
