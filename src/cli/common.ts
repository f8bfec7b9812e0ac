/** What every command shares: the project options, exit codes, errors and output helpers. */
import { type Command, Option } from "commander";
import { type ConfigIssue, formatIssue } from "../config/errors.js";
import type { ProjectOverrides } from "../config/project.js";
import { PROFILES, type Profile } from "../core/types.js";

export const EXIT = { OK: 0, DENY: 1, FAILED: 1, USAGE: 2, APPROVAL: 3 } as const;

/** A mistake in how the command was invoked; exits 2 with a one-line message. */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface CommonOptions {
  config?: string;
  actions?: string;
  registry?: string;
  policies?: string;
  inventory?: string;
  profile?: string;
  json?: boolean;
  jsonOutput?: boolean;
  cache?: boolean;
  debug?: boolean;
}

/** Adds --config/--actions/--policies/--inventory/--profile (and the 0.9.0 spellings). */
export function withProjectOptions(cmd: Command): Command {
  return cmd
    .option("--config <file>", "agent-safe.yaml to use (default: found from the working directory upwards)")
    .option("--actions <dir>", "action definitions directory (default: ./actions)")
    .addOption(new Option("--registry <dir>", "alias of --actions").hideHelp())
    .option("--policies <dir>", "policy files directory (default: ./policies)")
    .option("--inventory <file>", "target inventory (default: ./inventory.yaml if it exists)")
    .addOption(new Option("--profile <profile>", "decision semantics").choices(PROFILES))
    .option("--no-cache", "do not use or write the compiled-world cache")
    .option("--debug", "show stack traces on errors");
}

export function withJsonOption(cmd: Command): Command {
  return cmd
    .option("--json", "print machine-readable JSON")
    .addOption(new Option("--json-output", "alias of --json").hideHelp());
}

export function wantsJson(opts: CommonOptions): boolean {
  return opts.json === true || opts.jsonOutput === true;
}

export function projectOverrides(opts: CommonOptions): ProjectOverrides {
  return {
    config: opts.config,
    actions: opts.actions ?? opts.registry,
    policies: opts.policies,
    inventory: opts.inventory,
    profile: opts.profile as Profile | undefined,
  };
}

export function print(text = ""): void {
  process.stdout.write(`${text}\n`);
}

export function printErr(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** JSON for humans and scripts: two-space indent, bigints as numbers when exact, else strings. */
export function printJson(value: unknown): void {
  print(JSON.stringify(value, jsonReplacer, 2));
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/** Configuration warnings go to stderr, one line each, so stdout stays machine-readable. */
export function printWarnings(issues: readonly ConfigIssue[]): void {
  for (const issue of issues) if (issue.severity === "warning") printErr(formatIssue(issue));
}
