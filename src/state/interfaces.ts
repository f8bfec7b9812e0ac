/**
 * The kinds of per-caller state the guards keep, one small interface each, and the backend that
 * bundles them. Every method is async so that network stores (Redis, PostgreSQL) fit; every
 * method is atomic on its own (one transaction or one Lua script), so several processes or
 * replicas sharing a store see one consistent history.
 *
 * Times are epoch milliseconds. Each call takes the caller's `nowMs`; a store that keeps its own
 * clock (Redis with server time, the default) uses that instead and reports the time it used
 * as `nowMs` in the result, so all replicas agree on one clock.
 *
 * Errors: `StateUnavailableError` when the store cannot be reached or fails; `StateCapacityError`
 * when a call would add a new key to a kind whose cap is full of live state. Neither ever
 * degrades into "allowed".
 */
import type { NonceStore } from "./types.js";

/** A sliding-window log of events per key: the rate limiter's request timestamps. */
export interface WindowStore {
  /**
   * Atomically forgets this key's events older than `nowMs - windowMs` (an event exactly at the
   * cutoff is kept); then, when fewer than `limit` remain, records one at now (`allowed`).
   * A refused call records nothing.
   */
  acquire(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult>;
}

export interface WindowResult {
  allowed: boolean;
  /** Events in the window after the call (the recorded one included). */
  count: number;
  /** The time the store used. */
  nowMs: number;
}

/** A circuit breaker per key: a log of recent denies and the moment it opened. */
export interface BreakerStore {
  /**
   * Open with less than `cooldownMs` elapsed: reports it open. Open with the cooldown elapsed:
   * closes it and clears the deny log. Never creates state.
   */
  check(key: string, cooldownMs: number, nowMs: number): Promise<BreakerStatus>;
  /**
   * Forgets denies older than `windowMs`, records one at now, and opens the breaker (open since
   * now) when at least `threshold` remain.
   */
  recordDeny(
    key: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    nowMs: number,
  ): Promise<BreakerRecord>;
}

export interface BreakerStatus {
  open: boolean;
  /** Cooldown left when open, else 0. */
  remainingMs: number;
  nowMs: number;
}

export interface BreakerRecord {
  /** Whether this deny opened (or re-opened) the breaker. */
  opened: boolean;
  /** Denies in the window, this one included. */
  denies: number;
  nowMs: number;
}

/** Timestamped integer scores per key, summed over a sliding window: cumulative risk. */
export interface RiskWindowStore {
  /** Forgets entries older than `nowMs - windowMs` (strict), records `score` at now, returns the sum. */
  add(key: string, score: number, windowMs: number, nowMs: number): Promise<RiskTotal>;
  /** The sum over the window, recording nothing. */
  total(key: string, windowMs: number, nowMs: number): Promise<RiskTotal>;
}

export interface RiskTotal {
  score: number;
  /** Entries in the window. */
  count: number;
  nowMs: number;
}

/** Operator flags (the kill switch): small string values, optionally expiring. */
export interface FlagStore {
  /** Sets `key` to `value`, expiring after `ttlMs` (never when null). */
  set(key: string, value: string, ttlMs?: number | null): Promise<void>;
  /** The live values of `keys`, in order (`null` when unset or expired), in one round trip. */
  get(keys: readonly string[]): Promise<(string | null)[]>;
  /** Returns whether the key was set. */
  delete(key: string): Promise<boolean>;
  /** Every live flag whose key starts with `prefix`. */
  list(prefix?: string): Promise<FlagEntry[]>;
}

export interface FlagEntry {
  key: string;
  value: string;
  /** Epoch ms, or null when it never expires. */
  expiresAtMs: number | null;
}

export type StateKind = "memory" | "sqlite" | "redis" | "postgres";

/** One store holding every kind of state, as `openStateBackend` returns it. */
export interface StateBackend {
  readonly kind: StateKind;
  /** Where the state lives, for messages (`sqlite:/srv/.agent-safe/state.db`; passwords removed). */
  readonly description: string;
  /** Whether every process of the machine (sqlite) or every replica (redis) shares this state. */
  readonly shared: boolean;
  readonly windows: WindowStore;
  readonly breakers: BreakerStore;
  readonly risk: RiskWindowStore;
  readonly nonces: NonceStore;
  readonly flags: FlagStore;
  /** Resolves when the store answers; throws `StateUnavailableError` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Options of `openStateBackend`, matching the `state_options` settings. */
export interface StateBackendOptions {
  /** Base for a relative `sqlite:` path (the project root). Default: the working directory. */
  baseDir?: string;
  /**
   * Cap on distinct live keys per kind of per-caller state (rate windows, breakers, risk
   * windows). Default 100,000 in memory, 1,000,000 in SQLite, Redis and PostgreSQL.
   */
  maxCallers?: number;
  /** Cap on live nonces in memory (default 1,000,000); SQLite and Redis keep them on disk/server. */
  maxNonces?: number;
  /** Redis: namespace of every key (default `agent-safe:`); use a `{hash tag}` on a cluster. */
  keyPrefix?: string;
  /**
   * Redis command and connect timeout, SQLite busy timeout, PostgreSQL connect and query timeout,
   * in ms (default 1000, 2000 and 2000).
   */
  timeoutMs?: number;
  /** Redis: use the server's clock (TIME) rather than the caller's `nowMs`. Default true. */
  serverTime?: boolean;
}

/** A state URL or option that cannot work (a typo, a bad URL). */
export class StateConfigError extends Error {
  override name = "StateConfigError";
}

/** How long a consumed nonce is kept after its ticket expires (clock skew between validators). */
export const NONCE_GRACE_MS = 300_000;
