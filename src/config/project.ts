/**
 * Finds and reads `agent-safe.yaml` and resolves where everything lives. Precedence: command-line
 * flags, then the config file, then the 0.9.0 defaults (`./actions`, `./policies`,
 * `./inventory.yaml`, `./audit.jsonl`). Paths in the file are relative to the file's directory.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Profile } from "../core/types.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import type { WorldPaths } from "./load-world.js";
import type { ProjectFile } from "./project-schema.js";

export const CONFIG_FILE_NAME = "agent-safe.yaml";

export interface ProjectOverrides {
  config?: string | undefined;
  actions?: string | undefined;
  policies?: string | undefined;
  inventory?: string | undefined;
  profile?: Profile | undefined;
}

export interface ProjectConfig {
  /** The config file, or `null` when running on defaults. */
  file: string | null;
  /** The config file's directory, or the working directory. */
  root: string;
  /** Runtime state that must survive a restart (`.agent-safe/` beside the config). */
  stateDir: string;
  profile: Profile;
  paths: WorldPaths;
  settings: ProjectFile;
  warnings: ConfigIssue[];
}

/** Locates the config file: an explicit path, `AGENT_SAFE_CONFIG`, or the nearest ancestor's. */
export function findConfigFile(
  explicit: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const named = explicit ?? env.AGENT_SAFE_CONFIG;
  if (named !== undefined && named !== "") {
    const path = resolve(cwd, named);
    if (!existsSync(path)) throw new ConfigError(`Config file not found: ${named}`);
    return path;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** The settings read from a config file (or the defaults), as `readProjectFile` returns them. */
export interface ProjectSettings {
  settings: ProjectFile;
  /** Top-level keys the file spelled out (a default path may be absent; a written one must exist). */
  explicitKeys: string[];
  warnings: ConfigIssue[];
}

/** Resolves paths and precedence. Pure apart from checking which files exist. */
export function resolveProject(
  file: string | null,
  { settings, explicitKeys, warnings }: ProjectSettings,
  overrides: ProjectOverrides,
  cwd: string,
): ProjectConfig {
  const root = file === null ? resolve(cwd) : dirname(file);
  const fromFile = (p: string) => resolve(root, p);
  const fromCli = (p: string) => resolve(cwd, p);

  let inventory: string | null;
  if (overrides.inventory !== undefined) {
    inventory = fromCli(overrides.inventory);
    if (!existsSync(inventory)) throw new ConfigError(`Inventory file not found: ${overrides.inventory}`);
  } else if (settings.inventory === null) {
    inventory = null;
  } else {
    inventory = fromFile(settings.inventory);
    // The default path is optional (as in 0.9.0); a path someone wrote down must exist.
    if (!existsSync(inventory)) {
      if (explicitKeys.includes("inventory"))
        throw new ConfigError(`Inventory file not found: ${inventory} (set in ${file})`);
      inventory = null;
    }
  }
  return {
    file,
    root,
    stateDir: join(root, ".agent-safe"),
    profile: overrides.profile ?? settings.profile,
    paths: {
      actions: overrides.actions !== undefined ? fromCli(overrides.actions) : fromFile(settings.actions),
      policies: overrides.policies !== undefined ? fromCli(overrides.policies) : fromFile(settings.policies),
      inventory,
    },
    settings,
    warnings,
  };
}
