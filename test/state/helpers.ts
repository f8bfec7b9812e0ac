/**
 * Backends for the state tests: memory, a real SQLite file, a real Redis with its own key prefix,
 * a real PostgreSQL with its own schema.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { openStateBackend } from "../../src/state/factory.js";
import type { StateBackend, StateBackendOptions } from "../../src/state/interfaces.js";

export const REDIS_URL = process.env.AGENT_SAFE_TEST_REDIS ?? "redis://127.0.0.1:6379";
/** Trust auth on loopback, database `test`; each test works in a schema of its own. */
export const POSTGRES_URL = process.env.AGENT_SAFE_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestBackend {
  name: "memory" | "sqlite" | "redis" | "postgres";
  open(options?: StateBackendOptions): Promise<StateBackend>;
  cleanup(): Promise<void>;
}

/** Deletes every key under `prefix` (tests use a fresh prefix each). */
export async function deleteRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(
        cursor,
        "MATCH",
        `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`,
        "COUNT",
        1000,
      );
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}

export function testPrefix(): string {
  return `agent-safe-test:${randomUUID()}:`;
}

/** A fresh schema name (created by the store on first use). */
export function testSchema(): string {
  return `agent_safe_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/** `postgres://…?schema=<schema>`. */
export function postgresUrl(schema: string): string {
  return `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}`;
}

/** Drops test schemas and everything in them. */
export async function dropPostgresSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const require = createRequire(import.meta.url);
  const pg = require("pg") as {
    Client: new (o: {
      connectionString: string;
    }) => {
      connect(): Promise<void>;
      query(q: string): Promise<unknown>;
      end(): Promise<void>;
    };
  };
  const c = new pg.Client({ connectionString: POSTGRES_URL });
  await c.connect();
  try {
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** The four adapters. `serverTime: false` on Redis so a test can drive the clock. */
export function testBackends(): TestBackend[] {
  const opened: StateBackend[] = [];
  const dirs: string[] = [];
  const prefixes: string[] = [];
  const schemas: string[] = [];
  const track = async (b: Promise<StateBackend>) => {
    const backend = await b;
    opened.push(backend);
    return backend;
  };
  const closeAll = async () => {
    for (const b of opened.splice(0)) await b.close();
  };
  return [
    {
      name: "memory",
      open: (o = {}) => track(openStateBackend("memory", o)),
      cleanup: closeAll,
    },
    {
      name: "sqlite",
      open: (o = {}) => {
        const dir = mkdtempSync(join(tmpdir(), "agent-safe-state-"));
        dirs.push(dir);
        return track(openStateBackend(`sqlite:${join(dir, "state.db")}`, o));
      },
      cleanup: async () => {
        await closeAll();
        for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
      },
    },
    {
      name: "redis",
      open: (o = {}) => {
        const prefix = testPrefix();
        prefixes.push(prefix);
        return track(openStateBackend(REDIS_URL, { keyPrefix: prefix, serverTime: false, ...o }));
      },
      cleanup: async () => {
        await closeAll();
        for (const p of prefixes.splice(0)) await deleteRedisPrefix(p);
      },
    },
    {
      name: "postgres",
      open: (o = {}) => {
        const schema = testSchema();
        schemas.push(schema);
        return track(openStateBackend(postgresUrl(schema), o));
      },
      cleanup: async () => {
        await closeAll();
        await dropPostgresSchemas(schemas.splice(0));
      },
    },
  ];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** A private redis-server child process (never the shared one on 6379), to stop and restart. */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    const probe = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on("error", () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await sleep(50);
      }
    }
    probe.disconnect();
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  /** SIGKILL: the server vanishes mid-run. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    this.child = null;
  }

  /** SIGSTOP / SIGCONT: the server hangs (connections stay open, no replies). */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "agent-safe-state-"));
}

/** A loopback TCP proxy in front of the real server, to take "the server" away and bring it back. */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly upstream: number,
  ) {}

  static async start(upstream: number): Promise<TcpProxy> {
    const p = new TcpProxy(await freePort(), upstream);
    await p.restart();
    return p;
  }

  restart(): Promise<void> {
    const server = createServer((client) => {
      const up = tcpConnect(this.upstream, "127.0.0.1");
      for (const s of [client, up]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(up).pipe(client);
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, "127.0.0.1", () => resolve()));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server !== null) await new Promise((resolve) => server.close(resolve));
  }
}
