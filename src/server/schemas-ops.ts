/**
 * The bodies and answers of the approval and execution routes (`/v1/approvals…`, `/v1/execute`),
 * validated and described in the OpenAPI document like the others (see schemas.ts).
 */
import * as z from "zod";
import { EXECUTOR_NAMES } from "../config/runner-schema.js";

export const executionTicketSchema = z.object({
  token: z.string().describe("The signed JWT: a bearer credential for one execution."),
  action: z.string(),
  target: z.string(),
  caller: z.string(),
  params: z.record(z.string(), z.unknown()),
  audit_id: z.string(),
  nonce: z.string(),
  issued_at: z.string(),
  expires_at: z.string(),
  params_digest: z.string(),
  redacted_params: z.array(z.string()),
});

const reason = z.string().max(1000).nullable().optional().describe("Why (recorded with the transition).");

export const approvalActRequestSchema = z.strictObject({ reason });

export const approvalWaitRequestSchema = z.strictObject({
  timeout: z
    .number()
    .min(0)
    .max(60)
    .optional()
    .describe("Seconds to wait for a resolution (default 30, at most 60; 0 looks once)."),
});

export const executeRequestSchema = z.strictObject({
  token: z.string().min(1).max(8192).describe("The execution ticket, issued to the caller."),
  executor: z
    .enum(EXECUTOR_NAMES)
    .optional()
    .describe("One of the deployment's `runner.executors` (default `runner.executor`)."),
  params: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Only when the ticket holds sensitive params as digests: their values, checked against it."),
});

const vote = z.object({
  approver: z.string(),
  chain: z.array(z.string()),
  at: z.string(),
  reason: z.string().nullable(),
});

export const approvalRequestSchema = z
  .object({
    request_id: z.string(),
    audit_id: z.string().nullable(),
    action: z.string(),
    target: z.string(),
    caller: z.string(),
    caller_chain: z.array(z.string()),
    params: z.record(z.string(), z.unknown()).describe("Sensitive params read [REDACTED]."),
    params_digest: z.string(),
    policy_revision: z.string(),
    status: z.enum(["pending", "approved", "denied", "expired"]),
    created_at: z.string(),
    expires_at: z.string(),
    quorum: z.number(),
    approver_roles: z.array(z.string()),
    approvals: z.array(vote),
  })
  .passthrough();

export const approvalListSchema = z.object({ requests: z.array(approvalRequestSchema) });

export const approvalOutcomeSchema = z.object({
  request: approvalRequestSchema,
  event_id: z
    .string()
    .describe("The audit event of this approval (for the granting one, the ticket's audit id)."),
  reason: z.string(),
  remaining: z.number().describe("Distinct approvals still needed (0 once resolved)."),
});

/** As the SDK's `waitForApproval` returns it. */
export const approvalWaitResultSchema = z.object({
  status: z.enum(["pending", "approved", "denied", "expired"]),
  timedOut: z.boolean(),
  request: approvalRequestSchema,
  decision: z
    .object({
      result: z.enum(["allow", "deny", "require_approval"]),
      reason: z.string(),
      ticket: executionTicketSchema.nullable(),
    })
    .passthrough()
    .describe("ALLOW with the ticket (token included) to the requester's first collection only."),
  ticket: z.enum(["delivered", "already_delivered", "not_requester", "expired", "none"]),
  ticketNote: z.string().nullable(),
});

/** As the SDK's `execute` returns it. */
export const executionResultSchema = z
  .object({
    status: z.enum(["success", "failure", "error", "timeout", "skipped"]),
    stage: z.enum(["ticket", "action", "credentials", "prechecks", "execute", "completed"]),
    action: z.string(),
    target: z.string(),
    caller: z.string(),
    auditId: z.string(),
    output: z.string(),
    error: z.string().nullable(),
    durationMs: z.number(),
    executorType: z.string(),
    beforeState: z.record(z.string(), z.unknown()),
    afterState: z.record(z.string(), z.unknown()),
    credentialId: z.string().nullable(),
    credentialRevoked: z.boolean().nullable(),
    executedAt: z.string(),
  })
  .passthrough();
