/** `agent-safe validate`: load every configuration file and report each problem with its location. */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, type ConfigIssue, formatIssue } from "../../config/errors.js";
import { findConfigFile, resolveProject } from "../../config/project.js";
import {
  type CommonOptions,
  EXIT,
  JSON_OPTIONS,
  PROJECT_OPTIONS,
  print,
  printJson,
  projectOverrides,
  wantsJson,
} from "../common.js";
import type { CommandSpec } from "../spec.js";

interface PartResult {
  part: "config" | "registry" | "policies" | "inventory";
  path: string;
  ok: boolean;
  count: number | null;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export const validateCommand: CommandSpec = {
  name: "validate",
  summary: "check the config, actions, policies and inventory for errors",
  description:
    "Load agent-safe.yaml, the action registry, the policies and the inventory, and report every " +
    "problem with file:line:column and field. Run it in CI before merging a policy change.",
  arguments: [],
  options: [
    {
      flags: "--strict",
      description:
        "treat unknown keys in every file as errors (in policy files they are errors anyway under the strict profile)",
    },
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  async run(_args, options) {
    await runValidate(options as CommonOptions & { strict?: boolean });
  },
};

async function runValidate(opts: CommonOptions & { strict?: boolean }): Promise<void> {
  const { readProjectFile } = await import("../../config/project-file.js");
  const { loadActions } = await import("../../config/actions.js");
  const { loadPolicies } = await import("../../config/policies.js");
  const { loadInventory } = await import("../../config/inventory.js");
  const overrides = projectOverrides(opts);
  const cwd = process.cwd();
  const parts: PartResult[] = [];
  const file = findConfigFile(overrides.config, cwd);
  const configPart = attempt("config", file ?? "", () => ({ value: readProjectFile(file), count: null }));
  if (file !== null) parts.push(configPart.result);
  if (configPart.value !== undefined) {
    const project = resolveProject(file, configPart.value, overrides, cwd);
    const options = { profile: project.profile, strictKeys: opts.strict === true };
    const { actions, policies, inventory } = project.paths;
    // A default directory that does not exist is skipped (as 0.9.0 did); one that was named on the
    // command line or in agent-safe.yaml must exist, or a typo would let a CI gate pass.
    const named = (flag: string | undefined, key: string) =>
      flag !== undefined || configPart.value!.explicitKeys.includes(key);
    if (isDir(actions) || named(overrides.actions, "actions"))
      parts.push(
        attempt("registry", actions, () => countOf(loadActions(actions, options), "actions")).result,
      );
    if (isDir(policies) || named(overrides.policies, "policies"))
      parts.push(
        attempt("policies", policies, () => countOf(loadPolicies(policies, options), "rules")).result,
      );
    if (inventory !== null && existsSync(inventory)) {
      parts.push(
        attempt("inventory", inventory, () => countOf(loadInventory(inventory, options), "targets")).result,
      );
    }
  }
  const failed = parts.filter((p) => !p.ok).length;
  const errorCount = parts.reduce((n, p) => n + p.errors.length, 0);
  if (wantsJson(opts)) {
    printJson({ valid: failed === 0 && parts.length > 0, parts });
  } else if (parts.length === 0) {
    print("No config files found to validate.");
  } else {
    for (const p of parts) {
      if (p.ok) print(`OK  ${p.part}: ${p.count === null ? p.path : `${p.count} ${noun(p.part)} loaded`}`);
      else for (const e of p.errors) print(`FAIL  ${p.part}: ${formatIssue(e)}`);
      for (const w of p.warnings) print(`  ${formatIssue(w)}`);
    }
    print(failed === 0 ? `\nAll ${parts.length} config(s) valid.` : `\n${errorCount} error(s) found.`);
  }
  process.exitCode = failed === 0 ? EXIT.OK : EXIT.FAILED;
}
function attempt<T>(
  part: PartResult["part"],
  path: string,
  load: () => { value: T; count: number | null; warnings?: ConfigIssue[] },
): { result: PartResult; value: T | undefined } {
  try {
    const { value, count, warnings } = load();
    return {
      result: { part, path: resolve(path), ok: true, count, errors: [], warnings: warnings ?? [] },
      value,
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const errors = err.issues.filter((i) => i.severity === "error");
    return {
      result: { part, path: resolve(path), ok: false, count: null, errors, warnings: [] },
      value: undefined,
    };
  }
}

function countOf<K extends string>(loaded: { [key in K]: unknown[] } & { warnings: ConfigIssue[] }, key: K) {
  const warnings = loaded.warnings.filter((w) => w.severity === "warning");
  return { value: loaded, count: loaded[key].length, warnings };
}

function noun(part: PartResult["part"]): string {
  return part === "registry" ? "action(s)" : part === "policies" ? "rule(s)" : "target(s)";
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
