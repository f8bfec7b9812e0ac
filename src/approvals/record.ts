/**
 * Building approval records from a REQUIRE_APPROVAL decision, and the views of them: the public
 * request (redacted), the reason texts, and the decision a waiting requester gets back.
 */
import { randomBytes } from "node:crypto";
import { CanonicalJsonError, canonicalize } from "../codec/jcs.js";
import { paramsForExecution } from "../core/decide.js";
import type {
  ActionDef,
  ApprovalRequirement,
  CallerIdentity,
  Params,
  PolicyRule,
  RiskClass,
} from "../core/types.js";
import type { World } from "../core/world.js";
import { pydanticIso } from "../jwt/claims.js";
import type { Decision } from "../pdp/decision.js";
import type { ExecutionTicket } from "../tickets/issuer.js";
import { paramsDigest } from "../tickets/params.js";
import { ApprovalError } from "./errors.js";
import type { ApprovalRecord, ApprovalRequest } from "./types.js";

/** What a request is made from: the decision and what the pipeline knows about it. */
export interface CreateRequestInput {
  decision: Pick<
    Decision,
    | "result"
    | "action"
    | "target"
    | "caller"
    | "risk_class"
    | "effective_risk"
    | "policy_matched"
    | "reason"
    | "audit_id"
    | "policy_revision"
  >;
  /** The request's params (defaults are filled in from the world, as for an ALLOW ticket). */
  params: Record<string, unknown> | null | undefined;
  /** The resolved caller (null: anonymous). Its delegation chain is bound to the request. */
  caller: CallerIdentity | null;
  /** The world the decision was made in: finds the rule and the action's sensitive params. */
  world?: World | null;
  /** The rule that decided (default: the world's rule named `decision.policy_matched`). */
  rule?: Pick<PolicyRule, "approval"> | null;
  /** The action definition (default: the world's). */
  actionDef?: Pick<ActionDef, "parameters"> | null;
  /** Overrides the configured request lifetime. */
  ttlSeconds?: number;
}

export const REDACTED = "[REDACTED]";
export const DEFAULT_REQUIREMENT: ApprovalRequirement = Object.freeze({ quorum: 1, approver_roles: [] });

/** `apr-` + 12 lower-case hex (REFERENCE.md §0.6). */
export function newRequestId(): string {
  return `apr-${randomBytes(6).toString("hex")}`;
}

export const REQUEST_ID_PATTERN = /^apr-[0-9a-f]{12}$/;

function plainParams(params: unknown): Record<string, unknown> {
  let text: string;
  try {
    text = canonicalize(params ?? {});
  } catch (err) {
    if (err instanceof CanonicalJsonError)
      throw new ApprovalError(`Invalid approval request: params: ${err.message}`, "invalid_request");
    throw err;
  }
  const value = JSON.parse(text) as unknown;
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new ApprovalError("Invalid approval request: params must be an object", "invalid_request");
  return value as Record<string, unknown>;
}

/** The rule that decided: the first rule, in priority order, with the decision's rule name. */
function ruleOf(world: World | null | undefined, name: string | null): Pick<PolicyRule, "approval"> | null {
  if (world === null || world === undefined || name === null) return null;
  return (
    world.rules.find((r) => r.rule.name === name && r.rule.decision === "require_approval")?.rule ?? null
  );
}

export function newRecord(input: CreateRequestInput, nowMs: number, ttlSeconds: number): ApprovalRecord {
  const d = input.decision;
  if (d.result !== "require_approval")
    throw new ApprovalError(
      `Invalid approval request: only REQUIRE_APPROVAL decisions need approval, not ${d.result.toUpperCase()}`,
      "invalid_request",
    );
  const callerId = input.caller?.agent_id ?? "anonymous";
  if (d.caller !== callerId)
    throw new ApprovalError(
      `Invalid approval request: the decision's caller '${d.caller}' is not the caller given ('${callerId}')`,
      "invalid_request",
    );
  if (typeof d.policy_revision !== "string" || d.policy_revision === "")
    throw new ApprovalError(
      "Invalid approval request: the decision has no policy revision",
      "invalid_request",
    );
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0)
    throw new ApprovalError(
      `Invalid approval request: ttl must be positive, got ${ttlSeconds}`,
      "invalid_request",
    );
  const world = input.world ?? null;
  const raw =
    world === null
      ? (input.params ?? {})
      : paramsForExecution(world, d.action, (input.params ?? null) as Params | null);
  const params = plainParams(raw);
  const actionDef = input.actionDef ?? world?.actions.get(d.action)?.def ?? null;
  const sensitive = (actionDef?.parameters ?? []).filter((p) => p.sensitive).map((p) => p.name);
  const rule = input.rule !== undefined ? input.rule : ruleOf(world, d.policy_matched);
  const requirement = rule?.approval ?? DEFAULT_REQUIREMENT;
  return {
    request_id: newRequestId(),
    audit_id: d.audit_id,
    action: d.action,
    target: d.target,
    caller: callerId,
    caller_chain: input.caller?.delegation_chain.map((l) => l.agent_id) ?? [],
    params,
    sensitive_params: [...new Set(sensitive)].sort(),
    params_digest: paramsDigest(params),
    policy_revision: d.policy_revision,
    policy_matched: d.policy_matched,
    risk_class: d.risk_class,
    effective_risk: d.effective_risk,
    reason: d.reason,
    quorum: Math.max(1, Math.floor(requirement.quorum)),
    approver_roles: [...requirement.approver_roles],
    status: "pending",
    created_at: nowMs,
    expires_at: nowMs + Math.round(ttlSeconds * 1000),
    resolved_at: null,
    resolved_by: null,
    resolution_reason: null,
    resolution_event_id: null,
    approvals: [],
    ticket: null,
  };
}

