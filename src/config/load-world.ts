/** Loads registry, policies and inventory from disk and compiles them into a `World`. */
import { createHash } from "node:crypto";
import { pyJsonDumps } from "../codec/python-json.js";
import type { PyValue } from "../core/pyvalue.js";
import type { ActionDef, PolicyRule, Profile, Target } from "../core/types.js";
import { compileWorld, type World, type WorldInput } from "../core/world.js";
import { loadActions } from "./actions.js";
import type { ConfigIssue } from "./errors.js";
import { loadInventory } from "./inventory.js";
import { loadPolicies } from "./policies.js";

export interface WorldPaths {
  actions: string;
  policies: string;
  /** `null`: no inventory, every target is unknown. */
  inventory: string | null;
}

export interface LoadedWorld {
  world: World;
  input: WorldInput;
  warnings: ConfigIssue[];
  /** Every file the world was built from, with its raw text's SHA-256. */
  files: { path: string; sha256: string }[];
}

export interface WorldLoadOptions {
  profile: Profile;
  strictKeys?: boolean;
}

export function loadWorldInput(paths: WorldPaths, options: WorldLoadOptions): Omit<LoadedWorld, "world"> {
  const opts = { profile: options.profile, strictKeys: options.strictKeys ?? false };
  const registry = loadActions(paths.actions, opts);
  const policies = loadPolicies(paths.policies, opts);
  const inventory = paths.inventory === null ? null : loadInventory(paths.inventory, opts);
  const targets = inventory?.targets ?? [];
  const input: WorldInput = {
    actions: registry.actions,
    rules: policies.rules,
    targets,
    profile: options.profile,
    revision: worldRevision(registry.actions, policies.rules, targets, options.profile),
  };
  const files = [...registry.files, ...policies.files, ...(inventory ? [inventory.file] : [])].map((f) => ({
    path: f.path,
    sha256: sha256(f.text),
  }));
  const warnings = [...registry.warnings, ...policies.warnings, ...(inventory?.warnings ?? [])];
  return { input, warnings, files };
}

export function loadWorld(paths: WorldPaths, options: WorldLoadOptions): LoadedWorld {
  const loaded = loadWorldInput(paths, options);
  return { ...loaded, world: compileWorld(loaded.input) };
}

/**
 * The policy revision: SHA-256 of the canonical content of everything that shapes a decision
 * (actions, rules in load order, targets, profile). Positions in files do not count; a changed
 * risk class, rule or label does.
 */
export function worldRevision(
  actions: readonly ActionDef[],
  rules: readonly PolicyRule[],
  targets: readonly Target[],
  profile: Profile,
): string {
  const content = {
    profile,
    actions: [...actions],
    rules: rules.map(({ source: _source, ...rule }) => rule),
    targets: [...targets],
  } as unknown as PyValue;
  return sha256(pyJsonDumps(content, { sortKeys: true }));
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
