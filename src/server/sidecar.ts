/**
 * One sidecar: opens the project, refuses unsafe set-ups, composes the parts (one audit writer
 * per process, holding the log's lock), builds the app and listens. `close()` is the graceful
 * shutdown: stop accepting, let in-flight requests finish (their records are already durable:
 * the pipeline waits for the fsync), close idle connections, then flush and checkpoint the audit
 * log and close the state store.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { type OpenOptions, type OpenProject, openProject } from "../config/open-project.js";
import type { ProjectConfig } from "../config/project.js";
import { auditSchema } from "../config/project-schema.js";
import { DecisionPipeline } from "../pdp/pipeline.js";
import { compose } from "../sdk/compose.js";
import { createApp, type HttpLimits, limitsOf } from "./app.js";
import { AdminToken } from "./auth.js";
import { AuditHealth, reloadWith, type SidecarContext } from "./context.js";
import { createLogger, type LoggerOptions } from "./logger.js";
import { liveShipperCursors, ServerMetrics } from "./metrics.js";
import { type ReloadResult, WorldReloader } from "./reload.js";
import type { RouteDef, RouteGroup } from "./route.js";
import { adminRoutes } from "./routes/admin.js";
import { approvalRoutes } from "./routes/approvals.js";
import { decisionRoutes } from "./routes/decisions.js";
import { delegationRoutes } from "./routes/delegations.js";
import { executeRoutes } from "./routes/execute.js";
import { metaRoutes } from "./routes/meta.js";
import { opsRoutes } from "./routes/ops.js";
import { ticketRoutes } from "./routes/tickets.js";
import { type ServerSettings, ServerSettingsError, serverSettings } from "./settings.js";

/** The API's route groups, in registration order. Approvals and execution add theirs here. */
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  decisionRoutes,
  ticketRoutes,
  delegationRoutes,
  approvalRoutes,
  executeRoutes,
  opsRoutes,
];

export interface SidecarOptions extends HttpLimits {
  /** How to find the project (cwd, --config, path overrides); ignored when `opened` is given. */
  open?: OpenOptions;
  /** An already opened project (tests, embedding). */
  opened?: Pick<OpenProject, "project" | "world">;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8420; 0 picks a free port. */
  port?: number;
  /** PEM files; both or neither. Required for a non-loopback host unless `insecureNoTls`. */
  tls?: { certFile: string; keyFile: string } | null;
  /** Enables `POST /v1/admin/reload`. */
  adminTokenFile?: string | null;
  /** Allow serving without identity keys (or with the reference profile): callers are then unverified. */
  insecureNoAuth?: boolean;
  /** Allow a non-loopback host without TLS. */
  insecureNoTls?: boolean;
  /** Override `audit.path` / `audit.chain_id` (one log and one chain per replica). */
  auditPath?: string | null;
  chainId?: string | null;
  /** Write decisions to the audit log (default true). */
  audit?: boolean;
  /** Wall clock for the pipeline, identity and tickets (tests inject a fixed one). */
  clock?: () => number;
  logger?: LoggerOptions;
  /** A second listener with only /healthz, /readyz and /metrics (probes and scrapes from outside the pod). */
  opsPort?: number | null;
  opsHost?: string;
  /** How long shutdown waits for in-flight requests before closing their connections (default 10 s). */
  drainTimeoutMs?: number;
  /** Extra route groups (later features). */
  routes?: readonly RouteGroup[];
}

export interface Sidecar {
  readonly url: string;
  readonly opsUrl: string | null;
  readonly app: FastifyInstance;
  readonly context: SidecarContext;
  readonly log: FastifyBaseLogger;
  reload(source?: "signal" | "admin"): Promise<ReloadResult>;
  /** Graceful shutdown; resolves when everything is flushed and closed. Idempotent. */
  close(): Promise<void>;
}

/** A set-up the sidecar refuses to run (exit 2 from the CLI). */
export class SidecarConfigError extends Error {
  override name = "SidecarConfigError";
}

