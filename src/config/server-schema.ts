/**
 * The `server:` section of agent-safe.yaml (docs/sidecar.md): defaults for `agent-safe serve`.
 * Validated when the project loads, like every other section; `src/server/settings.ts` resolves
 * its paths and applies it.
 */
import * as z from "zod";

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
