/** `agent-safe test`: run policy test files against the loaded world. */
import { openProject } from "../../config/open-project.js";
import { evalTimeFromEpoch, parseTimestamp } from "../../core/time.js";
import type { Decision } from "../../pdp/decision.js";
import { evaluate } from "../../pdp/pdp.js";
import {
  type CommonOptions,
  colors,
  EXIT,
  JSON_OPTIONS,
  PROJECT_OPTIONS,
  print,
  printJson,
  printWarnings,
  projectOverrides,
  wantsJson,
} from "../common.js";
import type { CommandSpec } from "../spec.js";

interface CaseResult {
  name: string;
  file: string;
  line: number;
  passed: boolean;
  problems: string[];
  decision: Decision;
}

export const testCommand: CommandSpec = {
  name: "test",
  summary: "run policy test cases and report which pass",
  description:
    "Run policy test files: each case names an action, target, caller, params, optional timestamp\n" +
    "and the expected result (and optionally expect_policy / expect_reason). Fails (exit 1) if any\n" +
    "case fails or there are no cases.",
  arguments: [{ name: "<paths...>", description: "test files or directories of *.yaml / *.yml test files" }],
  options: [...JSON_OPTIONS, ...PROJECT_OPTIONS],
  helpAfter: `
Test file format:
  tests:
    - name: deployer-may-scale-staging
      action: scale-deployment
      target: staging/api-server
      caller: {agent_id: deploy-bot, roles: [deployer]}   # or a plain agent id
      params: {namespace: staging, deployment: api-server, replicas: 3}
      timestamp: "2025-06-02T10:00:00Z"                  # optional; default now
      expect: allow                                       # allow | deny | require_approval
      expect_policy: allow-deployer-staging               # optional
      expect_reason: "Deployer agents are authorized ..." # optional`,
  async run([paths], options) {
    await runTests(paths as string[], options as CommonOptions);
  },
};

async function runTests(paths: string[], opts: CommonOptions): Promise<void> {
  const { findTestFiles, loadTestFile } = await import("../../config/policy-tests.js");
  const { world, warnings } = await openProject({
    overrides: projectOverrides(opts),
    cache: opts.cache !== false,
  });
  printWarnings(warnings);
  const cases = paths.flatMap(findTestFiles).flatMap((file) => {
    const loaded = loadTestFile(file, world.profile);
    printWarnings(loaded.warnings);
    return loaded.cases;
  });
  const now = evalTimeFromEpoch(Date.now());
  const results: CaseResult[] = cases.map((c) => {
    const time = c.timestamp === null ? now : parseTimestamp(c.timestamp);
    const request = {
      action: c.action,
      target: c.target,
      caller: c.caller as never,
      params: c.params,
      ticketId: c.ticket_id,
    };
    const decision = evaluate(world, request, time);
    const problems: string[] = [];
    if (decision.result !== c.expect) problems.push(`expected ${c.expect}, got ${decision.result}`);
    if (c.expect_policy !== undefined && decision.policy_matched !== c.expect_policy) {
      problems.push(
        `expected policy ${c.expect_policy ?? "(none)"}, got ${decision.policy_matched ?? "(none)"}`,
      );
    }
    if (c.expect_reason !== undefined && decision.reason !== c.expect_reason) {
      problems.push(`expected reason '${c.expect_reason}'`);
    }
    return { name: c.name, file: c.file, line: c.line, passed: problems.length === 0, problems, decision };
  });
  const failed = results.filter((r) => !r.passed).length;
  const total = results.length;
  if (wantsJson(opts)) {
    printJson({ passed: total - failed, failed, total, cases: results });
  } else {
    for (const r of results) {
      if (r.passed) print(`  ${colors.green("PASS")}  ${r.name}`);
      else {
        print(`  ${colors.red("FAIL")}  ${r.name}  (${r.problems.join("; ")})`);
        print(`        reason: ${r.decision.reason}`);
        print(`        at: ${r.file}:${r.line}`);
      }
    }
    print();
    if (total === 0) print("No test cases found.");
    else if (failed === 0) print(`All ${total} test(s) passed.`);
    else print(`${failed} failed, ${total - failed} passed, ${total} total.`);
  }
  process.exitCode = failed === 0 && total > 0 ? EXIT.OK : EXIT.FAILED;
}
