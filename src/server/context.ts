/**
 * What every route of one sidecar shares: the composed parts (pipeline, identity, tickets, state,
 * the one audit writer), the world and its reloader, metrics, the logger, the admin token, and
 * whether the sidecar is shutting down.
 */
import { access, constants } from "node:fs/promises";
import type { FastifyBaseLogger } from "fastify";
import type { ProjectConfig } from "../config/project.js";
import type { DecisionPipeline } from "../pdp/pipeline.js";
import type { Composed } from "../sdk/compose.js";
import type { AdminToken } from "./auth.js";
import type { ServerMetrics } from "./metrics.js";
import type { ReloadResult, WorldReloader } from "./reload.js";

export interface SidecarContext {
  readonly project: ProjectConfig;
  readonly composed: Composed;
  readonly pipeline: DecisionPipeline;
  readonly reloader: WorldReloader;
  readonly metrics: ServerMetrics;
  readonly log: FastifyBaseLogger;
  readonly adminToken: AdminToken | null;
  readonly audit: AuditHealth;
  /** True once shutdown began: new requests get 503, responses close their connection. */
  closing: boolean;
  /** Reloads the world, logs and counts the outcome. */
  reload(source: "signal" | "admin"): Promise<ReloadResult>;
}

/**
 * Whether the audit log takes records: the last append's outcome (a writer that stopped rejects
 * every append until the sidecar is restarted) and whether the file is still writable.
 */
export class AuditHealth {
  private failure: string | null = null;

  constructor(private readonly path: string | null) {}

  succeeded(): void {
    if (this.failure !== null) this.failure = null;
  }

  failed(message: string): void {
    this.failure = message;
  }

  async check(): Promise<{ ok: boolean; message?: string }> {
    if (this.path === null) return { ok: true, message: "audit disabled" };
    if (this.failure !== null) return { ok: false, message: this.failure };
    try {
      await access(this.path, constants.W_OK);
      return { ok: true };
    } catch {
      return { ok: false, message: `the audit log ${this.path} is not writable` };
    }
  }
}

/** A reload function that logs and counts (used by SIGHUP and the admin route). */
export function reloadWith(
  reloader: WorldReloader,
  metrics: ServerMetrics,
  log: FastifyBaseLogger,
): (source: "signal" | "admin") => Promise<ReloadResult> {
  return async (source) => {
    const r = await reloader.reload();
    metrics.reload(r.ok);
    if (r.ok) {
      log.info(
        { source, policy_revision: r.revision, previous_revision: r.previous, warnings: r.warnings },
        "policy reloaded",
      );
    } else {
      log.error(
        { source, policy_revision: r.revision, error: r.error },
        "policy reload failed; the old policy stays",
      );
    }
    return r;
  };
}
