/**
 * In-process state: one process only (a kill switch set elsewhere never reaches it). Bounded:
 * each kind holds at most `maxCallers` live keys, and expired keys are evicted as it goes.
 *
 * The transitions are those of `../logic.ts` (the SQLite adapter's, and the Redis scripts'),
 * on per-key logs that are consumed from a head index instead of spliced from the front: a hot
 * caller's log of thousands of entries costs O(1) per call, not a copy of the whole log.
 *
 * Every operation also has a synchronous form (`sync()`): the guards use it to decide without a
 * promise per step. It is offered only while the stores are this module's own, unpatched — a test
 * double that replaces a method is then always called.
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
import type { NonceStore } from "../types.js";
import { BoundedMap } from "./bounded-map.js";

export const MEMORY_DEFAULT_MAX_CALLERS = 100_000;
export const MEMORY_DEFAULT_MAX_NONCES = 1_000_000;

/** Dead entries at the head of a log that are compacted away once they are half of it. */
const COMPACT_MIN = 16;

/** A log of times, oldest first; `t[head…]` are live. */
interface TimeLog {
  head: number;
  t: number[];
}

/** A log of (time, score) pairs, oldest first, and the sum of the live scores. */
interface ScoreLog {
  head: number;
  /** `[t0, s0, t1, s1, …]` */
  e: number[];
  sum: number;
}

/** A deny log and the moment the breaker opened (NaN: closed). */
interface BreakerLog extends TimeLog {
  openSince: number;
}

/** Drops `t[head…]` entries older than `cutoff` (strict: one at the cutoff stays). */
function pruneTimes(log: TimeLog, cutoff: number): void {
  const t = log.t;
  let h = log.head;
  while (h < t.length && t[h]! < cutoff) h++;
  if (h === t.length) {
    t.length = 0;
    h = 0;
  } else if (h >= COMPACT_MIN && h * 2 >= t.length) {
    t.splice(0, h);
    h = 0;
  }
  log.head = h;
}

/** The synchronous forms of the memory stores (same arguments and results as the async ones). */
export interface MemorySyncStores {
  acquire(key: string, limit: number, windowMs: number, nowMs: number): WindowResult;
  breakerCheck(key: string, cooldownMs: number, nowMs: number): BreakerStatus;
  recordDeny(
    key: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    nowMs: number,
  ): BreakerRecord;
  riskAdd(key: string, score: number, windowMs: number, nowMs: number): RiskTotal;
  /** Whether any flag is set at all (expired or not): when false, every flag read is null. */
  hasFlags(): boolean;
  flags(keys: readonly string[]): (string | null)[];
}

class MemoryWindows implements WindowStore {
  private windowMs = 0;
  readonly map: BoundedMap<TimeLog>;

  constructor(cap: number) {
    this.map = new BoundedMap(cap, (log) => log.t[log.t.length - 1]! + this.windowMs);
  }

  async acquire(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    return this.acquireSync(key, limit, windowMs, nowMs);
  }

  acquireSync(key: string, limit: number, windowMs: number, nowMs: number): WindowResult {
    this.windowMs = windowMs;
    const log = this.map.get(key);
    if (log === undefined) {
      // A fresh array of exactly one element: `[]` then push would reserve 17.
      this.map.insert(key, { head: 0, t: [nowMs] }, nowMs);
      return { allowed: true, count: 1, nowMs };
    }
    pruneTimes(log, nowMs - windowMs);
    let count = log.t.length - log.head;
    const allowed = count < limit;
    if (allowed) {
      log.t.push(nowMs);
      count++;
    } else if (count === 0) {
      // Nothing live and nothing recorded (a limit below 1): the key holds nothing.
      this.map.delete(key);
    }
    return { allowed, count, nowMs };
  }
}

class MemoryBreakers implements BreakerStore {
  private windowMs = 0;
  private cooldownMs = 0;
  readonly map: BoundedMap<BreakerLog>;

  constructor(cap: number) {
    this.map = new BoundedMap(cap, (s) => {
      const lastDeny = s.t.length === 0 ? Number.NEGATIVE_INFINITY : s.t[s.t.length - 1]! + this.windowMs;
      return Number.isNaN(s.openSince) ? lastDeny : Math.max(lastDeny, s.openSince + this.cooldownMs);
    });
  }

  async check(key: string, cooldownMs: number, nowMs: number): Promise<BreakerStatus> {
    return this.checkSync(key, cooldownMs, nowMs);
  }

  checkSync(key: string, cooldownMs: number, nowMs: number): BreakerStatus {
    const state = this.map.get(key);
    if (state === undefined || Number.isNaN(state.openSince)) return { open: false, remainingMs: 0, nowMs };
    const elapsed = nowMs - state.openSince;
    if (elapsed < cooldownMs) return { open: true, remainingMs: cooldownMs - elapsed, nowMs };
    // The cooldown is over: close it and forget the denies that opened it.
    this.map.delete(key);
    return { open: false, remainingMs: 0, nowMs };
  }

  async recordDeny(
    key: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    nowMs: number,
  ): Promise<BreakerRecord> {
    return this.recordDenySync(key, threshold, windowMs, cooldownMs, nowMs);
  }

