/**
 * `agent-safe serve`: the HTTP sidecar (docs/sidecar.md). Runs until SIGTERM or SIGINT (graceful:
 * drain, flush and checkpoint the audit log, exit 0); SIGHUP reloads the policy.
 */
import { resolve } from "node:path";
import type * as Server from "../../server/index.js";
import { type CommonOptions, EXIT, PROJECT_OPTIONS, projectOverrides, UsageError } from "../common.js";
import type { CommandSpec } from "../spec.js";

interface ServeOptions extends CommonOptions {
  port?: string;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
  adminTokenFile?: string;
  insecureNoAuth?: boolean;
  insecureNoTls?: boolean;
  auditLog?: string;
  chainId?: string;
  opsPort?: string;
  opsHost?: string;
  logLevel?: string;
  bodyLimit?: string;
  requestTimeout?: string;
  maxConnections?: string;
  drainTimeout?: string;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const serveCommand: CommandSpec = {
  name: "serve",
  summary: "run the HTTP sidecar",
  description:
    "Serve decisions, tickets and delegations over HTTP (docs/sidecar.md). Callers authenticate\n" +
    "with `Authorization: Bearer <identity token>`; every decision is in the audit log before its\n" +
    "response is sent. SIGHUP reloads the policy; SIGTERM/SIGINT drain and stop.",
  arguments: [],
  options: [
    { flags: "--port <port>", description: "port to listen on (default 8420; 0: any free port)" },
    { flags: "--host <host>", description: "address to bind (default 127.0.0.1)" },
    { flags: "--tls-cert <file>", description: "TLS certificate (PEM); with --tls-key, serve HTTPS" },
    { flags: "--tls-key <file>", description: "TLS private key (PEM)" },
    {
      flags: "--admin-token-file <file>",
      description: "enable the admin routes (reload, kill switch) with the token in this file (mode 0600)",
    },
    {
      flags: "--insecure-no-auth",
      description: "serve without identity keys (callers unverified: local experiments only)",
    },
    { flags: "--insecure-no-tls", description: "allow a non-loopback --host without TLS" },
    { flags: "--audit-log <file>", description: "this replica's audit log (default: audit.path)" },
    { flags: "--chain-id <id>", description: "this replica's audit chain id (default: audit.chain_id)" },
    { flags: "--ops-port <port>", description: "also serve /healthz, /readyz, /metrics on this port" },
    { flags: "--ops-host <host>", description: "address of the ops listener (default 0.0.0.0)" },
    { flags: "--log-level <level>", description: "log level (default info)", choices: LOG_LEVELS },
    { flags: "--body-limit <bytes>", description: "largest request body (default 65536)" },
    { flags: "--request-timeout <ms>", description: "time to receive a whole request (default 10000)" },
    { flags: "--max-connections <n>", description: "open connections accepted (default 4096)" },
    { flags: "--drain-timeout <ms>", description: "shutdown wait for in-flight requests (default 10000)" },
    ...PROJECT_OPTIONS,
  ],
  helpAfter: `
Every flag but --insecure-* can also be set in agent-safe.yaml's server: section (docs/sidecar.md);
a flag wins over the file.

Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 shutdown failed, 2 usage or configuration error
(no keys without --insecure-no-auth, a locked audit log, a port in use, ...).

Examples:
  agent-safe serve
  agent-safe serve --port 8421 --audit-log audit-b.jsonl --chain-id replica-b
  agent-safe serve --host 0.0.0.0 --tls-cert tls.crt --tls-key tls.key --ops-port 8421
  kill -HUP <pid>     # reload the policy`,
  async run(_args, options) {
    await runServe(options as ServeOptions);
  },
};

async function runServe(opts: ServeOptions): Promise<void> {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new UsageError("give both --tls-cert and --tls-key, or neither");
  }
  const server = await loadServer();
  let sidecar: Awaited<ReturnType<typeof server.startSidecar>>;
  try {
    sidecar = await server.startSidecar({
      open: { overrides: projectOverrides(opts), ...(opts.cache === false ? { cache: false } : {}) },
      // Unset flags stay undefined: agent-safe.yaml's `server:` section, then the defaults, fill them.
      ...optional("host", opts.host),
      ...optional("port", int(opts.port, "--port", 0, 65535)),
      ...(opts.tlsCert && opts.tlsKey
        ? { tls: { certFile: resolve(opts.tlsCert), keyFile: resolve(opts.tlsKey) } }
        : {}),
      ...optional(
        "adminTokenFile",
        opts.adminTokenFile === undefined ? undefined : resolve(opts.adminTokenFile),
      ),
      insecureNoAuth: opts.insecureNoAuth === true,
      insecureNoTls: opts.insecureNoTls === true,
      auditPath: opts.auditLog === undefined ? null : resolve(opts.auditLog),
      chainId: opts.chainId ?? null,
      ...optional("opsPort", int(opts.opsPort, "--ops-port", 0, 65535)),
      ...optional("opsHost", opts.opsHost),
      logger: opts.logLevel === undefined ? {} : { level: opts.logLevel as (typeof LOG_LEVELS)[number] },
      ...optional("bodyLimit", int(opts.bodyLimit, "--body-limit", 1024, 16 * 1024 * 1024)),
      ...optional("requestTimeout", int(opts.requestTimeout, "--request-timeout", 100, 600_000)),
      ...optional("maxConnections", int(opts.maxConnections, "--max-connections", 1, 1_000_000)),
      ...optional("drainTimeoutMs", int(opts.drainTimeout, "--drain-timeout", 0, 600_000)),
    });
  } catch (err) {
    if (err instanceof server.SidecarConfigError || err instanceof server.AdminTokenError) {
      throw new UsageError(err.message);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw new UsageError(`cannot listen: ${(err as Error).message}`);
    }
    throw err;
  }
  const code = await server.handleSignals(sidecar);
  process.exitCode = code === 0 ? EXIT.OK : EXIT.FAILED;
  // Everything is closed; should a stray handle keep the loop alive, do not hang on it.
  setTimeout(() => process.exit(), 3000).unref();
}

/**
 * The sidecar's module, by URL: a literal `import()` would let the CLI bundle inline it, and the
 * bundler then hoists its packages (fastify, pino, prom-client, zod) into static imports that
 * every `agent-safe` start would pay for. From the bundle (dist/bin/main.js) the module is
 * dist/server/index.js; from the compiled or source tree, src|dist/server/index.js.
 */
async function loadServer(): Promise<typeof Server> {
  const here = import.meta.url;
  const relative = /\/cli\/commands\/serve\.[cm]?[jt]s$/.test(here)
    ? "../../server/index.js"
    : "../server/index.js";
  return (await import(new URL(relative, here).href)) as typeof Server;
}

function int(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${text}'`);
  }
  return n;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
