/** Backends for the state tests: memory, a real SQLite file, a real Redis with its own key prefix. */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { openStateBackend } from "../../src/state/factory.js";
import type { StateBackend, StateBackendOptions } from "../../src/state/interfaces.js";

export const REDIS_URL = process.env.AGENT_SAFE_TEST_REDIS ?? "redis://127.0.0.1:6379";

export interface TestBackend {
  name: "memory" | "sqlite" | "redis";
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

/** The three adapters. `serverTime: false` on Redis so a test can drive the clock. */
export function testBackends(): TestBackend[] {
  const opened: StateBackend[] = [];
  const dirs: string[] = [];
  const prefixes: string[] = [];
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
