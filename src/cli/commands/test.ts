/** `agent-safe test`: run policy test files against the loaded world. */
import type { Command } from "commander";
import pc from "picocolors";
import { openProject } from "../../config/open-project.js";
import { evalTimeFromEpoch, parseTimestamp } from "../../core/time.js";
import type { Decision } from "../../pdp/decision.js";
import { evaluate } from "../../pdp/pdp.js";
import {
  type CommonOptions,
  EXIT,
  print,
  printJson,
  printWarnings,
  projectOverrides,
  wantsJson,
  withJsonOption,
  withProjectOptions,
} from "../common.js";

interface CaseResult {
  name: string;
  file: string;
  line: number;
  passed: boolean;
  problems: string[];
  decision: Decision;
}

export function registerTest(program: Command): void {
  const cmd = program
    .command("test")
    .argument("<paths...>", "test files or directories of *.yaml / *.yml test files")
    .summary("run policy test cases and report which pass")
    .description(
      "Run policy test files: each case names an action, target, caller, params, optional timestamp\n" +
        "and the expected result (and optionally expect_policy / expect_reason). Fails (exit 1) if any\n" +
        "case fails or there are no cases.",
    );
  withJsonOption(withProjectOptions(cmd));
  cmd.addHelpText(
    "after",
    `
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
  );
  cmd.action(async (paths: string[], opts: CommonOptions) => {
    const { findTestFiles, loadTestFile } = await import("../../config/policy-tests.js");
    const { world } = await openProject({ overrides: projectOverrides(opts), cache: opts.cache !== false });
    const cases = paths.flatMap(findTestFiles).flatMap((file) => {
      const loaded = loadTestFile(file);
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
        if (r.passed) print(`  ${pc.green("PASS")}  ${r.name}`);
        else {
          print(`  ${pc.red("FAIL")}  ${r.name}  (${r.problems.join("; ")})`);
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
  });
}
