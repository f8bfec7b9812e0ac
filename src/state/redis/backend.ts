/**
 * State in Redis, shared by every replica: one atomic Lua script per operation, judged by the
 * server's clock, keys under a configurable prefix, every key with a TTL. Fails fast and closed:
 * no offline queue, no retried commands, a command timeout; every failure is a
 * `StateUnavailableError`, and the client reconnects in the background (at most 1 s apart), so
 * decisions resume as soon as the server is back.
 */
import { createHash, randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type {
  BreakerRecord,
  BreakerStatus,
  BreakerStore,
  FlagEntry,
  FlagStore,
  RiskTotal,
  RiskWindowStore,
  StateBackend,
  WindowResult,
  WindowStore,
} from "../interfaces.js";
import { NONCE_GRACE_MS } from "../interfaces.js";
import { type NonceStore, StateCapacityError, StateUnavailableError } from "../types.js";
import * as lua from "./scripts.js";

export const REDIS_DEFAULT_MAX_CALLERS = 1_000_000;
export const REDIS_DEFAULT_TIMEOUT_MS = 1000;
export const REDIS_DEFAULT_PREFIX = "agent-safe:";

export interface RedisBackendOptions {
  keyPrefix?: string;
  maxCallers?: number;
  timeoutMs?: number;
  serverTime?: boolean;
}

type Reply = (number | string | null)[];

/** Runs scripts by SHA, loading them on the first NOSCRIPT; maps every failure. */
class ScriptRunner {
  private readonly shas = new Map<string, string>();
  lastError: Error | null = null;
  /** A configuration error the client would otherwise shrug off (it stays on database 0). */
  fatal: Error | null = null;

  constructor(
    readonly client: Redis,
    readonly where: string,
  ) {}

  async run(script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<Reply> {
    let sha = this.shas.get(script);
    if (sha === undefined) {
      sha = createHash("sha1").update(script).digest("hex");
      this.shas.set(script, sha);
    }
    this.ensureReady();
    try {
      try {
        return (await this.client.evalsha(sha, keys.length, ...keys, ...args)) as Reply;
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
        return (await this.client.eval(script, keys.length, ...keys, ...args)) as Reply;
      }
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async call<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    this.ensureReady();
    try {
      return await fn(this.client);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** Not connected: fail now, without queueing a command (and its timeout timer) in the client. */
  private ensureReady(): void {
    if (this.fatal !== null)
      throw new StateUnavailableError(`Redis ${this.where}: ${this.fatal.message}`, { cause: this.fatal });
    if (this.client.status !== "ready") throw this.unavailable(new Error(`connection ${this.client.status}`));
  }

  private unavailable(err: unknown): StateUnavailableError {
    const message = err instanceof Error ? err.message : String(err);
    const status = this.client.status;
    let why: string;
    if (status !== "ready") {
      const last = this.lastError?.message;
      why = `not connected (${status}${last !== undefined ? `: ${last}` : ""})`;
    } else if (/timed out/i.test(message)) why = `no reply within the command timeout (${message})`;
    else why = message;
    return new StateUnavailableError(`Redis ${this.where}: ${why}`, { cause: err });
  }
}

const unique = () => randomBytes(6).toString("hex");
const num = (v: number | string | null | undefined): number => Number(v ?? 0);

class Clock {
  constructor(private readonly serverTime: boolean) {}
  /** ARGV[1] of every guard script: '' for the server's clock, else the caller's µs. */
  arg(nowMs: number): string {
    return this.serverTime ? "" : String(Math.round(nowMs * 1000));
  }
}

const us = (ms: number) => Math.round(ms * 1000);

class RedisWindows implements WindowStore {
  constructor(
    private readonly r: ScriptRunner,
    private readonly prefix: string,
    private readonly cap: number,
    private readonly clock: Clock,
  ) {}

  async acquire(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    const reply = await this.r.run(
      lua.WINDOW_ACQUIRE,
      [`${this.prefix}rl:${key}`, `${this.prefix}rl-index`],
      [this.clock.arg(nowMs), limit, us(windowMs), this.cap, key, unique()],
    );
    if (num(reply[0]) === -1) throw new StateCapacityError();
    return { allowed: num(reply[0]) === 1, count: num(reply[1]), nowMs: num(reply[2]) / 1000 };
  }
}

class RedisBreakers implements BreakerStore {
  constructor(
    private readonly r: ScriptRunner,
    private readonly prefix: string,
    private readonly cap: number,
    private readonly clock: Clock,
  ) {}

  private keys(key: string): string[] {
    return [`${this.prefix}cb:${key}`, `${this.prefix}cb-open:${key}`, `${this.prefix}cb-index`];
  }

  async check(key: string, cooldownMs: number, nowMs: number): Promise<BreakerStatus> {
    const reply = await this.r.run(lua.BREAKER_CHECK, this.keys(key), [
      this.clock.arg(nowMs),
      us(cooldownMs),
      key,
    ]);
    return { open: num(reply[0]) === 1, remainingMs: num(reply[1]) / 1000, nowMs: num(reply[2]) / 1000 };
  }

  async recordDeny(
    key: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    nowMs: number,
  ): Promise<BreakerRecord> {
    const reply = await this.r.run(lua.BREAKER_RECORD_DENY, this.keys(key), [
      this.clock.arg(nowMs),
      threshold,
      us(windowMs),
      us(cooldownMs),
      this.cap,
      key,
      unique(),
    ]);
    if (num(reply[0]) === -1) throw new StateCapacityError();
    return { opened: num(reply[0]) === 1, denies: num(reply[1]), nowMs: num(reply[2]) / 1000 };
  }
}

class RedisRisk implements RiskWindowStore {
  constructor(
    private readonly r: ScriptRunner,
    private readonly prefix: string,
    private readonly cap: number,
    private readonly clock: Clock,
  ) {}

  async add(key: string, score: number, windowMs: number, nowMs: number): Promise<RiskTotal> {
    if (!Number.isSafeInteger(score)) throw new TypeError(`risk scores must be integers, got ${score}`);
    const reply = await this.r.run(
      lua.RISK_ADD,
      [`${this.prefix}risk:${key}`, `${this.prefix}risk-sum:${key}`, `${this.prefix}risk-index`],
      [this.clock.arg(nowMs), score, us(windowMs), this.cap, key, unique()],
    );
    if (num(reply[0]) === -1) throw new StateCapacityError();
    return { score: num(reply[1]), count: num(reply[2]), nowMs: num(reply[3]) / 1000 };
  }

  async total(key: string, windowMs: number, nowMs: number): Promise<RiskTotal> {
    const reply = await this.r.run(
      lua.RISK_TOTAL,
      [`${this.prefix}risk:${key}`, `${this.prefix}risk-sum:${key}`],
      [this.clock.arg(nowMs), us(windowMs)],
    );
    return { score: num(reply[0]), count: num(reply[1]), nowMs: num(reply[2]) / 1000 };
  }
}

class RedisNonces implements NonceStore {
  constructor(
    private readonly r: ScriptRunner,
    private readonly prefix: string,
  ) {}

  async consume(nonce: string, expiresAtMs: number): Promise<boolean> {
    const reply = (await this.r.run(
      lua.NONCE_CONSUME,
      [`${this.prefix}nonce:${nonce}`],
      [Math.ceil(expiresAtMs), NONCE_GRACE_MS],
    )) as unknown;
    return reply === 1;
  }

  async isUsed(nonce: string): Promise<boolean> {
    return (await this.r.call((c) => c.exists(`${this.prefix}nonce:${nonce}`))) === 1;
  }
}

class RedisFlags implements FlagStore {
  private readonly index: string;
  private readonly valuePrefix: string;

  constructor(
    private readonly r: ScriptRunner,
    prefix: string,
  ) {
    this.index = `${prefix}flags`;
    this.valuePrefix = `${prefix}flag:`;
  }

  async set(key: string, value: string, ttlMs: number | null = null): Promise<void> {
    const ttl = ttlMs === null ? "" : String(Math.max(1, Math.ceil(ttlMs)));
    await this.r.run(lua.FLAG_SET, [this.valuePrefix + key, this.index], [key, value, ttl]);
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    return this.r.call((c) => c.mget(...keys.map((k) => this.valuePrefix + k)));
  }

  async delete(key: string): Promise<boolean> {
    const reply = (await this.r.run(lua.FLAG_DELETE, [this.valuePrefix + key, this.index], [key])) as unknown;
    return reply === 1;
  }

  async list(prefix = ""): Promise<FlagEntry[]> {
    const reply = await this.r.run(lua.FLAG_LIST, [this.index], [this.valuePrefix]);
    const out: FlagEntry[] = [];
    for (let i = 0; i + 2 < reply.length; i += 3) {
      const key = String(reply[i]);
      if (!key.startsWith(prefix)) continue;
      const expiry = num(reply[i + 2]);
      out.push({ key, value: String(reply[i + 1]), expiresAtMs: expiry < 0 ? null : expiry });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

export class RedisBackend implements StateBackend {
  readonly kind = "redis" as const;
  readonly shared = true;
  readonly description: string;
  readonly windows: WindowStore;
  readonly breakers: BreakerStore;
  readonly risk: RiskWindowStore;
  readonly nonces: NonceStore;
  readonly flags: FlagStore;
  private readonly runner: ScriptRunner;

  private constructor(client: Redis, description: string, options: RedisBackendOptions) {
    this.description = description;
    const where = hostOf(description);
    this.runner = new ScriptRunner(client, where);
    client.on("error", (err: Error) => {
      this.runner.lastError = err;
      if (/DB index is out of range/i.test(err.message)) this.runner.fatal = err;
    });
    client.on("ready", () => {
      this.runner.lastError = null;
    });
    const prefix = options.keyPrefix ?? REDIS_DEFAULT_PREFIX;
    const cap = options.maxCallers ?? REDIS_DEFAULT_MAX_CALLERS;
    const clock = new Clock(options.serverTime ?? true);
    this.windows = new RedisWindows(this.runner, prefix, cap, clock);
    this.breakers = new RedisBreakers(this.runner, prefix, cap, clock);
    this.risk = new RedisRisk(this.runner, prefix, cap, clock);
    this.nonces = new RedisNonces(this.runner, prefix);
    this.flags = new RedisFlags(this.runner, prefix);
  }

  /**
   * Connects to `url` (waiting at most the timeout). A server that is down does not make this
   * fail: operations throw `StateUnavailableError` until it comes back.
   */
  static async connect(url: string, options: RedisBackendOptions = {}): Promise<RedisBackend> {
    const timeout = options.timeoutMs ?? REDIS_DEFAULT_TIMEOUT_MS;
    const client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: timeout,
      connectTimeout: timeout,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      disconnectTimeout: 200,
      connectionName: "agent-safe",
      disableClientInfo: true,
    });
    const backend = new RedisBackend(client, redactUrl(url), options);
    await client.connect().catch((err: Error) => {
      // The 'error' event has the cause (ECONNREFUSED…); the rejection only says "closed".
      backend.runner.lastError ??= err;
    });
    return backend;
  }

  /** The underlying client, for tests and diagnostics. */
  get client(): Redis {
    return this.runner.client;
  }

  async ping(): Promise<void> {
    await this.runner.call((c) => c.ping());
  }

  async close(): Promise<void> {
    this.runner.client.disconnect(false);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`. */
export function redactUrl(url: string): string {
  return url
    .replace(/^(rediss?:\/\/[^:/@]*:)[^@]*@/, "$1***@")
    .replace(/^(rediss?:\/\/)([^:@/]+)@/, "$1***@");
}
