/**
 * In-process state: one process only (a kill switch set elsewhere never reaches it). Bounded:
 * each kind holds at most `maxCallers` live keys, and expired keys are evicted as it goes.
 */
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
import { breakerCheck, breakerRecordDeny, riskAdd, windowAcquire } from "../logic.js";
import type { NonceStore } from "../types.js";
import { BoundedMap } from "./bounded-map.js";

export const MEMORY_DEFAULT_MAX_CALLERS = 100_000;
export const MEMORY_DEFAULT_MAX_NONCES = 1_000_000;

class MemoryWindows implements WindowStore {
  private windowMs = 0;
  private readonly map: BoundedMap<number[]>;

  constructor(cap: number) {
    this.map = new BoundedMap(cap, (log) => log[log.length - 1]! + this.windowMs);
  }

  async acquire(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    this.windowMs = windowMs;
    const log = this.map.get(key);
    if (log === undefined) {
      // A fresh array of exactly one element: `[]` then push would reserve 17.
      this.map.set(key, [nowMs], nowMs);
      return { allowed: true, count: 1, nowMs };
    }
    const t = windowAcquire(log, limit, windowMs, nowMs);
    if (t.state === null) this.map.delete(key);
    else if (t.result.allowed) this.map.set(key, t.state, nowMs);
    return { ...t.result, nowMs };
  }
}

class MemoryBreakers implements BreakerStore {
  private windowMs = 0;
  private cooldownMs = 0;
  private readonly map: BoundedMap<number[]>;

  constructor(cap: number) {
    this.map = new BoundedMap(cap, (s) => {
      const openSince = s[0]!;
      const lastDeny = s[s.length - 1]! + this.windowMs;
      return Number.isNaN(openSince) ? lastDeny : Math.max(lastDeny, openSince + this.cooldownMs);
    });
  }

  async check(key: string, cooldownMs: number, nowMs: number): Promise<BreakerStatus> {
    const state = this.map.get(key);
    if (state === undefined) return { open: false, remainingMs: 0, nowMs };
    const t = breakerCheck(state, cooldownMs, nowMs);
    if (t.state === null) this.map.delete(key);
    return { ...t.result, nowMs };
  }

  async recordDeny(
    key: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    nowMs: number,
  ): Promise<BreakerRecord> {
    this.windowMs = windowMs;
    this.cooldownMs = cooldownMs;
    // A new key starts from a fresh array, so a refused one leaves no trace.
    const state = this.map.get(key) ?? [Number.NaN];
    const t = breakerRecordDeny(state, threshold, windowMs, cooldownMs, nowMs);
    this.map.set(key, state, nowMs);
    return { ...t.result, nowMs };
  }
}

class MemoryRisk implements RiskWindowStore {
  private windowMs = 0;
  private readonly map: BoundedMap<number[]>;

  constructor(cap: number) {
    this.map = new BoundedMap(cap, (s) => s[s.length - 2]! + this.windowMs);
  }

  async add(key: string, score: number, windowMs: number, nowMs: number): Promise<RiskTotal> {
    this.windowMs = windowMs;
    const state = this.map.get(key);
    if (state === undefined) {
      this.map.set(key, [score, nowMs, score], nowMs);
      return { score, count: 1, nowMs };
    }
    const t = riskAdd(state, score, windowMs, nowMs);
    this.map.set(key, state, nowMs);
    return { ...t.result, nowMs };
  }

  async total(key: string, windowMs: number, nowMs: number): Promise<RiskTotal> {
    const state = this.map.get(key);
    if (state === undefined) return { score: 0, count: 0, nowMs };
    const t = riskAdd(state, null, windowMs, nowMs);
    if (t.state === null) this.map.delete(key);
    return { ...t.result, nowMs };
  }
}

class MemoryNonces implements NonceStore {
  private readonly used: BoundedMap<number>;

  constructor(
    cap: number,
    private readonly clock: () => number,
  ) {
    this.used = new BoundedMap(cap, (keepUntil) => keepUntil);
  }

  async consume(nonce: string, expiresAtMs: number): Promise<boolean> {
    if (this.used.get(nonce) !== undefined) return false;
    const now = this.clock();
    this.used.set(nonce, Math.max(expiresAtMs, now) + NONCE_GRACE_MS, now);
    return true;
  }

  async isUsed(nonce: string): Promise<boolean> {
    return this.used.get(nonce) !== undefined;
  }
}

class MemoryFlags implements FlagStore {
  private readonly flags = new Map<string, { value: string; expiresAtMs: number | null }>();

  constructor(private readonly clock: () => number) {}

  async set(key: string, value: string, ttlMs: number | null = null): Promise<void> {
    this.flags.set(key, { value, expiresAtMs: ttlMs === null ? null : this.clock() + ttlMs });
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    if (this.flags.size === 0) return keys.map(() => null);
    const now = this.clock();
    return keys.map((k) => {
      const f = this.flags.get(k);
      return f === undefined || (f.expiresAtMs !== null && f.expiresAtMs <= now) ? null : f.value;
    });
  }

  async delete(key: string): Promise<boolean> {
    const live = (await this.get([key]))[0] !== null;
    this.flags.delete(key);
    return live;
  }

  async list(prefix = ""): Promise<FlagEntry[]> {
    const now = this.clock();
    const out: FlagEntry[] = [];
    for (const [key, f] of this.flags) {
      if (f.expiresAtMs !== null && f.expiresAtMs <= now) this.flags.delete(key);
      else if (key.startsWith(prefix)) out.push({ key, value: f.value, expiresAtMs: f.expiresAtMs });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

export interface MemoryBackendOptions {
  maxCallers?: number;
  maxNonces?: number;
  /** The clock of nonce and flag expiry (guard calls pass their own time). */
  clock?: () => number;
}

export class MemoryBackend implements StateBackend {
  readonly kind = "memory" as const;
  readonly description = "memory";
  readonly shared = false;
  readonly windows: WindowStore;
  readonly breakers: BreakerStore;
  readonly risk: RiskWindowStore;
  readonly nonces: NonceStore;
  readonly flags: FlagStore;

  constructor(options: MemoryBackendOptions = {}) {
    const cap = options.maxCallers ?? MEMORY_DEFAULT_MAX_CALLERS;
    const clock = options.clock ?? Date.now;
    this.windows = new MemoryWindows(cap);
    this.breakers = new MemoryBreakers(cap);
    this.risk = new MemoryRisk(cap);
    this.nonces = new MemoryNonces(options.maxNonces ?? MEMORY_DEFAULT_MAX_NONCES, clock);
    this.flags = new MemoryFlags(clock);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
