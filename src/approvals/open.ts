/**
 * Composition: an `ApprovalService` from a project's `approvals:` settings and the deployment's
 * parts (identity verifier, ticket issuer, audit sink, the current world).
 */
import type { ApprovalsSettings } from "../config/approvals-schema.js";
import { defaultApprovalsSettings } from "../config/approvals-schema.js";
import { expandEnv } from "../config/env.js";
import type { ProjectConfig } from "../config/project.js";
import type { World } from "../core/world.js";
import { IdentityVerifier } from "../identity/verifier.js";
import { projectTokenKeys, type TokenKeys } from "../jwt/config.js";
import type { AuditSink } from "../pdp/pipeline.js";
import { TicketIssuer } from "../tickets/issuer.js";
import { ApprovalError } from "./errors.js";
import { buildNotifiers, Notifiers, type WarningSink } from "./notifiers/index.js";
import { PostgresApprovalStore } from "./postgres-store.js";
import { sealerFromRing } from "./seal.js";
import { ApprovalService } from "./service.js";
import { SqliteApprovalStore } from "./sqlite-store.js";
import { type ApprovalStore, parseApprovalStoreUrl } from "./store.js";

export interface OpenApprovalsOptions {
  /** Verifies approvers' identity tokens. Default: from the project's keys (none without keys). */
  identityVerifier?: IdentityVerifier | null;
  /** Mints the ticket of a granted request. Default: from the project's keys (none without keys). */
  ticketIssuer?: TicketIssuer | null;
  /** The deployment's keys, for the ticket seal key. Default: the project's. */
  tokenKeys?: TokenKeys | null;
  /** Where transitions are recorded: the deployment's audit writer (null: not recorded). */
  audit: AuditSink | null;
  /** The world decisions are made against now: approvals are checked against its revision. */
  world?: (() => World) | null;
  /** In-process (SDK) use: see `ApprovalServiceOptions.trusted`. Default true. */
  trusted?: boolean;
  /** Another store than `approvals.store` (the CLI's `--store`). */
  store?: string;
  /** Send notifications (default true). */
  notify?: boolean;
  /** Notifier problems (default: `process.emitWarning`). */
  onWarning?: WarningSink;
  /** Expire due requests in the background every this many ms (long-running processes). */
  sweepIntervalMs?: number;
  clock?: () => number;
  env?: NodeJS.ProcessEnv;
}

/** The `approvals:` settings, defaults filled in. */
export function approvalsSettings(project: ProjectConfig): ApprovalsSettings {
  return project.settings.approvals ?? defaultApprovalsSettings();
}

/** The store named by the settings (or `url`). Nothing is connected or created until used. */
export function openApprovalStore(
  project: ProjectConfig,
  url?: string,
  env: NodeJS.ProcessEnv = process.env,
): ApprovalStore {
  const text = url ?? expandEnv(approvalsSettings(project).store, "approvals.store", env);
  const parsed = parseApprovalStoreUrl(text, project.root);
  return parsed.kind === "sqlite"
    ? new SqliteApprovalStore(parsed.path)
    : new PostgresApprovalStore(parsed.url);
}

const defaultWarning: WarningSink = (message) => process.emitWarning(message, "AgentSafeApprovalWarning");

export function openApprovals(project: ProjectConfig, options: OpenApprovalsOptions): ApprovalService {
  const settings = approvalsSettings(project);
  const env = options.env ?? process.env;
  const keys = options.tokenKeys !== undefined ? options.tokenKeys : projectTokenKeys(project);
  const clock = options.clock ?? Date.now;
  const identity =
    options.identityVerifier !== undefined
      ? options.identityVerifier
      : keys === null
        ? null
        : new IdentityVerifier(keys.identity, keys.settings, { clock });
  const tickets =
    options.ticketIssuer !== undefined
      ? options.ticketIssuer
      : keys === null
        ? null
        : new TicketIssuer(keys.tickets, keys.settings, { clock });
  if (tickets !== null && keys === null)
    throw new ApprovalError(
      "approvals: a ticket issuer needs the deployment's keys (tokenKeys) to seal tickets",
      "config",
    );
  const world = options.world ?? null;
  const notifiers =
    options.notify === false
      ? Notifiers.none()
      : buildNotifiers(settings.notifiers, project.root, env, options.onWarning ?? defaultWarning);
  const service = new ApprovalService({
    store: openApprovalStore(project, options.store, env),
    identity,
    tickets,
    sealer: keys === null ? null : sealerFromRing(keys.tickets),
    audit: options.audit,
    notifiers,
    ttlSeconds: settings.ttl_seconds,
    currentRevision: world === null ? null : () => world().revision,
    trusted: options.trusted ?? true,
    clock,
  });
  if (options.sweepIntervalMs !== undefined) service.startExpirySweeper(options.sweepIntervalMs);
  return service;
}
