/**
 * One better-sqlite3 connection to the state file: opened lazily (and re-opened after a failure,
 * so the store recovers when the file does), WAL mode, a busy timeout, and every SQLite error
 * turned into `StateUnavailableError`. Transactions are `BEGIN IMMEDIATE`, so read-modify-write
 * operations are atomic across every process on the machine.
 */
import { StateCapacityError, StateUnavailableError } from "../types.js";
import { closeQuietly, type Database, openWalDatabase, type Statement, storeFailure } from "./driver.js";

export const GUARD_KINDS = ["window", "breaker", "risk"] as const;
export type GuardKind = (typeof GUARD_KINDS)[number];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS guard_state (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  data BLOB NOT NULL,
  expires_at REAL NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS guard_state_expiry ON guard_state (kind, expires_at);
CREATE TABLE IF NOT EXISTS guard_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO guard_counts (kind, n) VALUES ('window', 0), ('breaker', 0), ('risk', 0);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, keep_until REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (keep_until);
CREATE TABLE IF NOT EXISTS flags (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL) WITHOUT ROWID;
`;

export interface ConnectionOptions {
  path: string;
  busyTimeoutMs: number;
  /** `FULL` for what must survive a power loss (nonces, flags); `NORMAL` for guard windows. */
  synchronous: "NORMAL" | "FULL";
}

export class SqliteConnection {
  private db: Database | null = null;
  private readonly statements = new Map<string, Statement>();
  private readonly statement = (sql: string): Statement => {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      stmt = this.open().prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  };

  constructor(private readonly options: ConnectionOptions) {}

  /**
   * Runs `fn` on the open connection, with `sql` giving cached prepared statements; SQLite
   * failures become `StateUnavailableError`.
   */
  use<R>(fn: (db: Database, sql: (text: string) => Statement) => R): R {
    try {
      return fn(this.open(), this.statement);
    } catch (err) {
      if (err instanceof StateCapacityError || err instanceof StateUnavailableError) throw err;
      const failure = storeFailure(err, this.options.busyTimeoutMs);
      if (failure === null) throw err;
      if (failure.reset) this.reset();
      throw new StateUnavailableError(`SQLite ${this.options.path}: ${failure.why}`, { cause: err });
    }
  }

  close(): void {
    this.reset();
  }

  private open(): Database {
    if (this.db?.open) return this.db;
    const { path, busyTimeoutMs, synchronous } = this.options;
    this.db = openWalDatabase(path, {
      busyTimeoutMs,
      synchronous,
      schema: SCHEMA,
      // Checkpoint (and fsync) every ~40 MB of WAL rather than every 4 MB: fewer latency spikes.
      pragmas: ["wal_autocheckpoint = 10000", "journal_size_limit = 67108864"],
    });
    return this.db;
  }

  private reset(): void {
    closeQuietly(this.db);
    this.db = null;
    this.statements.clear();
  }
}

/** Guard state is stored as little-endian float64 arrays. */
export function encode(values: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 8);
  for (let i = 0; i < values.length; i++) buf.writeDoubleLE(values[i]!, i * 8);
  return buf;
}

export function decode(buf: Buffer): number[] {
  const out = new Array<number>(buf.length >> 3);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}
