/** Agent-Safe: the policy decision point for AI agents acting on infrastructure. */

export { ConfigError, type ConfigIssue } from "./config/errors.js";
export type { ProjectConfig } from "./config/project.js";
export * from "./core/index.js";
export type { CallerInput } from "./pdp/caller.js";
export type { Decision } from "./pdp/decision.js";
export {
  AgentSafe,
  type AgentSafeOptions,
  type CheckOptions,
  type ExplainedDecision,
  type PlanStep,
} from "./sdk/agent-safe.js";
export { VERSION } from "./version.js";