/** The params with every sensitive value replaced by `[REDACTED]`. */
export function redactedParams(
  r: Pick<ApprovalRecord, "params" | "sensitive_params">,
): Record<string, unknown> {
  const out = { ...r.params };
  for (const name of r.sensitive_params) if (Object.hasOwn(out, name)) out[name] = REDACTED;
  return out;
}

const iso = (ms: number | null) => (ms === null ? null : pydanticIso(ms));

export function toView(r: ApprovalRecord): ApprovalRequest {
  return {
    request_id: r.request_id,
    audit_id: r.audit_id,
    action: r.action,
    target: r.target,
    caller: r.caller,
    caller_chain: [...r.caller_chain],
    params: redactedParams(r),
    params_digest: r.params_digest,
    policy_revision: r.policy_revision,
    risk_class: r.risk_class,
    effective_risk: r.effective_risk,
    policy_matched: r.policy_matched,
    reason: r.reason,
    status: r.status,
    created_at: pydanticIso(r.created_at),
    expires_at: pydanticIso(r.expires_at),
    resolved_at: iso(r.resolved_at),
    resolved_by: r.resolved_by,
    resolution_reason: r.resolution_reason,
    quorum: r.quorum,
    approver_roles: [...r.approver_roles],
    approvals: r.approvals.map((v) => ({
      approver: v.approver,
      chain: [...v.chain],
      at: pydanticIso(v.at),
      reason: v.reason,
    })),
    ticket:
      r.ticket === null
        ? null
        : {
            nonce: r.ticket.nonce,
            audit_id: r.ticket.audit_id,
            issued_at: r.ticket.issued_at,
            expires_at: r.ticket.expires_at,
            params_digest: r.ticket.params_digest,
            delivered: r.ticket.delivered_at !== null,
            delivered_at: iso(r.ticket.delivered_at),
          },
  };
}

/** `Approval approved by <who>` / `Approval denied by <who>`, plus `: <reason>` when one was given. */
export function resolutionText(
  verb: "approved" | "denied",
  who: string,
  reason: string | null | undefined,
): string {
  return `Approval ${verb} by ${who}${reason ? `: ${reason}` : ""}`;
}

export function expiredText(requestId: string): string {
  return `Request ${requestId} expired`;
}

/** The approval's outcome as a decision, for the requester (REFERENCE.md §8.2, with our reasons). */
export interface ApprovalDecision {
  result: "allow" | "deny" | "require_approval";
  reason: string;
  action: string;
  target: string;
  caller: string;
  risk_class: RiskClass;
  effective_risk: RiskClass;
  policy_matched: string | null;
  /** The approval event that granted or refused it (the ticket's audit id), else the original decision's. */
  audit_id: string | null;
  /** The ticket, with its token, exactly once: to the requester's first collection. */
  ticket: ExecutionTicket | null;
  request_id: string;
  policy_revision: string;
}

/** The reason a request's current state gives: the resolution text, or the decision's reason while pending. */
export function statusText(r: ApprovalRecord): string {
  switch (r.status) {
    case "approved":
      return resolutionText("approved", r.resolved_by ?? "unknown", r.resolution_reason);
    case "denied":
      return resolutionText("denied", r.resolved_by ?? "system", r.resolution_reason);
    case "expired":
      return expiredText(r.request_id);
    case "pending":
      return r.reason;
  }
}

export function decisionOf(r: ApprovalRecord, reason?: string): ApprovalDecision {
  const result = r.status === "approved" ? "allow" : r.status === "pending" ? "require_approval" : "deny";
  return {
    result,
    reason: reason ?? statusText(r),
    action: r.action,
    target: r.target,
    caller: r.caller,
    risk_class: r.risk_class,
    effective_risk: r.effective_risk,
    policy_matched: r.policy_matched,
    audit_id: r.resolution_event_id ?? r.audit_id,
    ticket: null,
    request_id: r.request_id,
    policy_revision: r.policy_revision,
  };
}
