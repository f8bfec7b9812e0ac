/** The data model of actions, targets, policies and decisions. Plain, serialisable data. */
import type { PyObject, PyValue } from "./pyvalue.js";

export const RISK_CLASSES = ["low", "medium", "high", "critical"] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

export const SENSITIVITIES = ["public", "internal", "restricted", "critical"] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const DECISION_RESULTS = ["allow", "deny", "require_approval"] as const;
export type DecisionResult = (typeof DECISION_RESULTS)[number];

export const PARAM_TYPES = ["string", "integer", "number", "boolean", "array"] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export const PROFILES = ["strict", "reference"] as const;
/** `strict` (default) closes the 0.9.0 holes; `reference` reproduces 0.9.0's decisions exactly. */
export type Profile = (typeof PROFILES)[number];

export interface ParamConstraints {
  min_value: number | null;
  max_value: number | null;
  min_length: number | null;
  max_length: number | null;
  /** A Python regular expression, matched against the whole value (`re.fullmatch`). */
  pattern: string | null;
  enum: string[] | null;
}

export interface ParameterDef {
  name: string;
  type: ParamType;
  required: boolean;
  description: string;
  /** Filled in for execution when an optional parameter is absent; never satisfies a required one. */
  default: PyValue;
  /** A secret-bearing value: redacted in the audit log, digested in tickets. */
  sensitive: boolean;
  constraints: ParamConstraints | null;
}

export interface Precheck {
  name: string;
  description: string;
  /** `enforce: true` makes a failing precheck stop the run; the default is advisory. */
  enforce: boolean;
}

export interface CredentialScope {
  type: string;
  fields: PyObject;
  ttl: number;
}

export interface StateField {
  name: string;
  description: string;
  type: string;
  required: boolean;
}

export interface ActionDef {
  name: string;
  version: string;
  description: string;
  parameters: ParameterDef[];
  risk_class: RiskClass;
  target_types: string[];
  prechecks: Precheck[];
  reversible: boolean;
  rollback_action: string | null;
  required_privileges: string[];
  tags: string[];
  credentials: CredentialScope | null;
  state_fields: StateField[];
  rollback_params: Record<string, { source: string }>;
}

export interface Target {
  id: string;
  type: string;
  environment: Environment;
  sensitivity: Sensitivity;
  owner: string;
  labels: Record<string, string>;
}

export interface TargetSelector {
  environments: Environment[] | null;
  sensitivities: Sensitivity[] | null;
  types: string[] | null;
  labels: Record<string, string> | null;
}

export interface CallerSelector {
  agent_ids: string[] | null;
  roles: string[] | null;
  groups: string[] | null;
  delegated_from: string[] | null;
  max_delegation_depth: number | null;
  require_delegation: boolean | null;
}

export interface TimeWindow {
  /** 0 = Monday … 6 = Sunday; `null` means every day. */
  days: number[] | null;
  start_hour: number;
  /** Inclusive through hh:59:59. A window with start > end wraps midnight. */
  end_hour: number;
}

export interface RuleMatch {
  actions: string[];
  targets: TargetSelector | null;
  callers: CallerSelector | null;
  risk_classes: RiskClass[] | null;
  time_windows: TimeWindow[] | null;
  require_ticket: boolean | null;
}

/** Where a piece of configuration came from, for error messages and `explain`. */
export interface SourceRef {
  file: string;
  line: number;
  column: number;
}

export interface ApprovalRequirement {
  quorum: number;
  approver_roles: string[];
}

export interface PolicyRule {
  name: string;
  description: string;
  priority: number;
  match: RuleMatch;
  decision: DecisionResult;
  reason: string;
  /** Optional approval requirements for `require_approval` rules (approvals issue). */
  approval: ApprovalRequirement | null;
  source: SourceRef | null;
}

export interface DelegationLink {
  agent_id: string;
  agent_name: string;
  roles: string[];
  groups: string[];
  delegated_at: string | null;
}

/** A caller whose identity has already been established (verified token or trusted object). */
export interface CallerIdentity {
  agent_id: string;
  agent_name: string;
  roles: string[];
  groups: string[];
  delegation_chain: DelegationLink[];
  delegated_roles: string[];
  delegation_depth: number;
}

export type Params = PyObject;

/** What `decide()` is asked. The caller is already resolved; `null` is anonymous. */
export interface DecisionRequest {
  action: string;
  target: string | null;
  caller: CallerIdentity | null;
  params: Params | null;
  /** An external change-ticket id; `null` and `""` mean none. */
  ticketId: string | null;
}

/** Why a built-in check decided, when no rule did. Stable, machine-readable. */
export type DecisionCode =
  | "rule"
  | "default_deny"
  | "unknown_action"
  | "invalid_params"
  | "target_type"
  | "param_binding";

export interface CoreDecision {
  result: DecisionResult;
  reason: string;
  code: DecisionCode;
  action: string;
  /** The requested target id (strict); `"unknown"` when unresolved in the reference profile. */
  target: string;
  target_known: boolean;
  risk_class: RiskClass;
  effective_risk: RiskClass;
  policy_matched: string | null;
  /** The winning rule's index in `World.rules`, or -1. */
  rule_index: number;
}
