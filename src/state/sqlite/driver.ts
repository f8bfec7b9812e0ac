/**
 * The part of better-sqlite3 we use, typed here (the package ships no types), loaded with
 * `require` only when a SQLite store is opened: it is a native module.
 */
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";

export interface RunResult {
  changes: number;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface TransactionFunction<A extends unknown[], R> {
  (...args: A): R;
  deferred(...args: A): R;
  immediate(...args: A): R;
  exclusive(...args: A): R;
}

export interface Database {
  readonly open: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): Database;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): TransactionFunction<A, R>;
  close(): void;
}

export interface DatabaseOptions {
  /** Busy timeout in ms. */
  timeout?: number;
  readonly?: boolean;
  fileMustExist?: boolean;
}

type DatabaseConstructor = new (path: string, options?: DatabaseOptions) => Database;

let ctor: DatabaseConstructor | undefined;

export function openDatabase(path: string, options: DatabaseOptions): Database {
  if (ctor === undefined) {
    const require = createRequire(import.meta.url);
    ctor = require("better-sqlite3") as DatabaseConstructor;
  }
  return new ctor(path, options);
}

/** better-sqlite3's errors carry a `SQLITE_…` code. */
export function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : null;
}

export interface WalDatabaseOptions {
  busyTimeoutMs: number;
  synchronous: "NORMAL" | "FULL";
  /** Run once, in an immediate transaction, after the pragmas (CREATE … IF NOT EXISTS). */
  schema: string;
  /** Extra pragmas, after journal mode and synchronous. */
  pragmas?: readonly string[];
  /** Create the file with this mode first (WAL and shm files take the database file's mode). */
  fileMode?: number;
  /** Mode of the directories created for it. */
  dirMode?: number;
}

/** Opens (creating) a database in WAL mode with its schema; closes it again if any step fails. */
export function openWalDatabase(path: string, o: WalDatabaseOptions): Database {
  mkdirSync(dirname(path), { recursive: true, ...(o.dirMode !== undefined ? { mode: o.dirMode } : {}) });
  if (o.fileMode !== undefined && !existsSync(path)) closeSync(openSync(path, "a", o.fileMode));
  const db = openDatabase(path, { timeout: o.busyTimeoutMs });
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${o.synchronous}`);
    for (const p of o.pragmas ?? []) db.pragma(p);
    db.transaction(() => db.exec(o.schema)).immediate();
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Closes a connection that may be broken (closing can fail too; it is dropped either way). */
export function closeQuietly(db: Database | null): void {
  try {
    db?.close();
  } catch {
    // dropped either way
  }
}

/**
 * Why a store operation failed, when the failure is the store's (an SQLite or a system error),
 * else null (a bug of ours: rethrow it). `reset` says whether to reopen the connection next time:
 * anything but "busy" may mean the file changed under us.
 */
export function storeFailure(err: unknown, busyTimeoutMs: number): { why: string; reset: boolean } | null {
  const code = sqliteCode(err);
  const errno = (err as { code?: unknown } | null)?.code;
  const system = typeof errno === "string" && /^E[A-Z]+$/.test(errno);
  if (code === null && !system) return null;
  if (code === "SQLITE_BUSY")
    return { why: `database is locked (still busy after ${busyTimeoutMs} ms)`, reset: false };
  const message = err instanceof Error ? err.message : String(err);
  return { why: `${message}${code !== null && !message.includes(code) ? ` (${code})` : ""}`, reset: true };
}
