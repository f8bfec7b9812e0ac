/**
 * The SDK's runner calls: execute a ticket, show what would run, plan and check a rollback. Each
 * builds the runner or the planner from the composed parts; the logic lives in `src/runner/`.
 */
import { auditLogPath } from "../audit/settings.js";
import type { ProjectConfig } from "../config/project.js";
import type { PyObject } from "../core/pyvalue.js";
import type { World } from "../core/world.js";
import type { CallerInput } from "../pdp/caller.js";
import type { Decision } from "../pdp/decision.js";
import type { DecisionPipeline } from "../pdp/pipeline.js";
import {
  auditRollbackSource,
  createExecutor,
  type DryRun,
  type ExecutionResult,
  type Executor,
  type ExecutorSettings,
  type ExecutorType,
  executorType,
  planRollback,
  type RollbackPlan,
  Runner,
} from "../runner/index.js";
import { AgentSafeError } from "./client.js";
import type { Composed } from "./compose.js";

export interface ExecuteOptions {
  /** An executor name (`dry-run`, `kubectl`, `k8s`, `aws`; default `dry-run`) or an executor instance. */
  executor?: ExecutorType | "subprocess" | "kubernetes" | Executor;
  /** Settings of a named executor (kubeconfig, context, AWS region and endpoint, …). */
  executorSettings?: ExecutorSettings;
  /** The params, when the ticket holds sensitive ones only as digests. */
  params?: Record<string, unknown>;
  timeoutMs?: number;
}

export interface RollbackCheck {
  plan: RollbackPlan;
  /** The rollback's own decision: it goes through the pipeline like any action. */
  decision: Decision;
}

async function executorOf(options: ExecuteOptions): Promise<Executor> {
  const chosen = options.executor ?? "dry-run";
  if (typeof chosen !== "string") return chosen;
  const type = executorType(chosen);
  if (type === null) throw new AgentSafeError(`Unknown executor '${chosen}'`);
  return createExecutor(type, options.executorSettings ?? {});
}

function runnerOf(composed: Composed, world: () => World): Runner {
  if (composed.tickets === null)
    throw new AgentSafeError(
      "Execution tickets need a keys: section in agent-safe.yaml (agent-safe init creates one)",
    );
  if (composed.audit === null)
    throw new AgentSafeError("The runner records every step: open the SDK with the audit log enabled");
  return new Runner({
    world,
    validator: composed.tickets.validator,
    audit: composed.audit,
    credentials: composed.credentials,
    clock: composed.parts.clock,
  });
}

function runOptions(executor: Executor, options: ExecuteOptions) {
  return {
    executor,
    ...(options.params !== undefined ? { params: options.params } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
}

export async function executeTicket(
  composed: Composed,
  world: () => World,
  token: string,
  options: ExecuteOptions,
): Promise<ExecutionResult> {
  const runner = runnerOf(composed, world);
  return runner.run(token, runOptions(await executorOf(options), options));
}

export async function dryRunTicket(
  composed: Composed,
  world: () => World,
  token: string,
  options: ExecuteOptions,
): Promise<DryRun> {
  const runner = runnerOf(composed, world);
  return runner.dryRun(token, runOptions(await executorOf(options), options));
}

/** The log the composed writer appends to (or the project's configured one). */
function logOf(composed: Composed, project: ProjectConfig | null): string {
  const writerPath = (composed.audit as { path?: string } | null)?.path;
  if (writerPath !== undefined) return writerPath;
  if (project === null) throw new AgentSafeError("Rollback plans read the audit log: open a project");
  return auditLogPath(project);
}

export async function planRollbackFor(
  composed: Composed,
  project: ProjectConfig | null,
  world: World,
  auditId: string,
): Promise<RollbackPlan> {
  const source = await auditRollbackSource(logOf(composed, project));
  try {
    return planRollback(auditId, source, world, new Date(composed.parts.clock()));
  } finally {
    source.close();
  }
}

/** Plans the rollback and decides it as the given caller (default: the original caller). */
export async function checkRollbackFor(
  composed: Composed,
  pipeline: DecisionPipeline,
  project: ProjectConfig | null,
  world: World,
  auditId: string,
  caller: CallerInput | undefined,
): Promise<RollbackCheck> {
  const plan = await planRollbackFor(composed, project, world, auditId);
  const decision = await pipeline.check(
    {
      action: plan.rollback_action,
      target: plan.rollback_target,
      caller: caller === undefined ? plan.rollback_caller : caller,
      params: plan.rollback_params as PyObject,
    },
    { trusted: true, correlationId: auditId },
  );
  return { plan, decision };
}
