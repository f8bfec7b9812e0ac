/** Guards around the decision: kill switch, rate limit, circuit breaker, cumulative risk. */

export {
  CUMULATIVE_RISK_DEFAULTS,
  type CumulativeRiskConfig,
  cumulativeRiskConfig,
  GuardConfigError,
  RATE_LIMIT_DEFAULTS,
  type RateLimitConfig,
  rateLimitConfig,
} from "./config.js";
export { CumulativeRisk, type CumulativeScore, type Escalation } from "./cumulative-risk.js";
export {
  type AfterDecision,
  CAPACITY_REASON,
  type CumulativeAuditContext,
  type GuardCallerContext,
  type GuardCode,
  type GuardDeny,
  type GuardedDecision,
  Guards,
  type GuardsConfig,
  stateFailure,
} from "./guards.js";
export { type EngageOptions, KillSwitch, type KillSwitchEntry } from "./kill-switch.js";
export {
  type GuardSettings,
  openGuards,
  openProjectState,
  type StateSettings,
  stateBackendOptions,
} from "./open.js";
export { RateLimiter } from "./rate-limit.js";
