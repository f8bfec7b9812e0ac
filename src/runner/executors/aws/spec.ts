/**
 * How one AWS action is described: its params parser, the API call it makes, the state it
 * captures (under the names of the action's `state_fields`) and its prechecks. `defineAction`
 * binds the parsed params once, so the executor works with one erased `PreparedAction` type.
 */
import type { ActionDef, Target } from "../../../core/types.js";
import type { ParamReader } from "./params.js";
import type { AwsService, AwsSession } from "./session.js";

export interface PrecheckEnv {
  action: ActionDef;
  target: Target | null;
  targetId: string;
}

export interface PrecheckOutcome {
  passed: boolean;
  message: string;
}

export interface ExecuteOutcome {
  /** Rendered as JSON (or as-is if a string), scrubbed and truncated by the executor. */
  output: unknown;
  /** Set when AWS answered but the action failed (a Lambda `FunctionError`). */
  failure?: string;
  outputIsSecret?: boolean;
  details?: Record<string, unknown>;
}

export interface ExecuteEnv {
  action: ActionDef;
  /** The executor's `returnInvokePayload` option. */
  returnInvokePayload: boolean;
}

export interface PrecheckSpec<P> {
  /** The AWS calls it makes, for dry-run (`ec2:DescribeInstances`); empty for local checks. */
  calls: string[];
  run(s: AwsSession, p: P, env: PrecheckEnv): Promise<PrecheckOutcome>;
}

export interface ActionSpec<P> {
  service: AwsService;
  /** The mutating call, e.g. `ec2:StopInstances`. */
  operation: string;
  /** The read that captures state, e.g. `ec2:DescribeInstances`. */
  stateOperation: string;
  /** The keys `state()` can return; a superset of the action's declared `state_fields`. */
  stateFields: readonly string[];
  parse(r: ParamReader): P;
  /** The request as dry-run shows it: sensitive values replaced by a placeholder. */
  request(p: P): Record<string, unknown>;
  /** The state read's request, for dry-run. */
  stateRequest(p: P): Record<string, unknown>;
  /** Values that must never appear in output or errors (beyond the sensitive params). */
  secrets?(p: P): string[];
  execute(s: AwsSession, p: P, env: ExecuteEnv): Promise<ExecuteOutcome>;
  state(s: AwsSession, p: P): Promise<Record<string, unknown>>;
  prechecks: Record<string, PrecheckSpec<P>>;
}

export interface PreparedAction {
  service: AwsService;
  operation: string;
  stateOperation: string;
  request: Record<string, unknown>;
  stateRequest: Record<string, unknown>;
  secrets: string[];
  execute(s: AwsSession, env: ExecuteEnv): Promise<ExecuteOutcome>;
  state(s: AwsSession): Promise<Record<string, unknown>>;
  precheck(
    name: string,
  ): { calls: string[]; run(s: AwsSession, env: PrecheckEnv): Promise<PrecheckOutcome> } | null;
}

export interface AwsAction {
  service: AwsService;
  operation: string;
  stateOperation: string;
  stateFields: readonly string[];
  prechecks: readonly string[];
  prepare(r: ParamReader): PreparedAction;
}

export function defineAction<P>(spec: ActionSpec<P>): AwsAction {
  return {
    service: spec.service,
    operation: spec.operation,
    stateOperation: spec.stateOperation,
    stateFields: spec.stateFields,
    prechecks: Object.keys(spec.prechecks),
    prepare(r) {
      const p = spec.parse(r);
      return {
        service: spec.service,
        operation: spec.operation,
        stateOperation: spec.stateOperation,
        request: spec.request(p),
        stateRequest: spec.stateRequest(p),
        secrets: spec.secrets?.(p) ?? [],
        execute: (s, env) => spec.execute(s, p, env),
        state: (s) => spec.state(s, p),
        precheck(name) {
          const pc = Object.hasOwn(spec.prechecks, name) ? spec.prechecks[name] : undefined;
          if (pc === undefined) return null;
          return { calls: pc.calls, run: (s, env) => pc.run(s, p, env) };
        },
      };
    },
  };
}

/** `n items` / `1 item`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
