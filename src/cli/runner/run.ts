/** The runner commands, on the project's composition (tickets, audit, credentials). */
import { openProject } from "../../config/open-project.js";
import { defaultRunnerSettings } from "../../config/runner-schema.js";
import { createExecutor, executorType, Runner } from "../../runner/index.js";
import { compose } from "../../sdk/compose.js";
import { EXIT, print, printJson, printWarnings, projectOverrides, UsageError, wantsJson } from "../common.js";
import { parseParamsFlag } from "../request-input.js";

type Options = Record<string, unknown>;

export async function runRunner(mode: "execute" | "dry-run", token: string, o: Options): Promise<void> {
  const requested = o.executor === undefined ? null : executorType(o.executor as string);
  if (requested === null && o.executor !== undefined)
    throw new UsageError(`--executor: unknown executor '${String(o.executor)}'`);
  const flagTimeout = o.timeout === undefined ? undefined : Number(o.timeout);
  if (flagTimeout !== undefined && !(flagTimeout > 0))
    throw new UsageError("--timeout must be a positive number of seconds");
  const params = parseParamsFlag(o.params as string | undefined);
  const opened = await openProject({ overrides: projectOverrides(o), cache: o.cache !== false });
  printWarnings(opened.warnings);
  // Flags win over the project's `runner:` section, which wins over the defaults.
  const configured = opened.project.settings.runner ?? defaultRunnerSettings();
  const type = requested ?? configured.executor;
  const timeout = flagTimeout ?? configured.timeout_seconds;
  const composed = await compose(opened, { approvals: false });
  try {
    if (composed.tickets === null)
      throw new UsageError(
        "execution tickets need a keys: section in agent-safe.yaml (agent-safe init creates one)",
      );
    if (composed.audit === null)
      throw new UsageError("the runner records every step: enable the audit log (audit.enabled)");
    const runner = new Runner({
      world: () => opened.world,
      validator: composed.tickets.validator,
      audit: composed.audit,
      credentials: composed.credentials,
    });
    const executor = await createExecutor(type, {
      kubectl_path: (o.kubectlPath as string | undefined) ?? configured.kubectl_path,
      kubeconfig: (o.kubeconfig as string | undefined) ?? configured.kubeconfig,
      context: (o.context as string | undefined) ?? configured.context,
      aws_region: (o.awsRegion as string | undefined) ?? configured.aws_region,
      aws_endpoint: (o.awsEndpoint as string | undefined) ?? configured.aws_endpoint,
    });
    const runOptions = {
      executor,
      ...(params !== null ? { params } : {}),
      timeoutMs: timeout * 1000,
    };
    if (mode === "dry-run") {
      const plan = await runner.dryRun(token, runOptions);
      if (wantsJson(o))
        printJson({ valid: plan.valid, reason: plan.reason, used: plan.used, steps: plan.steps });
      else if (!plan.valid) print(`ERROR — ${plan.reason}`);
      else {
        print(
          `DRY-RUN — ${plan.ticket?.action} on ${plan.ticket?.target}${plan.used ? " (ticket already used: execute would be refused)" : ""}`,
        );
        for (const step of plan.steps) print(`  ${step}`);
      }
      process.exitCode = plan.valid && plan.used !== true ? EXIT.OK : EXIT.FAILED;
      return;
    }
    const result = await runner.run(token, runOptions);
    if (wantsJson(o)) printJson(result);
    else {
      print(`${result.status.toUpperCase()} — ${result.action} on ${result.target}`);
      if (result.output !== "") print(`  output: ${result.output}`);
      if (result.error !== null) print(`  error: ${result.error}`);
      print(`  duration: ${Math.round(result.durationMs)}ms`);
      print(`  executor: ${result.executorType}`);
      print(`  audit_id: ${result.auditId}`);
    }
    process.exitCode = result.status === "success" || result.status === "skipped" ? EXIT.OK : EXIT.FAILED;
  } finally {
    await composed.close();
  }
}
