/**
 * Opens a project: finds the config, resolves paths, and loads the world — from the cache when
 * every input file is unchanged, otherwise by parsing and validating (loading yaml and zod lazily,
 * so a cached start-up never pays for them).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { World, WorldInput } from "../core/world.js";
import { compileWorld } from "../core/world.js";
import { VERSION } from "../version.js";
import type { ConfigIssue } from "./errors.js";
import { findConfigFile, type ProjectConfig, type ProjectOverrides, resolveProject } from "./project.js";
import { type CachedProject, cacheKey, readCache, sha256Hex, writeCache, yamlNames } from "./world-cache.js";

export interface OpenOptions {
  overrides?: ProjectOverrides;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** `validate --strict`: unknown keys are errors in every file. */
  strictKeys?: boolean;
  /** Default true; `AGENT_SAFE_NO_CACHE=1` also disables it. */
  cache?: boolean;
}

export interface OpenProject {
  project: ProjectConfig;
  world: World;
  input: WorldInput;
  warnings: ConfigIssue[];
  fromCache: boolean;
}

export async function openProject(options: OpenOptions = {}): Promise<OpenProject> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const overrides = options.overrides ?? {};
  const strictKeys = options.strictKeys ?? false;
  const file = findConfigFile(overrides.config, cwd, env);
  const configText = file === null ? "" : readFileSync(file, "utf8");
  const useCache = (options.cache ?? true) && env.AGENT_SAFE_NO_CACHE !== "1";
  const dir = cacheDir(file, env);
  const key = cacheKey([
    VERSION,
    codeStamp(),
    file ?? "",
    sha256Hex(configText),
    cwd,
    JSON.stringify(overrides),
    String(strictKeys),
  ]);

  if (useCache) {
    const hit = readCache(dir, key);
    if (hit !== undefined) {
      const project = resolveProject(file, hit.settings, overrides, cwd);
      return {
        project,
        world: compileWorld(hit.input),
        input: hit.input,
        warnings: hit.warnings,
        fromCache: true,
      };
    }
  }

  const { readProjectFile } = await import("./project-file.js");
  const { loadWorldInput } = await import("./load-world.js");
  const settings = readProjectFile(file);
  const project = resolveProject(file, settings, overrides, cwd);
  const loaded = loadWorldInput(project.paths, { profile: project.profile, strictKeys });
  const warnings = [...settings.warnings, ...loaded.warnings];
  if (useCache && settings.settings.world_cache) {
    const defaultInventory = resolve(project.root, settings.settings.inventory ?? "inventory.yaml");
    const absent = project.paths.inventory === null && !existsSync(defaultInventory);
    const entry: CachedProject = {
      settings,
      input: loaded.input,
      warnings,
      files: [...loaded.files, ...(absent ? [{ path: defaultInventory, sha256: "absent" }] : [])],
      dirs: [project.paths.actions, project.paths.policies].map((path) => ({ path, names: yamlNames(path) })),
    };
    writeCache(dir, key, entry);
  }
  return { project, world: compileWorld(loaded.input), input: loaded.input, warnings, fromCache: false };
}

function cacheDir(configFile: string | null, env: NodeJS.ProcessEnv): string {
  if (env.AGENT_SAFE_CACHE_DIR) return resolve(env.AGENT_SAFE_CACHE_DIR);
  if (configFile !== null) return join(dirname(configFile), ".agent-safe", "cache");
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "agent-safe");
}

/** Invalidates cache entries when the loader code itself changes (development builds). */
function codeStamp(): string {
  try {
    return String(statSync(fileURLToPath(import.meta.url)).mtimeMs);
  } catch {
    return "";
  }
}
