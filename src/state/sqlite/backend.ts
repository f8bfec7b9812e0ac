/**
 * State in one SQLite file (default `.agent-safe/state.db`): shared by every process of the
 * machine, survives restarts. Guard state is one row per (kind, key) holding the same arrays the
 * memory adapter keeps, updated in one `BEGIN IMMEDIATE` transaction per operation. A per-kind
 * row count enforces the cap; expired rows are evicted when a new key needs room and swept every
 * few seconds. Nonces and flags go through a second connection with `synchronous = FULL`, so a
 * consumed ticket or an engaged kill switch survives a power loss.
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
import { type NonceStore, StateCapacityError } from "../types.js";
import { decode, encode, GUARD_KINDS, type GuardKind, SqliteConnection } from "./connection.js";
import type { Database, Statement } from "./driver.js";

export const SQLITE_DEFAULT_MAX_CALLERS = 1_000_000;
export const SQLITE_DEFAULT_BUSY_TIMEOUT_MS = 2000;
const SWEEP_INTERVAL_MS = 5000;
const SWEEP_BATCH = 2000;

interface Prepared {
  db: Database;
  get: Statement;
  upsert: Statement;
  del: Statement;
  count: Statement;
  bump: Statement;
  evict: Statement;
  sweep: Statement;
  apply: <R>(kind: GuardKind, key: string, now: number, fn: (state: number[] | null) => Step<R>) => R;
}

/** The guard kinds' operations: one immediate transaction each. */
class GuardTables {
  private prepared: Prepared | null = null;
  private lastSweep = 0;

  constructor(
    private readonly conn: SqliteConnection,
    private readonly cap: number,
  ) {}

  run<R>(kind: GuardKind, key: string, now: number, fn: (state: number[] | null) => Step<R>): R {
    return this.conn.use((db) => {
      const p = this.statements(db);
      if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(p, now);
      return p.apply(kind, key, now, fn);
    });
  }

  /** The key's state as of now, read outside any transaction (no write lock taken). */
  peek(kind: GuardKind, key: string): number[] | null {
    return this.conn.use((db) => {
      const row = this.statements(db).get.get(kind, key) as { data: Buffer } | undefined;
      return row === undefined ? null : decode(row.data);
    });
  }

  private statements(db: Database): Prepared {
    if (this.prepared?.db === db) return this.prepared;
    const p = {
      db,
      get: db.prepare("SELECT data FROM guard_state WHERE kind = ? AND key = ?"),
      upsert: db.prepare(
        "INSERT INTO guard_state (kind, key, data, expires_at) VALUES (?, ?, ?, ?) " +
          "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
      ),
      del: db.prepare("DELETE FROM guard_state WHERE kind = ? AND key = ?"),
      count: db.prepare("SELECT n FROM guard_counts WHERE kind = ?"),
      bump: db.prepare("UPDATE guard_counts SET n = n + ? WHERE kind = ?"),
      evict: db.prepare("DELETE FROM guard_state WHERE kind = ? AND expires_at < ?"),
      sweep: db.prepare(
        "DELETE FROM guard_state WHERE (kind, key) IN " +
          "(SELECT kind, key FROM guard_state WHERE kind = ? AND expires_at < ? LIMIT ?)",
      ),
    } as Prepared;
    p.apply = db.transaction(
      <R>(kind: GuardKind, key: string, now: number, fn: (state: number[] | null) => Step<R>): R => {
        const row = p.get.get(kind, key) as { data: Buffer } | undefined;
        const step = fn(row === undefined ? null : decode(row.data));
        if (!step.write) return step.result;
        if (step.state === null) {
          if (row !== undefined) {
            p.del.run(kind, key);
            p.bump.run(-1, kind);
          }
          return step.result;
        }
        if (row === undefined) this.admit(p, kind, now);
        p.upsert.run(kind, key, encode(step.state), step.expiresAt);
        if (row === undefined) p.bump.run(1, kind);
        return step.result;
      },
    ).immediate as Prepared["apply"];
    this.prepared = p;
    return p;
  }

  /** Makes room for a new key: evicts expired rows; refuses when the cap is full of live ones. */
  private admit(p: Prepared, kind: GuardKind, now: number): void {
    const n = (p.count.get(kind) as { n: number }).n;
    if (n < this.cap) return;
    const evicted = p.evict.run(kind, now).changes;
    if (evicted > 0) p.bump.run(-evicted, kind);
    if (n - evicted >= this.cap) throw new StateCapacityError();
  }

