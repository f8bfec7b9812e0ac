/** What every command shares: the project options, exit codes, errors and output helpers. */
import pc from "picocolors";
import { type ConfigIssue, formatIssue } from "../config/errors.js";
import type { ProjectOverrides } from "../config/project.js";
import { PROFILES, type Profile } from "../core/types.js";
import type { OptionSpec } from "./spec.js";

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

/** --config/--actions/--policies/--inventory/--profile (and the 0.9.0 spellings), on every command. */
export const PROJECT_OPTIONS: readonly OptionSpec[] = [
  {
    flags: "--config <file>",
    description: "agent-safe.yaml to use (default: found from the working directory upwards)",
  },
  { flags: "--actions <dir>", description: "action definitions directory (default: ./actions)" },
  { flags: "--registry <dir>", description: "alias of --actions", hidden: true },
  { flags: "--policies <dir>", description: "policy files directory (default: ./policies)" },
  { flags: "--inventory <file>", description: "target inventory (default: ./inventory.yaml if it exists)" },
  {
    flags: "--profile <profile>",
    description: "decision semantics: strict (default) or reference (0.9.0)",
    choices: PROFILES,
  },
  { flags: "--no-cache", description: "do not use or write the compiled-world cache" },
  { flags: "--debug", description: "show stack traces on errors" },
];

export const JSON_OPTIONS: readonly OptionSpec[] = [
  { flags: "--json", description: "print machine-readable JSON" },
  { flags: "--json-output", description: "alias of --json", hidden: true },
];

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

/**
 * Colours only for a terminal (or FORCE_COLOR), never when NO_COLOR is set: a CI log or a pipe
 * gets plain text. (picocolors' own detection turns colour on whenever CI is set.)
 */
export const colors = pc.createColors(
  process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0"
    ? true
    : process.env.NO_COLOR === undefined && process.stdout.isTTY === true && process.env.TERM !== "dumb",
);

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
