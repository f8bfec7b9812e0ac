/** The pure decision core: no I/O, no clock. */
export { DEFAULT_DENY_REASON, decide, paramsForExecution } from "./decide.js";
export { type Explanation, explain, type RuleMiss } from "./explain.js";
export { compileGlob, fnmatch } from "./fnmatch.js";
export { PyDate, PyDateTime, PyFloat, type PyValue } from "./pyvalue.js";
export { effectiveRisk, RISK_MATRIX, riskRank } from "./risk.js";
export { type EvalTime, evalTimeFromEpoch, parseTimestamp, TimestampError } from "./time.js";
export * from "./types.js";
export { type CompiledAction, compileWorld, type World, type WorldInput } from "./world.js";