export async function startSidecar(given: SidecarOptions = {}): Promise<Sidecar> {
  const opened = given.opened ?? (await openProject(given.open ?? {}));
  const options = withServerSettings(given, opened.project);
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 8420;
  const project = withAuditOverrides(opened.project, options);
  refuseUnsafe(project, host, options);
  const log = createLogger(options.logger);
  const https = readTls(options.tls ?? null);
  const adminToken = options.adminTokenFile ? AdminToken.fromFile(options.adminTokenFile) : null;

  const composed = await compose(
    { project, world: opened.world },
    {
      audit: options.audit ?? true,
      // Approvers and requesters prove who they are over HTTP: the service trusts no identity object.
      approvals: { trusted: false, sweepIntervalMs: 30_000 },
      ...(options.clock ? { clock: options.clock } : {}),
    },
  );
  try {
    const reloader = new WorldReloader(project, opened.world, (w) => composed.setWorld(w));
    const auditPath = (composed.audit as { path?: string } | null)?.path ?? null;
    const metrics = new ServerMetrics({
      audit: () => {
        const w = composed.audit as { lastSeq?: number; durableSeq?: number } | null;
        return w === null || w.lastSeq === undefined || w.durableSeq === undefined
          ? null
          : { lastSeq: w.lastSeq, durableSeq: w.durableSeq };
      },
      identityCache: () => composed.identity?.verifier.cacheStats ?? null,
      revision: () => reloader.current().revision,
      shippers: () => liveShipperCursors(composed.audit),
    });
    const context: SidecarContext = {
      project,
      composed,
      pipeline: new DecisionPipeline(composed.parts),
      reloader,
      metrics,
      log,
      adminToken,
      audit: new AuditHealth(composed.audit === null ? null : auditPath),
      closing: false,
      reload: reloadWith(reloader, metrics, log),
    };
    const groups: RouteGroup[] = [...ROUTE_GROUPS, ...(options.routes ?? [])];
    if (adminToken !== null) groups.push(adminRoutes);
    groups.push(metaRoutes((): RouteDef[] => groups.flatMap((g) => g(context))));

    const limits = limitsOf(options);
    const app = createApp(context, groups, { ...limits, https, logger: log });
    const url = await listen(app, host, port, https !== null);
    let ops: FastifyInstance | null = null;
    let opsUrl: string | null = null;
    if (options.opsPort !== undefined && options.opsPort !== null) {
      ops = createApp(context, [opsRoutes], { ...limits, logger: log });
      opsUrl = await listen(ops, options.opsHost ?? "0.0.0.0", options.opsPort, false);
    }
    log.info(
      {
        url,
        ops_url: opsUrl,
        config: project.file,
        profile: project.profile,
        policy_revision: opened.world.revision,
        state: composed.state.description,
        audit: auditPath,
        chain_id: project.settings.audit?.chain_id ?? "main",
        authentication:
          composed.keys === null ? "none (--insecure-no-auth)" : composed.keys.settings.algorithm,
      },
      "listening",
    );

    let closing: Promise<void> | null = null;
    const drainMs = options.drainTimeoutMs ?? 10_000;
    return {
      url,
      opsUrl,
      app,
      context,
      log,
      reload: (source = "admin") => context.reload(source),
      close: () => {
        closing ??= (async () => {
          context.closing = true;
          const force = setTimeout(() => {
            log.warn({ drain_timeout_ms: drainMs }, "drain timeout: closing the remaining connections");
            app.server.closeAllConnections();
            ops?.server.closeAllConnections();
          }, drainMs);
          force.unref();
          try {
            await Promise.all([app.close(), ops?.close()]);
          } finally {
            clearTimeout(force);
            await composed.close();
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    await composed.close().catch(() => undefined);
    throw err;
  }
}

async function listen(app: FastifyInstance, host: string, port: number, tls: boolean): Promise<string> {
  await app.listen({ host, port, listenTextResolver: (address) => `socket bound: ${address}` });
  const address = app.server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${tls ? "https" : "http"}://${shown}:${address.port}`;
}

/**
 * The options with the project's `server:` section filling in what they leave unset (null and
 * undefined alike): the command line wins over the file, the file over the defaults.
 */
function withServerSettings(o: SidecarOptions, project: ProjectConfig): SidecarOptions {
  let s: ServerSettings;
  try {
    s = serverSettings(project);
  } catch (err) {
    if (err instanceof ServerSettingsError) throw new SidecarConfigError(err.message);
    throw err;
  }
  const pick = <T>(given: T | null | undefined, fromFile: T | undefined): T | undefined =>
    given !== undefined && given !== null ? given : fromFile;
  const out: SidecarOptions = { ...o };
  const set = <K extends keyof SidecarOptions>(key: K, value: SidecarOptions[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set("host", pick(o.host, s.host));
  set("port", pick(o.port, s.port));
  set("tls", pick(o.tls, s.tls_cert && s.tls_key ? { certFile: s.tls_cert, keyFile: s.tls_key } : undefined));
  set("adminTokenFile", pick(o.adminTokenFile, s.admin_token_file));
  set("opsPort", pick(o.opsPort, s.ops_port));
  set("opsHost", pick(o.opsHost, s.ops_host));
  set("bodyLimit", pick(o.bodyLimit, s.body_limit));
  set("requestTimeout", pick(o.requestTimeout, s.request_timeout_ms));
  set("headersTimeout", pick(o.headersTimeout, s.headers_timeout_ms));
  set("keepAliveTimeout", pick(o.keepAliveTimeout, s.keep_alive_timeout_ms));
  set("connectionTimeout", pick(o.connectionTimeout, s.connection_timeout_ms));
  set("maxConnections", pick(o.maxConnections, s.max_connections));
  set("drainTimeoutMs", pick(o.drainTimeoutMs, s.drain_timeout_ms));
  if (s.log_level !== undefined && o.logger !== false && o.logger?.level === undefined) {
    out.logger = { ...(o.logger ?? {}), level: s.log_level };
  }
  return out;
}

/** The project with `--audit-log` / `--chain-id` applied (each replica: its own log and chain). */
function withAuditOverrides(project: ProjectConfig, o: SidecarOptions): ProjectConfig {
  if (!o.auditPath && !o.chainId) return project;
  const audit = project.settings.audit ?? auditSchema.parse({});
  return {
    ...project,
    settings: {
      ...project.settings,
      audit: {
        ...audit,
        ...(o.auditPath ? { path: o.auditPath } : {}),
        ...(o.chainId ? { chain_id: o.chainId } : {}),
      },
    },
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function refuseUnsafe(project: ProjectConfig, host: string, o: SidecarOptions): void {
  if (!o.insecureNoAuth) {
    if (project.settings.keys === null) {
      throw new SidecarConfigError(
        "no identity keys are configured (no keys: section in agent-safe.yaml), so the sidecar cannot tell " +
          "callers apart: anyone who can reach the port could act as any agent. Add keys (`agent-safe init` " +
          "writes them) or, for a local experiment only, pass --insecure-no-auth",
      );
    }
    if (project.profile === "reference") {
      throw new SidecarConfigError(
        "the reference profile takes an unverifiable bare agent id as the caller (0.9.0 semantics), so any " +
          "client could claim any agent id; use the strict profile, or pass --insecure-no-auth to accept that",
      );
    }
  }
  if (!LOOPBACK.test(host) && !o.tls && !o.insecureNoTls) {
    throw new SidecarConfigError(
      `--host ${host} is reachable from other machines, and tokens would cross the network in clear: ` +
        "give --tls-cert and --tls-key, or pass --insecure-no-tls (e.g. behind a TLS-terminating mesh)",
    );
  }
}

function readTls(tls: SidecarOptions["tls"]): { cert: Buffer; key: Buffer } | null {
  if (!tls) return null;
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch {
      throw new SidecarConfigError(`cannot read the TLS ${what} file ${path}`);
    }
  };
  return { cert: read(tls.certFile, "certificate"), key: read(tls.keyFile, "key") };
}
