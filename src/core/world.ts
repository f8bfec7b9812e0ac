/**
 * The world: an immutable, compiled view of the registry, the inventory and the policy rules.
 * Compiling happens once at load; `decide()` only reads it.
 */
import { type CompiledParams, compileParams } from "./params.js";
import { type CompiledRule, compileRule, exactActionNames } from "./rules.js";
import type { ActionDef, PolicyRule, Profile, Target } from "./types.js";

export interface CompiledAction {
  readonly def: ActionDef;
  readonly params: CompiledParams;
  readonly targetTypes: ReadonlySet<string>;
}

export interface WorldInput {
  readonly actions: readonly ActionDef[];
  readonly targets: readonly Target[];
  /** In load order (files sorted, then in-file order); sorted here by priority. */
  readonly rules: readonly PolicyRule[];
  readonly profile: Profile;
  /** Content hash of everything the world was built from (see `config/revision`). */
  readonly revision: string;
}

export interface World {
  readonly profile: Profile;
  readonly revision: string;
  readonly actions: ReadonlyMap<string, CompiledAction>;
  readonly targets: ReadonlyMap<string, Target>;
  /** Every rule, highest priority first; equal priorities keep load order. */
  readonly rules: readonly CompiledRule[];
  /** The rules that can match `action` (a registered action name), in priority order. */
  rulesFor(action: string): readonly CompiledRule[];
}

export function compileWorld(input: WorldInput): World {
  const actions = new Map<string, CompiledAction>();
  for (const def of input.actions) {
    actions.set(def.name, { def, params: compileParams(def), targetTypes: new Set(def.target_types) });
  }
  const targets = new Map<string, Target>();
  for (const t of input.targets) targets.set(t.id, t);

  // Array.prototype.sort is stable, which is what gives equal priorities their load order.
  const rules = input.rules
    .map((rule, loadIndex) => ({ rule, loadIndex }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.loadIndex - b.loadIndex)
    .map(({ rule }, index) => compileRule(rule, index));

  // Index rules that name exact actions; rules with globs are checked against a name once,
  // on first use, so a request never scans rules that cannot match its action.
  const byExactName = new Map<string, CompiledRule[]>();
  const globRules: CompiledRule[] = [];
  for (const r of rules) {
    const names = exactActionNames(r.rule);
    if (names === null) globRules.push(r);
    else for (const n of new Set(names)) getOrCreate(byExactName, n).push(r);
  }
  const perAction = new Map<string, readonly CompiledRule[]>();
  const rulesFor = (action: string): readonly CompiledRule[] => {
    let list = perAction.get(action);
    if (list === undefined) {
      const candidates = [
        ...(byExactName.get(action) ?? []),
        ...globRules.filter((r) => r.matchesAction(action)),
      ];
      list = candidates.sort((a, b) => a.index - b.index);
      if (actions.has(action)) perAction.set(action, list);
    }
    return list;
  };
  return { profile: input.profile, revision: input.revision, actions, targets, rules, rulesFor };
}

function getOrCreate<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  return list;
}
