/** The rollback commands. */
import { auditLogPath } from "../../audit/settings.js";
import { openProject } from "../../config/open-project.js";
import type { PyObject } from "../../core/pyvalue.js";
import { DecisionPipeline } from "../../pdp/pipeline.js";
import { auditRollbackSource, planRollback, RollbackError } from "../../runner/index.js";
import { compose } from "../../sdk/compose.js";
import { EXIT, print, printJson, printWarnings, projectOverrides, wantsJson } from "../common.js";
import { exitCodeFor, printDecision } from "../request-input.js";

type Options = Record<string, unknown>;

export async function runRollback(mode: "show" | "check", auditId: string, o: Options): Promise<void> {
  const opened = await openProject({ overrides: projectOverrides(o), cache: o.cache !== false });
  printWarnings(opened.warnings);
  const logPath = auditLogPath(opened.project);
  const source = await auditRollbackSource(logPath);
  let plan: ReturnType<typeof planRollback>;
  try {
    plan = planRollback(auditId, source, opened.world);
  } catch (err) {
    if (!(err instanceof RollbackError)) throw err;
    if (wantsJson(o)) printJson({ error: "no_plan", message: err.message });
    else print(`ERROR — ${err.message}`);
    process.exitCode = EXIT.FAILED;
    return;
  } finally {
    source.close();
  }
  if (mode === "show") {
    if (wantsJson(o)) printJson(plan);
    else {
      print(`Rollback for ${plan.original_audit_id}: ${plan.original_action} → ${plan.rollback_action}`);
      print(`  target: ${plan.rollback_target}`);
      print(`  params: ${JSON.stringify(plan.rollback_params)}`);
      for (const w of plan.warnings) print(`  warning: ${w}`);
      print(`\nRun: agent-safe rollback check ${plan.original_audit_id}`);
    }
    process.exitCode = EXIT.OK;
    return;
  }
  const composed = await compose(opened);
  try {
    const decision = await new DecisionPipeline(composed.parts).check(
      {
        action: plan.rollback_action,
        target: plan.rollback_target,
        caller: (o.caller as string | undefined) ?? plan.rollback_caller,
        params: plan.rollback_params as PyObject,
      },
      { trusted: false, correlationId: auditId },
    );
    if (wantsJson(o)) printJson({ plan, decision });
    else {
      print(
        `Rollback plan: ${plan.rollback_action} on ${plan.rollback_target} ${JSON.stringify(plan.rollback_params)}`,
      );
      for (const w of plan.warnings) print(`  warning: ${w}`);
      printDecision(decision);
    }
    process.exitCode = exitCodeFor(decision);
  } finally {
    await composed.close();
  }
}
