/**
 * State in PostgreSQL, shared by every replica that points at the database. The guard kinds keep
 * one row per (kind, key) holding the same number arrays as the SQLite adapter, changed in one
 * transaction per operation under the row's lock (`SELECT … FOR UPDATE`), so the transitions are
 * the pure functions of `logic.ts` — the ones every adapter is tested against. A per-kind row
 * count enforces the cap; expired rows are evicted when a new key needs room (skipping rows other
 * transactions hold) and swept every few seconds. Nonces are one `INSERT … ON CONFLICT DO NOTHING`;
 * flags a small table.
 *
 * Times are the caller's `nowMs` (as with SQLite): keep the replicas' clocks in sync (NTP).
 * Fails closed: an unreachable or failing server is a `StateUnavailableError` (connect and query
 * timeouts bounded by `timeoutMs`), and the pool reconnects on the next call once it is back.
 */
import type {
  BreakerStore,
  FlagEntry,
  FlagStore,
  RiskWindowStore,
  StateBackend,
  WindowStore,
} from "../interfaces.js";
import { NONCE_GRACE_MS } from "../interfaces.js";
import { RowBreakers, RowRisk, RowWindows, type Step } from "../row-stores.js";
import { decode, encode, GUARD_KINDS, type GuardKind } from "../sqlite/connection.js";
import { type NonceStore, StateCapacityError } from "../types.js";
import {
  openPool,
  type PgPool,
  type PgPoolClient,
  type PgTarget,
  parsePostgresUrl,
  qualify,
  query,
  SchemaOnce,
  withTransaction,
} from "./driver.js";

export const POSTGRES_DEFAULT_MAX_CALLERS = 1_000_000;
export const POSTGRES_DEFAULT_TIMEOUT_MS = 2000;
const SWEEP_INTERVAL_MS = 5000;
const SWEEP_BATCH = 2000;

export interface PostgresBackendOptions {
  maxCallers?: number;
  timeoutMs?: number;
}

interface Tables {
  guard: string;
  counts: string;
  nonces: string;
  flags: string;
}

function tables(schema: string | null): Tables {
  return {
    guard: qualify(schema, "agent_safe_guard_state"),
    counts: qualify(schema, "agent_safe_guard_counts"),
    nonces: qualify(schema, "agent_safe_nonces"),
    flags: qualify(schema, "agent_safe_flags"),
  };
}

function ddl(t: Tables): string {
  return `
CREATE TABLE IF NOT EXISTS ${t.guard} (
  kind text NOT NULL, key text NOT NULL, data bytea NOT NULL, expires_at double precision NOT NULL,
  PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS agent_safe_guard_state_expiry ON ${t.guard} (kind, expires_at);
CREATE TABLE IF NOT EXISTS ${t.counts} (kind text PRIMARY KEY, n bigint NOT NULL);
INSERT INTO ${t.counts} (kind, n) VALUES ('window', 0), ('breaker', 0), ('risk', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS ${t.nonces} (nonce text PRIMARY KEY, keep_until double precision NOT NULL);
CREATE INDEX IF NOT EXISTS agent_safe_nonces_expiry ON ${t.nonces} (keep_until);
CREATE TABLE IF NOT EXISTS ${t.flags} (key text PRIMARY KEY, value text NOT NULL, expires_at double precision);
`;
}

/** Raised inside a transaction when a concurrent insert created the key first: run it again. */
class KeyRace extends Error {}

const ours = (err: unknown) => err instanceof StateCapacityError || err instanceof KeyRace;

class Db {
  private readonly schemaOnce: SchemaOnce;

  constructor(
    readonly pool: PgPool,
    readonly where: string,
    readonly t: Tables,
    schema: string | null,
  ) {
    this.schemaOnce = new SchemaOnce(pool, where, schema, ddl(t));
  }

  async ready(): Promise<void> {
    await this.schemaOnce.ensure();
  }

  async query<R>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    await this.ready();
    return (await query<R>(this.pool, this.where, text, values)).rows;
  }

  async tx<R>(fn: (c: PgPoolClient) => Promise<R>): Promise<R> {
    await this.ready();
    return withTransaction(this.pool, this.where, ours, fn);
  }
}