  private sweep(p: Prepared, now: number): void {
    this.lastSweep = now;
    p.db
      .transaction(() => {
        for (const kind of GUARD_KINDS) {
          const evicted = p.sweep.run(kind, now, SWEEP_BATCH).changes;
          if (evicted > 0) p.bump.run(-evicted, kind);
        }
      })
      .immediate();
  }
}

class SqliteNonces implements NonceStore {
  private lastSweep = 0;

  constructor(private readonly conn: SqliteConnection) {}

  async consume(nonce: string, expiresAtMs: number): Promise<boolean> {
    const now = Date.now();
    return this.conn.use((_db, sql) => {
      if (now - this.lastSweep >= SWEEP_INTERVAL_MS) {
        this.lastSweep = now;
        sql("DELETE FROM nonces WHERE nonce IN (SELECT nonce FROM nonces WHERE keep_until < ? LIMIT ?)").run(
          now,
          SWEEP_BATCH,
        );
      }
      const keepUntil = Math.max(expiresAtMs, now) + NONCE_GRACE_MS;
      return (
        sql("INSERT INTO nonces (nonce, keep_until) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING").run(
          nonce,
          keepUntil,
        ).changes === 1
      );
    });
  }

  async isUsed(nonce: string): Promise<boolean> {
    return this.conn.use((_db, sql) => sql("SELECT 1 FROM nonces WHERE nonce = ?").get(nonce) !== undefined);
  }
}

class SqliteFlags implements FlagStore {
  constructor(private readonly conn: SqliteConnection) {}

  async set(key: string, value: string, ttlMs: number | null = null): Promise<void> {
    const expiresAt = ttlMs === null ? null : Date.now() + ttlMs;
    this.conn.use((_db, sql) =>
      sql(
        "INSERT INTO flags (key, value, expires_at) VALUES (?, ?, ?) " +
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
      ).run(key, value, expiresAt),
    );
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    const now = Date.now();
    return this.conn.use((_db, sql) => {
      const stmt = sql("SELECT value FROM flags WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)");
      return keys.map((k) => (stmt.get(k, now) as { value: string } | undefined)?.value ?? null);
    });
  }

  async delete(key: string): Promise<boolean> {
    const now = Date.now();
    return this.conn.use(
      (_db, sql) =>
        sql("DELETE FROM flags WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)").run(key, now)
          .changes > 0,
    );
  }

  async list(prefix = ""): Promise<FlagEntry[]> {
    const now = Date.now();
    const rows = this.conn.use((_db, sql) => {
      sql("DELETE FROM flags WHERE expires_at IS NOT NULL AND expires_at <= ?").run(now);
      return sql("SELECT key, value, expires_at FROM flags WHERE substr(key, 1, ?) = ? ORDER BY key").all(
        prefix.length,
        prefix,
      ) as { key: string; value: string; expires_at: number | null }[];
    });
    return rows.map((r) => ({ key: r.key, value: r.value, expiresAtMs: r.expires_at }));
  }
}

export interface SqliteBackendOptions {
  maxCallers?: number;
  busyTimeoutMs?: number;
}

export class SqliteBackend implements StateBackend {
  readonly kind = "sqlite" as const;
  readonly shared = true;
  readonly description: string;
  readonly windows: WindowStore;
  readonly breakers: BreakerStore;
  readonly risk: RiskWindowStore;
  readonly nonces: NonceStore;
  readonly flags: FlagStore;
  private readonly guardConn: SqliteConnection;
  private readonly durableConn: SqliteConnection;

  /** `path` is absolute (the factory resolves it). Nothing is opened until the first call. */
  constructor(
    readonly path: string,
    options: SqliteBackendOptions = {},
  ) {
    this.description = `sqlite:${path}`;
    const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_DEFAULT_BUSY_TIMEOUT_MS;
    this.guardConn = new SqliteConnection({ path, busyTimeoutMs, synchronous: "NORMAL" });
    this.durableConn = new SqliteConnection({ path, busyTimeoutMs, synchronous: "FULL" });
    const tables = new GuardTables(this.guardConn, options.maxCallers ?? SQLITE_DEFAULT_MAX_CALLERS);
    this.windows = new RowWindows(tables);
    this.breakers = new RowBreakers(tables);
    this.risk = new RowRisk(tables);
    this.nonces = new SqliteNonces(this.durableConn);
    this.flags = new SqliteFlags(this.durableConn);
  }

  async ping(): Promise<void> {
    this.guardConn.use((_db, sql) => sql("SELECT n FROM guard_counts LIMIT 1").get());
  }

  async close(): Promise<void> {
    this.guardConn.close();
    this.durableConn.close();
  }
}
