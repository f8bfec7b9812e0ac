/**
 * The sidecar's wire formats, as zod schemas. Request schemas validate every body (strict: an
 * unknown key is a 400, so a typo never passes silently); response schemas document what comes
 * back. `/openapi.json` is generated from these same objects, so the document cannot drift from
 * what the server enforces. Field names are snake_case, as in decisions and the batch format.
 */
import * as z from "zod";
import {
  approvalActRequestSchema,
  approvalListSchema,
  approvalOutcomeSchema,
  approvalRequestSchema,
  approvalWaitRequestSchema,
  approvalWaitResultSchema,
  executeRequestSchema,
  executionResultSchema,
  executionTicketSchema,
} from "./schemas-ops.js";

const MAX_ID = 256;
/** The most steps one `/v1/check-plan` request may carry. */
export const MAX_PLAN_STEPS = 100;

const params = z
  .record(z.string(), z.unknown())
  .nullable()
  .optional()
  .describe("The action's parameters. Numbers keep Python's int/float distinction (5 vs 5.0).");

export const checkRequestSchema = z
  .strictObject({
    action: z.string().describe("The action to decide, e.g. restart-deployment."),
    target: z.string().nullable().optional().describe("The target id from the inventory."),
    params,
    ticket_id: z
      .string()
      .nullable()
      .optional()
      .describe("An external change-ticket id, for require_ticket rules."),
    correlation_id: z
      .string()
      .max(MAX_ID)
      .nullable()
      .optional()
      .describe("Recorded with the audit event, to link it to the caller's own records."),
  })
  .describe(
    "One request. The caller is the bearer of the Authorization header and the time is the " +
      "server's: a body naming a `caller` or a `timestamp` is refused with 400.",
  );

export const checkPlanRequestSchema = z.strictObject({
  steps: z
    .array(checkRequestSchema.omit({ correlation_id: true }))
    .min(1)
    .max(MAX_PLAN_STEPS)
    .describe("Decided in order, every one (no short-circuit), for the same caller."),
  correlation_id: z.string().max(MAX_ID).nullable().optional(),
});

export const ticketRequestSchema = z.strictObject({
  token: z.string().min(1).max(16_384).describe("The execution ticket (JWT) from an ALLOW decision."),
  expected_action: z.string().nullable().optional().describe("The action the ticket must be for."),
  expected_target: z.string().nullable().optional().describe("The target the ticket must be for."),
  expected_params: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .describe(
      "The params about to be executed, checked against the ticket's digest; null means {}; absent skips the check.",
    ),
});

export const delegationRequestSchema = z.strictObject({
  child_agent_id: z.string().min(1).max(MAX_ID),
  child_name: z.string().max(MAX_ID).optional(),
  roles: z.array(z.string()).max(256).optional().describe("Must be held by the parent (the bearer)."),
  groups: z.array(z.string()).max(256).optional().describe("Must be held by the parent (the bearer)."),
  ttl_seconds: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Capped at the parent's remaining lifetime (the default)."),
  max_depth: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Lowers the server's maximum depth; cannot raise it."),
});

export const killSwitchRequestSchema = z.strictObject({
  mode: z.enum(["on", "off"]),
  caller: z
    .string()
    .min(1)
    .max(MAX_ID)
    .nullable()
    .optional()
    .describe("Only this agent (and its delegates); default everyone."),
  reason: z.string().max(1024).nullable().optional().describe("Shown in every denied decision."),
  ttl_seconds: z
    .number()
    .int()
    .min(1)
    .nullable()
    .optional()
    .describe("Release automatically after this long."),
});

/** Fields a body may never carry, with why (checked before the schema, for a clear message). */
export const FORBIDDEN_FIELDS: Readonly<Record<string, string>> = {
  caller:
    "the caller is identified only by the Authorization header (Bearer <identity token>); a request body cannot name one",
  timestamp:
    "the sidecar decides at its own time; a request cannot choose one (what-if evaluation is in-process or `check --at` only)",
};

// ---- responses (documentation; the tests check real responses against them) ----

const riskClass = z.enum(["low", "medium", "high", "critical"]);
const result = z.enum(["allow", "deny", "require_approval"]);

export const decisionSchema = z.object({
  result,
  reason: z.string(),
  action: z.string(),
  target: z.string(),
  caller: z.string().describe("The verified caller's agent id, or anonymous."),
  risk_class: riskClass,
  effective_risk: riskClass,
  policy_matched: z.string().nullable(),
  audit_id: z.string().nullable(),
  ticket: executionTicketSchema.nullable(),
  request_id: z.string().nullable(),
  ticket_id: z.string().nullable(),
  cumulative_risk_score: z.number().nullable(),
  cumulative_risk_class: riskClass.nullable(),
  escalated_from: result.nullable(),
  target_known: z.boolean(),
  code: z.string().describe("Which check decided: rule, default_deny, unauthenticated, rate_limit, …"),
  policy_revision: z.string(),
  profile: z.enum(["strict", "reference"]),
  evaluated_at: z.string(),
});

