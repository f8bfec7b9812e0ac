/**
 * The part of better-sqlite3 we use, typed here (the package ships no types), loaded with
 * `require` only when a SQLite store is opened: it is a native module.
 */
import { createRequire } from "node:module";

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
