/**
 * The `server:` section of agent-safe.yaml: defaults for `agent-safe serve`, so that a deployment
 * can keep the whole sidecar configuration in one file (e.g. a Kubernetes Secret). Every key is
 * optional; a command-line flag wins over the file, the file over the built-in default. Paths
 * are relative to the config file's directory. The insecure switches (`--insecure-no-auth`,
 * `--insecure-no-tls`) are deliberately command-line only: weakening the sidecar must be visible
 * where it is started.
 *
 * ```yaml
 * server:
 *   host: 127.0.0.1
 *   port: 8420
 *   tls_cert: tls/tls.crt
 *   tls_key: tls/tls.key
 *   admin_token_file: admin.token
 *   ops_port: 8421
 * ```
 */
import { resolve } from "node:path";
import * as z from "zod";
import type { ProjectConfig } from "../config/project.js";
import { describeIssues } from "./errors.js";

const port = z.number().int().min(0).max(65535);
const ms = (max: number) => z.number().int().min(0).max(max);

export const serverSettingsSchema = z
  .strictObject({
    host: z.string().min(1).optional().describe("Address to bind (default 127.0.0.1)."),
    port: port.optional().describe("Port (default 8420; 0: any free port)."),
    tls_cert: z.string().min(1).optional().describe("TLS certificate (PEM); with tls_key, serve HTTPS."),
    tls_key: z.string().min(1).optional().describe("TLS private key (PEM)."),
    admin_token_file: z
      .string()
      .min(1)
      .optional()
      .describe("Enables the admin routes with the token in this file (mode 0600)."),
    ops_port: port.optional().describe("A second listener with only /healthz, /readyz and /metrics."),
    ops_host: z.string().min(1).optional().describe("Address of the ops listener (default 0.0.0.0)."),
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
    body_limit: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .optional()
      .describe("Largest request body in bytes (default 65536)."),
    request_timeout_ms: ms(600_000).optional().describe("Time to receive a whole request (default 10000)."),
    headers_timeout_ms: ms(600_000).optional().describe("Time to receive the headers (default 5000)."),
    keep_alive_timeout_ms: ms(600_000)
      .optional()
      .describe("Idle keep-alive connections close (default 5000)."),
    connection_timeout_ms: ms(3_600_000).optional().describe("Idle sockets close (default 30000)."),
    max_connections: z.number().int().min(1).max(1_000_000).optional().describe("Default 4096."),
    drain_timeout_ms: ms(600_000)
      .optional()
      .describe("Shutdown wait for in-flight requests (default 10000)."),
  })
  .describe("Defaults for `agent-safe serve` (docs/sidecar.md); command-line flags win.");

export type ServerSettings = z.output<typeof serverSettingsSchema>;

/** A `server:` section that does not validate. */
export class ServerSettingsError extends Error {
  override name = "ServerSettingsError";
}

/** The project's `server:` section, validated, with its paths resolved; `{}` without one. */
export function serverSettings(project: ProjectConfig): ServerSettings {
  const raw = (project.settings as { server?: unknown }).server;
  if (raw === null || raw === undefined) return {};
  const parsed = serverSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ServerSettingsError(
      `${project.file ?? "agent-safe.yaml"}: server: ${describeIssues(parsed.error)}`,
    );
  }
  const s = { ...parsed.data };
  for (const key of ["tls_cert", "tls_key", "admin_token_file"] as const) {
    const v = s[key];
    if (v !== undefined) s[key] = resolve(project.root, v);
  }
  if ((s.tls_cert === undefined) !== (s.tls_key === undefined)) {
    throw new ServerSettingsError(
      `${project.file ?? "agent-safe.yaml"}: server: give both tls_cert and tls_key, or neither`,
    );
  }
  return s;
}
