/**
 * Policy reload without a restart (SIGHUP, `POST /v1/admin/reload`): the actions, policies and
 * inventory are loaded and compiled aside, from the same paths as at start-up; only a world that
 * loads completely is swapped in, in one assignment, so every request is decided entirely by the
 * old world or entirely by the new one. A broken reload keeps the old world and says why.
 *
 * What is reloaded: the world (actions, policies, inventory). What is not: `agent-safe.yaml`
 * itself (keys, state, audit, rate limits, profile), which is read at start; change those with a
 * (rolling) restart. Keys are re-read by the key rings on their own (rotation, within 5 s).
 */
import { ConfigError, formatIssue } from "../config/errors.js";
import type { ProjectConfig } from "../config/project.js";
import { compileWorld, type World } from "../core/world.js";

export type ReloadResult =
  | { ok: true; revision: string; previous: string; warnings: string[] }
  | { ok: false; error: string; revision: string };

export class WorldReloader {
  private world: World;
  private running: Promise<ReloadResult> | null = null;

  constructor(
    private readonly project: ProjectConfig,
    initial: World,
    private readonly swap: (world: World) => void,
  ) {
    this.world = initial;
  }

  current(): World {
    return this.world;
  }

  /** Reloads; a reload asked for while one runs waits for it and then runs again. */
  reload(): Promise<ReloadResult> {
    const after = this.running ?? Promise.resolve(null);
    const next = after.then(() => this.loadAndSwap());
    this.running = next;
    void next.finally(() => {
      if (this.running === next) this.running = null;
    });
    return next;
  }

  private async loadAndSwap(): Promise<ReloadResult> {
    const previous = this.world.revision;
    let world: World;
    let warnings: string[];
    try {
      const { loadWorldInput } = await import("../config/load-world.js");
      const loaded = loadWorldInput(this.project.paths, { profile: this.project.profile });
      warnings = loaded.warnings.map(formatIssue);
      world = compileWorld(loaded.input);
    } catch (err) {
      const error =
        err instanceof ConfigError
          ? err.lines().join("\n")
          : `${(err as Error).name}: ${(err as Error).message}`;
      return { ok: false, error, revision: previous };
    }
    this.world = world;
    this.swap(world);
    return { ok: true, revision: world.revision, previous, warnings };
  }
}
