/**
 * Rule matching. Each rule compiles to an ordered list of conditions (actions, targets, callers,
 * risk_classes, time_windows, require_ticket); a rule matches when all hold. The same compiled
 * conditions serve the fast path (`decide`) and the slow path (`explain`), so the two cannot drift.
 *
 * Semantics (0.9.0): inside a list any element may match, and an empty list never matches;
 * a `targets` selector never matches an unknown target, a `callers` selector never matches an
 * anonymous caller (not even `callers: {}`).
 */
import { compileGlob, isGlobPattern } from "./fnmatch.js";
import type { EvalTime } from "./time.js";
import type {
  CallerIdentity,
  CallerSelector,
  PolicyRule,
  RiskClass,
  Target,
  TargetSelector,
  TimeWindow,
} from "./types.js";

/** What a rule is matched against. */
export interface MatchContext {
  readonly action: string;
  readonly target: Target | null;
  readonly caller: CallerIdentity | null;
  readonly effectiveRisk: RiskClass;
  readonly ticketId: string | null;
  readonly time: EvalTime;
}

export type ConditionName =
  | "actions"
  | "targets"
  | "callers"
  | "risk_classes"
  | "time_windows"
  | "require_ticket";

export interface Condition {
  readonly name: ConditionName;
  readonly test: (ctx: MatchContext) => boolean;
  /** Why the condition failed, for `explain`. Only called when `test` returned false. */
  readonly why: (ctx: MatchContext) => string;
}

export interface CompiledRule {
  readonly rule: PolicyRule;
  /** Position in the priority-sorted rule list. */
  readonly index: number;
  readonly matchesAction: (action: string) => boolean;
  /** Every condition, `actions` first. */
  readonly conditions: readonly Condition[];
  /** The conditions other than `actions`, for rules already selected by action. */
  readonly rest: readonly Condition[];
}

export function compileRule(rule: PolicyRule, index: number): CompiledRule {
  const m = rule.match;
  const matchesAction = compileActions(m.actions);
  const actions: Condition = {
    name: "actions",
    test: (ctx) => matchesAction(ctx.action),
    why: (ctx) => `action '${ctx.action}' is not in ${listText(m.actions)}`,
  };
  const rest: Condition[] = [];
  if (m.targets !== null) rest.push(targetCondition(m.targets));
  if (m.callers !== null) rest.push(callerCondition(m.callers));
  if (m.risk_classes !== null) {
    const allowed = new Set<RiskClass>(m.risk_classes);
    const text = listText(m.risk_classes);
    rest.push({
      name: "risk_classes",
      test: (ctx) => allowed.has(ctx.effectiveRisk),
      why: (ctx) => `effective risk '${ctx.effectiveRisk}' is not in ${text}`,
    });
  }
  if (m.time_windows !== null) rest.push(timeCondition(m.time_windows));
  if (m.require_ticket !== null) {
    const want = m.require_ticket;
    rest.push({
      name: "require_ticket",
      test: (ctx) => hasTicket(ctx.ticketId) === want,
      why: () => (want ? "no change ticket was given" : "a change ticket was given"),
    });
  }
  return { rule, index, matchesAction, conditions: [actions, ...rest], rest };
}

function hasTicket(ticketId: string | null): boolean {
  return ticketId !== null && ticketId !== "";
}

function compileActions(patterns: readonly string[]): (action: string) => boolean {
  const exact = new Set<string>();
  const globs: ((name: string) => boolean)[] = [];
  for (const p of patterns) {
    if (isGlobPattern(p)) globs.push(compileGlob(p));
    else exact.add(p);
  }
  if (globs.length === 0) return (a) => exact.has(a);
  return (a) => exact.has(a) || globs.some((g) => g(a));
}

/** The exact action names a rule lists, or `null` if any of its patterns is a glob. */
export function exactActionNames(rule: PolicyRule): string[] | null {
  return rule.match.actions.some(isGlobPattern) ? null : rule.match.actions;
}

/** A sub-check of a selector: a cheap boolean test, and its explanation for `explain`. */
interface Check<T> {
  readonly ok: (value: T) => boolean;
  readonly why: (value: T) => string;
}

