/** `agent-safe check`: one decision, a plan of steps (--plan), or a JSONL batch (--batch). */
import { openProject } from "../../config/open-project.js";
import type { Decision } from "../../pdp/decision.js";
import {
  type CommonOptions,
  EXIT,
  JSON_OPTIONS,
  PROJECT_OPTIONS,
  print,
  printJson,
  printWarnings,
  projectOverrides,
  UsageError,
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

interface CheckOptions extends CommonOptions, RequestFlags {
  audit?: boolean;
  plan?: string;
  batch?: string;
  workers?: string;
}

export const checkCommand: CommandSpec = {
  name: "check",
  summary: "decide whether an action may run",
  description:
    "Decide whether ACTION may run against a target, with the given parameters and caller.\n" +
    "Prints ALLOW, DENY or REQUIRE_APPROVAL with the reason and the rule that decided.",
  arguments: [{ name: "[action]", description: "the action to check, e.g. restart-deployment" }],
  options: [
    ...REQUEST_OPTIONS,
    {
      flags: "--plan <file>",
      description:
        "check every step of a plan (YAML or JSON list of {action, target, caller, params, ticket_id})",
    },
    {
      flags: "--batch <file|->",
      description:
        "decide a JSONL file of requests (plain or gzipped; - for stdin), JSONL decisions on stdout",
    },
    { flags: "--workers <n>", description: "worker threads for --batch (default: one per CPU)" },
    {
      flags: "--audit",
      description: "with --batch: also write every decision to the audit log (single-threaded)",
    },
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  helpAfter: `
Exit codes: 0 ALLOW, 1 DENY, 3 REQUIRE_APPROVAL, 2 usage or configuration error.
With --plan or --batch: 0 when every request was decided, whatever the decisions.

Examples:
  agent-safe check scale-deployment -t staging/api-server -c '{"agent_id":"deploy-bot","roles":["deployer"]}' \\
      -p '{"namespace":"staging","deployment":"api-server","replicas":3}'
  agent-safe check get-pod-logs -t staging/api-server -p '{"namespace":"staging","pod":"api-0"}' --json
  agent-safe check --batch requests.jsonl.gz --profile reference > decisions.jsonl`,
  async run([action], options) {
    await runCheck(action as string | undefined, options as CheckOptions);
  },
};

async function runCheck(action: string | undefined, opts: CheckOptions): Promise<void> {
  const modes = [action !== undefined, opts.plan !== undefined, opts.batch !== undefined].filter(
    Boolean,
  ).length;
  if (modes !== 1) throw new UsageError("give exactly one of: an ACTION, --plan FILE or --batch FILE");
  if (opts.batch !== undefined) {
    const { runBatch } = await import("../batch/run.js");
    process.exitCode = await runBatch(opts.batch, {
      overrides: projectOverrides(opts),
      cache: opts.cache !== false,
      workers: opts.workers === undefined ? undefined : parseWorkers(opts.workers),
      at: opts.at,
      audit: opts.audit === true,
    });
    return;
  }
  const opened = await openProject({ overrides: projectOverrides(opts), cache: opts.cache !== false });
  printWarnings(opened.warnings);
  // Same pipeline as the SDK and the sidecar: identity, guards, audit, tickets. The command line
  // is not trusted to assert identities: with keys configured, --caller must be a token.
  const { compose } = await import("../../sdk/compose.js");
  const { DecisionPipeline } = await import("../../pdp/pipeline.js");
  const composed = await compose(opened);
  try {
    const pipeline = new DecisionPipeline(composed.parts);
    const at = opts.at === undefined ? null : evalTimeFromFlag(opts.at, Date.now());
    if (opts.plan !== undefined) {
      const { readPlan } = await import("../plan.js");
      const steps = readPlan(opts.plan);
      const planAt = at ?? evalTimeFromFlag(undefined, Date.now());
      const decisions: Decision[] = [];
      for (const step of steps) decisions.push(await pipeline.check(step, { at: planAt, trusted: false }));
      if (wantsJson(opts)) printJson(decisions);
      else
        decisions.forEach((d, i) => {
          print(`Step ${i + 1}:`);
          printDecision(d);
          print();
        });
      process.exitCode = EXIT.OK;
      return;
    }
    const decision = await pipeline.check(requestFromFlags(action!, opts), { at, trusted: false });
    if (wantsJson(opts)) printJson(decision);
    else printDecision(decision);
    process.exitCode = exitCodeFor(decision);
  } finally {
    await composed.close();
  }
}

function parseWorkers(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`--workers must be an integer from 1 to 64, got '${text}'`);
  return n;
}
