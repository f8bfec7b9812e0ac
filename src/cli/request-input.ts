/** Turns check-style flags (--target, --caller, --params, --at) into a request, and prints decisions. */
import { JsonParseError, parseJsonPy } from "../codec/json-parse.js";
import { isPlainObject, type PyObject } from "../core/pyvalue.js";
import { type EvalTime, evalTimeFromEpoch, parseTimestamp, TimestampError } from "../core/time.js";
import type { CallerInput } from "../pdp/caller.js";
import type { Decision } from "../pdp/decision.js";
import type { CheckRequest } from "../pdp/request.js";
import { colors, EXIT, print, UsageError } from "./common.js";
import type { OptionSpec } from "./spec.js";

/** The request flags `check` and `explain` share. */
export const REQUEST_OPTIONS: readonly OptionSpec[] = [
  { flags: "-t, --target <id>", description: "target id from the inventory, e.g. prod/api-server" },
  {
    flags: "-c, --caller <id|json>",
    description: "the caller: an agent id, or a JSON identity object {agent_id, roles, groups, ...}",
  },
  { flags: "-p, --params <json>", description: "action parameters as a JSON object" },
  { flags: "--ticket-id <id>", description: "external change-ticket id (for require_ticket rules)" },
  { flags: "--at <time>", description: "evaluate as of this ISO-8601 time instead of now (what-if)" },
];

export interface RequestFlags {
  target?: string;
  caller?: string;
  params?: string;
  ticketId?: string;
  at?: string;
}

export function requestFromFlags(action: string, flags: RequestFlags): CheckRequest {
  return {
    action,
    target: flags.target ?? null,
    caller: parseCallerFlag(flags.caller),
    params: parseParamsFlag(flags.params),
    ticketId: flags.ticketId ?? null,
  };
}

/** `--params` is JSON read like Python reads it (`5.0` stays a float). */
export function parseParamsFlag(text: string | undefined): PyObject | null {
  if (text === undefined) return null;
  let value: unknown;
  try {
    value = parseJsonPy(text);
  } catch (err) {
    if (err instanceof JsonParseError) throw new UsageError(`invalid JSON in --params: ${err.message}`);
    throw err;
  }
  if (!isPlainObject(value)) throw new UsageError("--params must be a JSON object, e.g. '{\"replicas\": 3}'");
  return value;
}

/** `--caller` is an agent id, or a JSON identity object when it starts with `{`. */
export function parseCallerFlag(text: string | undefined): CallerInput {
  if (text === undefined) return null;
  if (!text.trimStart().startsWith("{")) return text;
  try {
    return parseJsonPy(text) as CallerInput;
  } catch (err) {
    if (err instanceof JsonParseError) throw new UsageError(`invalid JSON in --caller: ${err.message}`);
    throw err;
  }
}

/** `--at` evaluates as of another time (what-if); the default is now. */
export function evalTimeFromFlag(at: string | undefined, nowMs: number): EvalTime {
  if (at === undefined) return evalTimeFromEpoch(nowMs);
  try {
    return parseTimestamp(at);
  } catch (err) {
    if (err instanceof TimestampError) throw new UsageError(`--at: ${err.message}`);
    throw err;
  }
}

export function exitCodeFor(decision: Decision): number {
  if (decision.result === "allow") return EXIT.OK;
  if (decision.result === "require_approval") return EXIT.APPROVAL;
  return EXIT.DENY;
}

const RESULT_COLOR = { allow: colors.green, deny: colors.red, require_approval: colors.yellow } as const;

/** The 0.9.0 text layout: `<RESULT> — <reason>` then indented details. */
export function printDecision(d: Decision): void {
  print(`${colors.bold(RESULT_COLOR[d.result](d.result.toUpperCase()))} — ${d.reason}`);
  print(`  action: ${d.action}`);
  print(`  target: ${d.target}${d.target_known || d.target === "unknown" ? "" : " (not in the inventory)"}`);
  print(`  caller: ${d.caller}`);
  print(`  risk:   ${d.effective_risk} (action ${d.risk_class})`);
  if (d.audit_id !== null) print(`  audit:  ${d.audit_id}`);
  if (d.ticket_id !== null) print(`  ticket_id: ${d.ticket_id}`);
  print(`  policy: ${d.policy_matched ?? `(none: ${d.code.replaceAll("_", " ")})`}`);
  if (d.ticket !== null) {
    print(`  ticket: ${d.ticket.token.slice(0, 40)}...`);
    print(`  nonce:  ${d.ticket.nonce}`);
    print(`  expires: ${d.ticket.expires_at}`);
  }
  if (d.cumulative_risk_score !== null)
    print(`  cumulative: ${d.cumulative_risk_score} (${d.cumulative_risk_class})`);
  if (d.escalated_from !== null) print(`  escalated:  ${d.escalated_from} → ${d.result}`);
  if (d.request_id !== null) {
    print(`  request: ${d.request_id}`);
    // 0.9.0's line, with what our approvals need: an approver's identity, and the requester's to collect.
    print(`\n  Resolve: agent-safe approval approve ${d.request_id} --token-file APPROVER.token`);
    print(`  Collect: agent-safe approval wait ${d.request_id} --token-file AGENT.token`);
  }
}
