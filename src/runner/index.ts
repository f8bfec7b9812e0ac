/**
 * The runner: executes ticketed actions with scoped credentials, captures state, plans rollbacks.
 * Executors are loaded by name (`createExecutor`); the runner itself never calls an executor
 * without a redeemed ticket.
 */
export { auditRollbackSource } from "./audit-source.js";
export { DryRunExecutor } from "./dry-run.js";
export { type ExecutionRecord, executionEvent, type RunStatus, stateCaptureEvent } from "./events.js";
export {
  createExecutor,
  EXECUTOR_TYPES,
  type ExecutorSettings,
  type ExecutorType,
  executorType,
} from "./executors/index.js";
export type { ExecutionContext, Executor, ExecutorResult, PrecheckResult } from "./executors/types.js";
export {
  type AuditedEvent,
  planRollback,
  RollbackError,
  type RollbackPlan,
  type RollbackSource,
} from "./rollback.js";
export {
  type CredentialProvider,
  type DryRun,
  type ExecutionResult,
  type RunCredential,
  Runner,
  type RunnerParts,
  type RunOptions,
} from "./runner.js";
export { diffState, pyEquals, type StateDiff } from "./state-diff.js";
