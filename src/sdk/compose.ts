/**
 * The composition root: builds the pipeline's parts from a project's configuration. Only here
 * do the capabilities meet; each keeps its own small public face.
 */
import type { OpenProject } from "../config/open-project.js";
import type { World } from "../core/world.js";
import { Guards } from "../guards/guards.js";
import { openProjectState } from "../guards/open.js";
import { type IdentityServices, identityServices } from "../identity/index.js";
import { projectTokenKeys, type TokenKeys } from "../jwt/config.js";
import type { AuditSink, PipelineParts } from "../pdp/pipeline.js";
import type { CredentialProvider } from "../runner/runner.js";
import type { StateBackend } from "../state/interfaces.js";
import { type TicketServices, ticketServices } from "../tickets/index.js";

export interface ComposeOptions {
  /** Write decisions to the project's audit log (default true). */
  audit?: boolean;
  clock?: () => number;
}

export interface Composed {
  parts: PipelineParts;
  keys: TokenKeys | null;
  identity: IdentityServices | null;
  tickets: TicketServices | null;
  state: StateBackend;
  audit: (AuditSink & { close(): Promise<void> }) | null;
  /** Credentials for the runner, from the project's vault; null when none is configured. */
  credentials: CredentialProvider | null;
  /** Swaps the world decisions are made against (a policy reload). */
  setWorld(world: World): void;
  close(): Promise<void>;
}

export async function compose(
  opened: Pick<OpenProject, "project" | "world">,
  options: ComposeOptions = {},
): Promise<Composed> {
  const { project } = opened;
  const clock = options.clock ?? Date.now;
  const keys = projectTokenKeys(project);
  const identity = keys === null ? null : identityServices(keys, { clock });
  // Without agent-safe.yaml there is no deployment to share state with: keep it in memory
  // rather than creating files in whatever directory the command runs from.
  const stateSettings = project.file === null ? { ...project.settings, state: "memory" } : project.settings;
  const state = await openProjectState(stateSettings, project.root);
  const resources: { close(): Promise<void> }[] = [state];
  try {
    const guards = new Guards(state, {
      rate_limit: project.settings.rate_limit,
      cumulative_risk: project.settings.cumulative_risk,
    });
    const tickets = keys === null ? null : ticketServices(keys, state.nonces, { clock });
    let audit: Composed["audit"] = null;
    if (options.audit !== false && project.settings.audit?.enabled !== false) {
      const { AuditWriter, auditSettingsFromProject } = await import("../audit/index.js");
      audit = await AuditWriter.open(auditSettingsFromProject(project));
      resources.unshift(audit);
    }
    let world: World = opened.world;
    const parts: PipelineParts = {
      world: () => world,
      clock,
      identity: identity?.verifier ?? null,
      keysConfigured: keys !== null,
      guards,
      audit,
      tickets: tickets?.issuer ?? null,
    };
    return {
      parts,
      keys,
      identity,
      tickets,
      state,
      audit,
      credentials: null,
      setWorld: (next) => {
        world = next;
      },
      close: async () => {
        // Audit first (its final checkpoint), then the state store.
        for (const r of resources) await r.close();
      },
    };
  } catch (err) {
    for (const r of resources) await r.close().catch(() => undefined);
    throw err;
  }
}
