/** Agent-Safe: the policy decision point for AI agents acting on infrastructure. */

export { ApprovalError, type ApprovalErrorCode } from "./approvals/errors.js";
export type {
  ActorInput,
  ApprovalOutcome,
  ApprovalRequest,
  ApprovalStatus,
  ApprovalWaitResult,
  ListOptions as ApprovalListOptions,
  WaitOptions as ApprovalWaitOptions,
} from "./approvals/index.js";
export { ConfigError, type ConfigIssue } from "./config/errors.js";
export type { ProjectConfig } from "./config/project.js";
export * from "./core/index.js";
export { CredentialError, type CredentialErrorCode } from "./credentials/errors.js";
export type { DelegationRequest, DelegationToken } from "./identity/delegation.js";
export { DelegationError, IdentityError } from "./identity/errors.js";
export type { CallerInput } from "./pdp/caller.js";
export type { Decision } from "./pdp/decision.js";
export type {
  DryRun,
  ExecutionResult,
  Executor,
  ExecutorSettings,
  ExecutorType,
  RollbackPlan,
} from "./runner/index.js";
export {
  AgentSafe,
  type AgentSafeOptions,
  type ExecuteOptions,
  type ExplainedDecision,
  type RollbackCheck,
} from "./sdk/agent-safe.js";
export {
  type AgentSafeClient,
  AgentSafeError,
  AgentSafeHttpError,
  type CheckOptions,
  type PlanOptions,
  type PlanStep,
} from "./sdk/client.js";
export { RemoteAgentSafe, type RemoteAgentSafeOptions } from "./sdk/remote.js";
export type { ExecutionTicket } from "./tickets/issuer.js";
export type { TicketCode, TicketExpectations, TicketResult, VerifiedTicket } from "./tickets/validator.js";
export { VERSION } from "./version.js";