/** The guard kinds' operations: one transaction each, the key's row locked. */
class GuardTables {
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    private readonly cap: number,
  ) {}

  async run<R>(
    kind: GuardKind,
    key: string,
    now: number,
    fn: (state: number[] | null) => Step<R>,
  ): Promise<R> {
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) await this.sweep(now);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.tx((c) => this.apply(c, kind, key, now, fn));
      } catch (err) {
        if (err instanceof KeyRace && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** The key's state as of now, read without a lock. */
  async peek(kind: GuardKind, key: string): Promise<number[] | null> {
    const rows = await this.db.query<{ data: Buffer }>(
      `SELECT data FROM ${this.db.t.guard} WHERE kind = $1 AND key = $2`,
      [kind, key],
    );
    return rows[0] === undefined ? null : decode(rows[0].data);
  }

  private async apply<R>(
    c: PgPoolClient,
    kind: GuardKind,
    key: string,
    now: number,
    fn: (state: number[] | null) => Step<R>,
  ): Promise<R> {
    const { guard, counts } = this.db.t;
    const row = (
      await c.query<{ data: Buffer }>(`SELECT data FROM ${guard} WHERE kind = $1 AND key = $2 FOR UPDATE`, [
        kind,
        key,
      ])
    ).rows[0];
    const s = fn(row === undefined ? null : decode(row.data));
    if (!s.write) return s.result;
    if (s.state === null) {
      if (row !== undefined) {
        await c.query(`DELETE FROM ${guard} WHERE kind = $1 AND key = $2`, [kind, key]);
        await c.query(`UPDATE ${counts} SET n = n - 1 WHERE kind = $1`, [kind]);
      }
      return s.result;
    }
    if (row !== undefined) {
      await c.query(`UPDATE ${guard} SET data = $3, expires_at = $4 WHERE kind = $1 AND key = $2`, [
        kind,
        key,
        encode(s.state),
        s.expiresAt,
      ]);
      return s.result;
    }
    await this.admit(c, kind, now);
    const inserted = await c.query(
      `INSERT INTO ${guard} (kind, key, data, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [kind, key, encode(s.state), s.expiresAt],
    );
    // Another replica created the key since our SELECT: start over with its row locked.
    if (inserted.rowCount !== 1) throw new KeyRace();
    await c.query(`UPDATE ${counts} SET n = n + 1 WHERE kind = $1`, [kind]);
    return s.result;
  }

  /** Makes room for a new key: evicts expired rows; refuses when the cap is full of live ones. */
  private async admit(c: PgPoolClient, kind: GuardKind, now: number): Promise<void> {
    const { guard, counts } = this.db.t;
    const n = Number(
      (await c.query<{ n: string }>(`SELECT n FROM ${counts} WHERE kind = $1 FOR UPDATE`, [kind])).rows[0]
        ?.n ?? 0,
    );
    if (n < this.cap) return;
    const evicted =
      (
        await c.query(
          `DELETE FROM ${guard} WHERE ctid IN (SELECT ctid FROM ${guard} WHERE kind = $1 AND expires_at < $2 ` +
            "FOR UPDATE SKIP LOCKED)",
          [kind, now],
        )
      ).rowCount ?? 0;
    if (evicted > 0) await c.query(`UPDATE ${counts} SET n = n - $2 WHERE kind = $1`, [kind, evicted]);
    if (n - evicted >= this.cap) throw new StateCapacityError();
  }

  private async sweep(now: number): Promise<void> {
    this.lastSweep = now;
    const { guard, counts } = this.db.t;
    await this.db.tx(async (c) => {
      for (const kind of GUARD_KINDS) {
        const evicted =
          (
            await c.query(
              `DELETE FROM ${guard} WHERE ctid IN (SELECT ctid FROM ${guard} WHERE kind = $1 AND expires_at < $2 ` +
                "LIMIT $3 FOR UPDATE SKIP LOCKED)",
              [kind, now, SWEEP_BATCH],
            )
          ).rowCount ?? 0;
        if (evicted > 0) await c.query(`UPDATE ${counts} SET n = n - $2 WHERE kind = $1`, [kind, evicted]);
      }
    });
  }
}

class PgNonces implements NonceStore {
  private lastSweep = 0;

  constructor(private readonly db: Db) {}

  async consume(nonce: string, expiresAtMs: number): Promise<boolean> {
    const now = Date.now();
    const { nonces } = this.db.t;
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) {
      this.lastSweep = now;
      await this.db.query(
        `DELETE FROM ${nonces} WHERE nonce IN (SELECT nonce FROM ${nonces} WHERE keep_until < $1 LIMIT $2)`,
        [now, SWEEP_BATCH],
      );
    }
    const keepUntil = Math.max(expiresAtMs, now) + NONCE_GRACE_MS;
    const rows = await this.db.query<{ nonce: string }>(
      `INSERT INTO ${nonces} (nonce, keep_until) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING nonce`,
      [nonce, keepUntil],
    );
    return rows.length === 1;
  }

  async isUsed(nonce: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM ${this.db.t.nonces} WHERE nonce = $1`, [nonce]);
    return rows.length > 0;
  }
}

class PgFlags implements FlagStore {
  constructor(private readonly db: Db) {}

  async set(key: string, value: string, ttlMs: number | null = null): Promise<void> {
    const expiresAt = ttlMs === null ? null : Date.now() + ttlMs;
    await this.db.query(
      `INSERT INTO ${this.db.t.flags} (key, value, expires_at) VALUES ($1, $2, $3) ` +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
      [key, value, expiresAt],
    );
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query<{ key: string; value: string }>(
      `SELECT key, value FROM ${this.db.t.flags} WHERE key = ANY($1::text[]) ` +
        "AND (expires_at IS NULL OR expires_at > $2)",
      [keys, Date.now()],
    );
    const found = new Map(rows.map((r) => [r.key, r.value]));
    return keys.map((k) => found.get(k) ?? null);
  }

  async delete(key: string): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM ${this.db.t.flags} WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2) RETURNING key`,
      [key, Date.now()],
    );
    return rows.length > 0;
  }

  async list(prefix = ""): Promise<FlagEntry[]> {
    const now = Date.now();
    const { flags } = this.db.t;
    await this.db.query(`DELETE FROM ${flags} WHERE expires_at IS NOT NULL AND expires_at <= $1`, [now]);
    const rows = await this.db.query<{ key: string; value: string; expires_at: number | null }>(
      `SELECT key, value, expires_at FROM ${flags} WHERE left(key, $1) = $2 ORDER BY key COLLATE "C"`,
      [prefix.length, prefix],
    );
    return rows.map((r) => ({ key: r.key, value: r.value, expiresAtMs: r.expires_at }));
  }
}

export class PostgresBackend implements StateBackend {
  readonly kind = "postgres" as const;
  readonly shared = true;
  readonly description: string;
  readonly windows: WindowStore;
  readonly breakers: BreakerStore;
  readonly risk: RiskWindowStore;
  readonly nonces: NonceStore;
  readonly flags: FlagStore;
  private readonly db: Db;

  /** Nothing is connected until the first call; a server that is down fails the calls, not this. */
  constructor(url: string | PgTarget, options: PostgresBackendOptions = {}) {
    const target = typeof url === "string" ? parsePostgresUrl(url) : url;
    this.description = target.description;
    const { pool } = openPool(target, {
      timeoutMs: options.timeoutMs ?? POSTGRES_DEFAULT_TIMEOUT_MS,
      applicationName: "agent-safe state",
    });
    this.db = new Db(pool, target.where, tables(target.schema), target.schema);
    const guards = new GuardTables(this.db, options.maxCallers ?? POSTGRES_DEFAULT_MAX_CALLERS);
    this.windows = new RowWindows(guards);
    this.breakers = new RowBreakers(guards);
    this.risk = new RowRisk(guards);
    this.nonces = new PgNonces(this.db);
    this.flags = new PgFlags(this.db);
  }

  async ping(): Promise<void> {
    await this.db.query("SELECT 1");
  }

  async close(): Promise<void> {
    await this.db.pool.end().catch(() => undefined);
  }
}
