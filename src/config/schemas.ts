/**
 * The file formats as zod schemas: one source for load-time validation and for the JSON Schemas
 * in `schemas/`. Field names, defaults and types follow 0.9.0 (REFERENCE.md §1); our additions
 * are marked. `strict` rejects unknown keys; `lenient` drops them (the caller turns them into
 * warnings).
 */
import * as z from "zod";
import { DECISION_RESULTS, ENVIRONMENTS, PARAM_TYPES, RISK_CLASSES, SENSITIVITIES } from "../core/types.js";
import { enumOf, laxBool, laxFloat, laxInt, str, strList } from "./coerce.js";

export type UnknownKeys = "strict" | "lenient";

function objectFactory(mode: UnknownKeys) {
  return mode === "strict" ? z.strictObject : z.object;
}

const ACTION_NAME = /^[a-z][a-z0-9-]*$/;
const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+$/;

export function actionSchema(mode: UnknownKeys) {
  const obj = objectFactory(mode);
  const constraints = obj({
    min_value: laxFloat().nullable().default(null),
    max_value: laxFloat().nullable().default(null),
    min_length: laxInt().nullable().default(null),
    max_length: laxInt().nullable().default(null),
    pattern: str()
      .nullable()
      .default(null)
      .describe("A Python regular expression; the whole value must match."),
    enum: strList().nullable().default(null).describe("Allowed values, compared with Python str(value)."),
  });
  const parameter = obj({
    name: str(),
    type: enumOf(PARAM_TYPES),
    required: laxBool().default(true),
    description: str().default(""),
    default: z.any().default(null).describe("Filled in for execution when an optional parameter is absent."),
    sensitive: laxBool()
      .default(false)
      .describe("Agent-Safe: redact this value in the audit log; digest it in tickets."),
    constraints: constraints.nullable().default(null),
  });
  return obj({
    name: str().regex(ACTION_NAME, "must match ^[a-z][a-z0-9-]*$ (lowercase letters, digits and '-')"),
    version: str().regex(VERSION, "must look like 1.0.0 (quote it: an unquoted 1.0 is a number)"),
    description: str(),
    parameters: z.array(parameter).default([]),
    risk_class: enumOf(RISK_CLASSES),
    target_types: strList().min(1, "must list at least one target type"),
    prechecks: z
      .array(
        obj({
          name: str(),
          description: str(),
          enforce: laxBool().default(false).describe("Agent-Safe: a failing precheck stops the run."),
        }),
      )
      .default([]),
    reversible: laxBool().default(false),
    rollback_action: str().nullable().default(null),
    required_privileges: strList().default([]),
    tags: strList().default([]),
    credentials: obj({
      type: str(),
      fields: z.record(z.string(), z.any()).default({}),
      ttl: laxInt({ min: 1 }).default(300),
    })
      .nullable()
      .default(null),
    state_fields: z
      .array(
        obj({
          name: str(),
          description: str().default(""),
          type: str().default("any"),
          required: laxBool().default(false),
        }),
      )
      .default([]),
    rollback_params: z.record(z.string(), obj({ source: str() })).default({}),
  });
}

export function ruleSchema(mode: UnknownKeys) {
  const obj = objectFactory(mode);
  const targets = obj({
    environments: z.array(enumOf(ENVIRONMENTS)).nullable().default(null),
    sensitivities: z.array(enumOf(SENSITIVITIES)).nullable().default(null),
    types: strList().nullable().default(null),
    labels: z.record(z.string(), z.string()).nullable().default(null),
  });
  const callers = obj({
    agent_ids: strList().nullable().default(null),
    roles: strList().nullable().default(null),
    groups: strList().nullable().default(null),
    delegated_from: strList().nullable().default(null),
    max_delegation_depth: laxInt().nullable().default(null),
    require_delegation: laxBool().nullable().default(null),
  });
  const timeWindow = obj({
    days: z.array(laxInt()).nullable().default(null).describe("0 = Monday … 6 = Sunday"),
    start_hour: laxInt({ min: 0, max: 23 }).default(0),
    end_hour: laxInt({ min: 0, max: 23 }).default(23).describe("Inclusive through hh:59:59"),
  });
  const match = obj({
    actions: strList().default(["*"]).describe("Python fnmatch globs: * ? [seq] [!seq]"),
    targets: targets.nullable().default(null),
    callers: callers.nullable().default(null),
    risk_classes: z.array(enumOf(RISK_CLASSES)).nullable().default(null),
    time_windows: z.array(timeWindow).nullable().default(null),
    require_ticket: laxBool().nullable().default(null),
  });
  return obj({
    name: str(),
    description: str().default(""),
    priority: laxInt().default(0).describe("Higher first; equal priorities keep file order. Default 0."),
    match,
    decision: enumOf(DECISION_RESULTS),
    reason: str(),
    approval: obj({
      quorum: laxInt({ min: 1 }).default(1),
      approver_roles: strList().default([]),
    })
      .nullable()
      .default(null)
      .describe("Agent-Safe: who may approve a require_approval decision of this rule."),
  });
}

export function policyFileSchema(mode: UnknownKeys) {
  return objectFactory(mode)({ rules: z.array(ruleSchema(mode)) });
}

export function targetSchema(mode: UnknownKeys) {
  return objectFactory(mode)({
    id: str(),
    type: str(),
    environment: enumOf(ENVIRONMENTS),
    sensitivity: enumOf(SENSITIVITIES),
    owner: str().default(""),
    labels: z.record(z.string(), z.string()).default({}),
  });
}

export function inventorySchema(mode: UnknownKeys) {
  return objectFactory(mode)({ targets: z.array(targetSchema(mode)) });
}

/**
 * A policy test case (`agent-safe test`). 0.9.0's fields plus ours: an identity-object `caller`,
 * `timestamp`, `expect_policy`, `expect_reason`. `name`, `action` and `expect` are also checked
 * first with 0.9.0's own messages.
 */
export function policyTestCaseSchema(mode: UnknownKeys) {
  const obj = objectFactory(mode);
  const identity = z.looseObject({
    agent_id: str(),
    agent_name: str().optional(),
    roles: strList().optional(),
    groups: strList().optional(),
    delegation_chain: z.array(z.looseObject({ agent_id: str() })).optional(),
    delegated_roles: strList().optional(),
    delegation_depth: laxInt({ min: 0 }).optional(),
  });
  return obj({
    name: z.union([str(), z.number(), z.boolean()]).describe("Shown in the report; must be non-empty."),
    description: str().optional(),
    action: str(),
    target: str().nullable().default(null),
    caller: z
      .union([str(), identity])
      .nullable()
      .default(null)
      .describe("An agent id, or an identity object."),
    params: z.record(z.string(), z.any()).nullable().default(null),
    ticket_id: str().nullable().default(null),
    timestamp: z
      .any()
      .nullable()
      .default(null)
      .describe('ISO-8601, e.g. "2025-06-02T10:00:00Z"; default: now.'),
    expect: enumOf(DECISION_RESULTS),
    expect_policy: str()
      .nullable()
      .optional()
      .describe("The rule expected to decide; null for a built-in decision."),
    expect_reason: str().optional(),
  });
}

export function policyTestFileSchema(mode: UnknownKeys) {
  return objectFactory(mode)({ tests: z.array(policyTestCaseSchema(mode)) });
}