/** Combines sub-checks into one condition: all must hold; `why` names the first that does not. */
function allOf<T>(
  name: ConditionName,
  pick: (ctx: MatchContext) => T,
  checks: readonly Check<T>[],
): Condition {
  return {
    name,
    test: (ctx) => {
      const value = pick(ctx);
      for (let i = 0; i < checks.length; i++) if (!checks[i]!.ok(value)) return false;
      return true;
    },
    why: (ctx) => {
      const value = pick(ctx);
      return checks.find((c) => !c.ok(value))?.why(value) ?? "";
    },
  };
}

function targetCondition(sel: TargetSelector): Condition {
  const checks: Check<Target | null>[] = [
    { ok: (t) => t !== null, why: () => "the target is not in the inventory" },
  ];
  const member = <K extends "environment" | "sensitivity" | "type">(
    key: K,
    list: readonly string[] | null,
  ) => {
    if (list === null) return;
    const set = new Set<string>(list);
    checks.push({
      ok: (t) => set.has(t![key]),
      why: (t) => `${key} '${t![key]}' is not in ${listText(list)}`,
    });
  };
  member("environment", sel.environments);
  member("sensitivity", sel.sensitivities);
  member("type", sel.types);
  for (const [key, value] of Object.entries(sel.labels ?? {})) {
    checks.push({
      ok: (t) => Object.hasOwn(t!.labels, key) && t!.labels[key] === value,
      why: (t) =>
        Object.hasOwn(t!.labels, key)
          ? `label '${key}' is '${t!.labels[key]}', not '${value}'`
          : `label '${key}' is missing`,
    });
  }
  return allOf("targets", (ctx) => ctx.target, checks);
}

function callerCondition(sel: CallerSelector): Condition {
  const checks: Check<CallerIdentity | null>[] = [
    { ok: (c) => c !== null, why: () => "the caller is anonymous" },
  ];
  const { agent_ids, roles, groups, delegated_from, max_delegation_depth, require_delegation } = sel;
  if (agent_ids !== null) {
    const ids = new Set(agent_ids);
    checks.push({
      ok: (c) => ids.has(c!.agent_id),
      why: (c) => `agent '${c!.agent_id}' is not in ${listText(agent_ids)}`,
    });
  }
  if (roles !== null) {
    checks.push({
      ok: (c) => roles.some((r) => c!.roles.includes(r)),
      why: () => `the caller has none of the roles ${listText(roles)}`,
    });
  }
  if (groups !== null) {
    checks.push({
      ok: (c) => groups.some((g) => c!.groups.includes(g)),
      why: () => `the caller is in none of the groups ${listText(groups)}`,
    });
  }
  if (delegated_from !== null) {
    const from = new Set(delegated_from);
    checks.push({
      ok: (c) => c!.delegation_chain.some((link) => from.has(link.agent_id)),
      why: () => `the caller was not delegated by any of ${listText(delegated_from)}`,
    });
  }
  if (max_delegation_depth !== null) {
    checks.push({
      ok: (c) => c!.delegation_depth <= max_delegation_depth,
      why: (c) => `delegation depth ${c!.delegation_depth} exceeds ${max_delegation_depth}`,
    });
  }
  if (require_delegation !== null) {
    checks.push({
      ok: require_delegation ? (c) => c!.delegation_depth > 0 : (c) => c!.delegation_depth === 0,
      why: () => (require_delegation ? "the caller is not delegated" : "the caller is delegated"),
    });
  }
  return allOf("callers", (ctx) => ctx.caller, checks);
}

function windowMatches(w: TimeWindow, time: EvalTime): boolean {
  if (w.days !== null && !w.days.includes(time.weekday)) return false;
  const h = time.hour;
  return w.start_hour <= w.end_hour
    ? h >= w.start_hour && h <= w.end_hour
    : h >= w.start_hour || h <= w.end_hour;
}

const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

function timeCondition(windows: readonly TimeWindow[]): Condition {
  return {
    name: "time_windows",
    test: (ctx) => windows.some((w) => windowMatches(w, ctx.time)),
    why: (ctx) =>
      windows.length === 0
        ? "the time_windows list is empty"
        : `${DAY_NAMES[ctx.time.weekday]} ${String(ctx.time.hour).padStart(2, "0")}h is outside every time window`,
  };
}

function listText(items: readonly unknown[]): string {
  return items.length === 0 ? "an empty list (never matches)" : `[${items.join(", ")}]`;
}