export const checkPlanResponseSchema = z.object({ decisions: z.array(decisionSchema) });

export const ticketResultSchema = z.object({
  valid: z.boolean(),
  reason: z.string(),
  code: z.string(),
  ticket: z
    .object({
      action: z.string(),
      target: z.string(),
      caller: z.string(),
      params: z.record(z.string(), z.unknown()),
      params_digest: z.string(),
      params_checked: z.boolean(),
      params_complete: z.boolean(),
      redacted_params: z.array(z.string()),
      audit_id: z.string(),
      nonce: z.string(),
      issued_at: z.string(),
      expires_at: z.string(),
      kid: z.string().nullable(),
      algorithm: z.string(),
    })
    .nullable(),
  used: z.boolean().nullable(),
  redeemed: z.boolean(),
});

const delegationLink = z.object({
  agent_id: z.string(),
  agent_name: z.string(),
  roles: z.array(z.string()),
  groups: z.array(z.string()),
  delegated_at: z.string().nullable(),
});

export const delegationTokenSchema = z.object({
  token: z.string().describe("A bearer credential for the child. Never log it."),
  identity: z.object({
    agent_id: z.string(),
    agent_name: z.string(),
    roles: z.array(z.string()),
    groups: z.array(z.string()),
    delegation_chain: z.array(delegationLink),
    delegated_roles: z.array(z.string()),
    delegation_depth: z.number().int(),
  }),
  parent_agent_id: z.string(),
  child_agent_id: z.string(),
  delegation_depth: z.number().int(),
  delegated_roles: z.array(z.string()),
  delegation_chain: z.array(delegationLink),
  issued_at: z.string(),
  expires_at: z.string(),
  kid: z.string().nullable(),
  algorithm: z.string(),
});

export const errorSchema = z.object({
  error: z.string().describe("A stable code: invalid_json, invalid_request, unauthenticated, …"),
  message: z.string().describe("What went wrong, for a human. Never internals."),
  code: z.string().optional().describe("A finer reason code, where there is one (delegations)."),
});

export const healthSchema = z.object({ status: z.literal("ok") });

const check = z.object({ ok: z.boolean(), message: z.string().optional() });
export const readySchema = z.object({
  status: z.enum(["ready", "not_ready"]),
  checks: z.object({ state: check, audit: check, approvals: check }),
});

export const reloadSchema = z.object({
  reloaded: z.literal(true),
  policy_revision: z.string(),
  previous_revision: z.string(),
  warnings: z.array(z.string()),
});

const killSwitchEntry = z.object({
  caller: z.string().nullable(),
  reason: z.string().nullable(),
  engaged_at: z.string().nullable(),
  engaged_by: z.string().nullable(),
  expires_at: z.string().nullable(),
});

export const killSwitchStatusSchema = z.object({
  engaged: z.boolean().describe("Whether any switch is engaged"),
  global: killSwitchEntry.nullable(),
  callers: z.array(killSwitchEntry),
  state: z.string().describe("The state store the switch lives in (shared by every replica using it)"),
});

export const jwksSchema = z.object({
  keys: z.array(
    z.object({
      kty: z.string(),
      crv: z.string(),
      x: z.string(),
      kid: z.string(),
      alg: z.string(),
      use: z.string(),
      purpose: z.enum(["ticket-signing", "audit-checkpoint", "identity-issuer"]),
    }),
  ),
});

/** Every named schema, as it appears under `components.schemas` in the OpenAPI document. */
export const NAMED_SCHEMAS = {
  CheckRequest: checkRequestSchema,
  CheckPlanRequest: checkPlanRequestSchema,
  TicketRequest: ticketRequestSchema,
  DelegationRequest: delegationRequestSchema,
  KillSwitchRequest: killSwitchRequestSchema,
  Decision: decisionSchema,
  CheckPlanResponse: checkPlanResponseSchema,
  TicketResult: ticketResultSchema,
  DelegationToken: delegationTokenSchema,
  Error: errorSchema,
  Health: healthSchema,
  Ready: readySchema,
  Reload: reloadSchema,
  KillSwitchStatus: killSwitchStatusSchema,
  Jwks: jwksSchema,
  ApprovalActRequest: approvalActRequestSchema,
  ApprovalWaitRequest: approvalWaitRequestSchema,
  ExecuteRequest: executeRequestSchema,
  ApprovalRequest: approvalRequestSchema,
  ApprovalList: approvalListSchema,
  ApprovalOutcome: approvalOutcomeSchema,
  ApprovalWaitResult: approvalWaitResultSchema,
  ExecutionResult: executionResultSchema,
} as const;

export type SchemaName = keyof typeof NAMED_SCHEMAS;
export type CheckRequestBody = z.output<typeof checkRequestSchema>;
export type CheckPlanRequestBody = z.output<typeof checkPlanRequestSchema>;
export type TicketRequestBody = z.output<typeof ticketRequestSchema>;
export type DelegationRequestBody = z.output<typeof delegationRequestSchema>;
