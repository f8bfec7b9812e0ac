/**
 * Guards from the project's settings: `state` (with `${ENV}` references expanded, e.g. a Redis
 * password), `state_options`, `rate_limit` and `cumulative_risk`. Relative `sqlite:` paths are
 * relative to the project root (the config file's directory).
 */
import { expandEnv } from "../config/env.js";
import type { ProjectFile } from "../config/project-schema.js";
import { openStateBackend } from "../state/factory.js";
import type { StateBackend, StateBackendOptions } from "../state/interfaces.js";
import { Guards } from "./guards.js";

export type StateSettings = Pick<ProjectFile, "state" | "state_options">;
export type GuardSettings = StateSettings & Pick<ProjectFile, "rate_limit" | "cumulative_risk">;

export function stateBackendOptions(settings: StateSettings, root: string): StateBackendOptions {
  const o = settings.state_options;
  return {
    baseDir: root,
    ...(o?.max_callers != null ? { maxCallers: o.max_callers } : {}),
    ...(o?.max_nonces != null ? { maxNonces: o.max_nonces } : {}),
    ...(o?.key_prefix != null ? { keyPrefix: o.key_prefix } : {}),
    ...(o?.timeout_ms != null ? { timeoutMs: o.timeout_ms } : {}),
  };
}

/** Opens the project's state store (`state:` setting). */
export function openProjectState(
  settings: StateSettings,
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StateBackend> {
  return openStateBackend(expandEnv(settings.state, "state", env), stateBackendOptions(settings, root));
}

/** Opens the state store and builds the guards the settings ask for. */
export async function openGuards(
  settings: GuardSettings,
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Guards> {
  const backend = await openProjectState(settings, root, env);
  return new Guards(backend, { rate_limit: settings.rate_limit, cumulative_risk: settings.cumulative_risk });
}
