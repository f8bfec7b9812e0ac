/** What the audit commands share: the project, the log path, and how audit errors exit. */
import { resolve } from "node:path";
import { AuditError } from "../../audit/errors.js";
import { auditLogPath } from "../../audit/settings.js";
import { findConfigFile, type ProjectConfig, resolveProject } from "../../config/project.js";
import type { ProjectFile } from "../../config/project-schema.js";
import { EXIT, print, printErr, printJson, printWarnings, UsageError } from "../common.js";

export interface AuditFlags {
  config?: string;
  json?: boolean;
  jsonOutput?: boolean;
  auditLog?: string;
  logFile?: string;
  log?: string;
}

/**
 * agent-safe.yaml without loading the world (actions, policies) the audit commands do not need.
 * Without a config file nothing needs validating, so yaml and zod are not even loaded.
 */
export async function auditProject(flags: AuditFlags): Promise<ProjectConfig> {
  const cwd = process.cwd();
  const file = findConfigFile(flags.config, cwd);
  if (file === null) {
    // The audit commands read only `audit` and `keys`; null means "the defaults" for both.
    const settings = {
      profile: "strict",
      actions: "./actions",
      policies: "./policies",
      inventory: null,
      audit: null,
      keys: null,
    } as unknown as ProjectFile;
    return resolveProject(null, { settings, explicitKeys: [], warnings: [] }, { config: flags.config }, cwd);
  }
  const { readProjectFile } = await import("../../config/project-file.js");
  const settings = readProjectFile(file);
  printWarnings(settings.warnings);
  return resolveProject(file, settings, { config: flags.config }, cwd);
}

/** The LOG argument, its 0.9.0 option spellings, or the project's `audit.path`. */
export function logPathOf(arg: string | undefined, flags: AuditFlags, project: ProjectConfig): string {
  const given = [arg, flags.log, flags.auditLog, flags.logFile].filter((v): v is string => v !== undefined);
  if (new Set(given.map((g) => resolve(g))).size > 1)
    throw new UsageError("the log is given twice, differently");
  return given.length > 0 ? resolve(given[0]!) : auditLogPath(project);
}

export function wantsJson(flags: AuditFlags): boolean {
  return flags.json === true || flags.jsonOutput === true;
}

/**
 * Prints an audit error and sets the exit code: a missing log or a failed check is 1, the rest
 * (locks, configuration) 2. Other errors are rethrown for main's handler.
 */
export function reportAuditError(err: unknown, flags: AuditFlags): void {
  if (!(err instanceof AuditError)) throw err;
  const code =
    err.code === "NOT_FOUND" || err.code === "TORN_TAIL" || err.code === "CORRUPT_TAIL"
      ? EXIT.FAILED
      : EXIT.USAGE;
  if (wantsJson(flags)) printJson({ ok: false, error: { code: err.code, message: err.message } });
  else if (err.code === "NOT_FOUND") print(err.message);
  else printErr(`error: ${err.message}`);
  process.exitCode = code;
}

/** A whole number ≥ `min`, or a usage error naming the flag. */
export function wholeNumber(text: string | undefined, flag: string, min = 0): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(Number(text)) || Number(text) < min) {
    throw new UsageError(
      `${flag} must be a whole number${min > 0 ? ` of at least ${min}` : ""}, got '${text}'`,
    );
  }
  return Number(text);
}
