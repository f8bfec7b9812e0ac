/** Worlds for in-process tests: from files on disk, or built from plain objects. */
import { join } from "node:path";
import { loadWorld } from "../../src/config/load-world.js";
import type {
  ActionDef,
  ParameterDef,
  PolicyRule,
  Profile,
  RuleMatch,
  Target,
} from "../../src/core/types.js";
import { compileWorld, type World } from "../../src/core/world.js";
import { COMPAT, ROOT } from "./cli.js";

export function shippedWorld(profile: Profile = "strict"): World {
  return loadWorld(
    {
      actions: join(ROOT, "actions"),
      policies: join(ROOT, "policies"),
      inventory: join(ROOT, "inventory.yaml"),
    },
    { profile },
  ).world;
}

export function referenceWorld(profile: Profile = "reference"): World {
  const dir = join(COMPAT, "reference");
  return loadWorld(
    {
      actions: join(dir, "actions"),
      policies: join(dir, "policies"),
      inventory: join(dir, "inventory.yaml"),
    },
    { profile },
  ).world;
}

export function fixtureWorld(profile: Profile = "reference"): World {
  const dir = join(COMPAT, "fixture");
  return loadWorld(
    {
      actions: join(dir, "actions"),
      policies: join(dir, "policies"),
      inventory: join(dir, "inventory.yaml"),
    },
    { profile },
  ).world;
}

export function param(p: Partial<ParameterDef> & Pick<ParameterDef, "name" | "type">): ParameterDef {
  return { required: true, description: "", default: null, sensitive: false, constraints: null, ...p };
}

export function action(a: Partial<ActionDef> & Pick<ActionDef, "name">): ActionDef {
  return {
    version: "1.0.0",
    description: "",
    parameters: [],
    risk_class: "medium",
    target_types: ["svc"],
    prechecks: [],
    reversible: false,
    rollback_action: null,
    required_privileges: [],
    tags: [],
    credentials: null,
    state_fields: [],
    rollback_params: {},
    ...a,
  };
}

export function rule(
  r: Partial<Omit<PolicyRule, "match">> & { name: string; match?: Partial<RuleMatch> },
): PolicyRule {
  return {
    description: "",
    priority: 0,
    decision: "allow",
    reason: r.name,
    approval: null,
    source: null,
    ...r,
    match: {
      actions: ["*"],
      targets: null,
      callers: null,
      risk_classes: null,
      time_windows: null,
      require_ticket: null,
      ...r.match,
    },
  };
}

export function target(t: Partial<Target> & Pick<Target, "id">): Target {
  return { type: "svc", environment: "dev", sensitivity: "internal", owner: "", labels: {}, ...t };
}

export function world(parts: {
  actions?: ActionDef[];
  rules?: PolicyRule[];
  targets?: Target[];
  profile?: Profile;
}): World {
  return compileWorld({
    actions: parts.actions ?? [],
    rules: parts.rules ?? [],
    targets: parts.targets ?? [],
    profile: parts.profile ?? "strict",
    revision: "test",
  });
}