  recordDenySync(
    key: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    nowMs: number,
  ): BreakerRecord {
    this.windowMs = windowMs;
    this.cooldownMs = cooldownMs;
    let state = this.map.get(key);
    if (state === undefined) {
      // A new key is stored only once it holds its deny, so a refused one leaves no trace.
      state = { head: 0, t: [nowMs], openSince: threshold <= 1 ? nowMs : Number.NaN };
      this.map.insert(key, state, nowMs);
      return { opened: threshold <= 1, denies: 1, nowMs };
    }
    pruneTimes(state, nowMs - windowMs);
    state.t.push(nowMs);
    const denies = state.t.length - state.head;
    const opened = denies >= threshold;
    if (opened) state.openSince = nowMs;
    return { opened, denies, nowMs };
  }
}

class MemoryRisk implements RiskWindowStore {
  private windowMs = 0;
  readonly map: BoundedMap<ScoreLog>;

  constructor(cap: number) {
    this.map = new BoundedMap(cap, (s) => s.e[s.e.length - 2]! + this.windowMs);
  }

  async add(key: string, score: number, windowMs: number, nowMs: number): Promise<RiskTotal> {
    return this.addSync(key, score, windowMs, nowMs);
  }

  addSync(key: string, score: number, windowMs: number, nowMs: number): RiskTotal {
    this.windowMs = windowMs;
    const state = this.map.get(key);
    if (state === undefined) {
      this.map.insert(key, { head: 0, e: [nowMs, score], sum: score }, nowMs);
      return { score, count: 1, nowMs };
    }
    prune(state, nowMs - windowMs);
    state.e.push(nowMs, score);
    state.sum += score;
    return { score: state.sum, count: (state.e.length - state.head) / 2, nowMs };
  }

  async total(key: string, windowMs: number, nowMs: number): Promise<RiskTotal> {
    const state = this.map.get(key);
    if (state === undefined) return { score: 0, count: 0, nowMs };
    prune(state, nowMs - windowMs);
    const count = (state.e.length - state.head) / 2;
    if (count === 0) {
      this.map.delete(key);
      return { score: 0, count: 0, nowMs };
    }
    return { score: state.sum, count, nowMs };
  }
}

/** Drops (time, score) pairs older than `cutoff` (strict), keeping the sum of the rest. */
function prune(log: ScoreLog, cutoff: number): void {
  const e = log.e;
  let h = log.head;
  let sum = log.sum;
  while (h < e.length && e[h]! < cutoff) {
    sum -= e[h + 1]!;
    h += 2;
  }
  if (h === e.length) {
    e.length = 0;
    h = 0;
  } else if (h >= COMPACT_MIN && h * 2 >= e.length) {
    e.splice(0, h);
    h = 0;
  }
  log.head = h;
  log.sum = sum;
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
    this.used.insert(nonce, Math.max(expiresAtMs, now) + NONCE_GRACE_MS, now);
    return true;
  }

  async isUsed(nonce: string): Promise<boolean> {
    return this.used.get(nonce) !== undefined;
  }
}

class MemoryFlags implements FlagStore {
  readonly flags = new Map<string, { value: string; expiresAtMs: number | null }>();

  constructor(private readonly clock: () => number) {}

  async set(key: string, value: string, ttlMs: number | null = null): Promise<void> {
    this.flags.set(key, { value, expiresAtMs: ttlMs === null ? null : this.clock() + ttlMs });
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    return this.getSync(keys);
  }

  getSync(keys: readonly string[]): (string | null)[] {
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
  private readonly own: {
    windows: MemoryWindows;
    breakers: MemoryBreakers;
    risk: MemoryRisk;
    flags: MemoryFlags;
  };
  private readonly syncStores: MemorySyncStores;

  constructor(options: MemoryBackendOptions = {}) {
    const cap = options.maxCallers ?? MEMORY_DEFAULT_MAX_CALLERS;
    const clock = options.clock ?? Date.now;
    const windows = new MemoryWindows(cap);
    const breakers = new MemoryBreakers(cap);
    const risk = new MemoryRisk(cap);
    const flags = new MemoryFlags(clock);
    this.own = { windows, breakers, risk, flags };
    this.windows = windows;
    this.breakers = breakers;
    this.risk = risk;
    this.nonces = new MemoryNonces(options.maxNonces ?? MEMORY_DEFAULT_MAX_NONCES, clock);
    this.flags = flags;
    this.syncStores = {
      acquire: (key, limit, windowMs, nowMs) => windows.acquireSync(key, limit, windowMs, nowMs),
      breakerCheck: (key, cooldownMs, nowMs) => breakers.checkSync(key, cooldownMs, nowMs),
      recordDeny: (key, threshold, windowMs, cooldownMs, nowMs) =>
        breakers.recordDenySync(key, threshold, windowMs, cooldownMs, nowMs),
      riskAdd: (key, score, windowMs, nowMs) => risk.addSync(key, score, windowMs, nowMs),
      hasFlags: () => flags.flags.size > 0,
      flags: (keys) => flags.getSync(keys),
    };
  }

  /**
   * The synchronous stores, or null when any store or store method has been replaced since
   * construction (a test double must be called; it may fail or answer differently).
   */
  sync(): MemorySyncStores | null {
    const o = this.own;
    return this.windows === o.windows &&
      this.breakers === o.breakers &&
      this.risk === o.risk &&
      this.flags === o.flags &&
      o.windows.acquire === MemoryWindows.prototype.acquire &&
      o.breakers.check === MemoryBreakers.prototype.check &&
      o.breakers.recordDeny === MemoryBreakers.prototype.recordDeny &&
      o.risk.add === MemoryRisk.prototype.add &&
      o.flags.get === MemoryFlags.prototype.get
      ? this.syncStores
      : null;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
