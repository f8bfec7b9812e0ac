/**
 * A lock that dies with its process: an exclusive SQLite lock on a side file (`<log>.lock`).
 *
 * SQLite's lock is a POSIX advisory lock, which the kernel releases when the process exits, however
 * it exits (a pid file alone is racy and outlives crashes). The holder opens the file with
 * `PRAGMA locking_mode=EXCLUSIVE`, takes an exclusive transaction and commits its pid into the
 * database header (`PRAGMA user_version`): in exclusive locking mode SQLite keeps the lock after
 * that first write until the connection closes. Another process (or another connection in this
 * one: SQLite tracks locks per inode) gets SQLITE_BUSY at once, reads the holder's pid straight
 * from the header bytes (offset 60, big-endian) and reports `Audit log <path> is locked by pid N`.
 */
import { closeSync, openSync, readSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { AuditError, AuditLockedError, AuditWriteError, describeSystemError, errnoOf } from "./errors.js";

/** 'ASAF' in the header's application_id: marks the file as ours. */
const APPLICATION_ID = 0x41534146;

interface SqliteStatementLike {
  run(...args: unknown[]): unknown;
}
interface SqliteDatabaseLike {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  prepare(source: string): SqliteStatementLike;
  close(): void;
}
type SqliteConstructor = new (path: string, options?: { timeout?: number }) => SqliteDatabaseLike;

let sqliteCtor: SqliteConstructor | undefined;

/**
 * Lock files this process holds. Closing *any* descriptor of a file drops the process's POSIX
 * locks on it, so we must never open a lock file we hold (not even to read the pid).
 */
const heldHere = new Set<string>();

function lockKey(lockPath: string): string {
  const abs = resolve(lockPath);
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/** better-sqlite3, loaded on first use (a native module: kept out of the CLI bundle). */
export async function loadSqlite(): Promise<SqliteConstructor> {
  if (sqliteCtor === undefined) {
    const name = "better-sqlite3";
    const mod = (await import(name)) as { default: SqliteConstructor };
    sqliteCtor = mod.default;
  }
  return sqliteCtor;
}

export class FileLock {
  private constructor(
    readonly path: string,
    private db: SqliteDatabaseLike | null,
    private readonly key: string,
  ) {}

  /**
   * Takes the lock on `lockPath` for `what` (named in the error), or throws `AuditLockedError`.
   * Never waits: a held lock is an error, not a queue.
   */
  static async acquire(lockPath: string, what: string): Promise<FileLock> {
    const key = lockKey(lockPath);
    if (heldHere.has(key)) throw new AuditLockedError(what, process.pid);
    const Database = await loadSqlite();
    if (heldHere.has(key)) throw new AuditLockedError(what, process.pid);
    let db: SqliteDatabaseLike;
    try {
      db = new Database(lockPath, { timeout: 0 });
    } catch (err) {
      throw new AuditWriteError(
        "UNWRITABLE",
        `Cannot create the lock file ${lockPath} for ${what}: ${describeSystemError(err)}`,
        errnoOf(err),
        { cause: err },
      );
    }
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      db.exec("BEGIN EXCLUSIVE");
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${process.pid}`);
      db.exec("COMMIT");
      // In exclusive mode the lock outlives the commit; this read keeps it even if SQLite decided
      // the write was a no-op.
      db.pragma("user_version", { simple: true });
      heldHere.add(key);
      return new FileLock(lockPath, db, key);
    } catch (err) {
      try {
        db.close();
      } catch {
        // already failing
      }
      if (isBusy(err)) throw new AuditLockedError(what, waitForHolderPid(lockPath));
      throw new AuditWriteError(
        "UNWRITABLE",
        `Cannot lock ${lockPath} for ${what}: ${describeSystemError(err)}`,
        errnoOf(err),
        { cause: err },
      );
    }
  }

  get held(): boolean {
    return this.db !== null;
  }

  release(): void {
    const db = this.db;
    this.db = null;
    if (db === null) return;
    heldHere.delete(this.key);
    try {
      db.close();
    } catch (err) {
      throw new AuditError("UNWRITABLE", `Cannot release the lock ${this.path}`, { cause: err });
    }
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}

/**
 * The holder's pid. A holder that has just taken the lock may not have committed its pid yet, so
 * wait a little (this is the error path only).
 */
function waitForHolderPid(lockPath: string): number | null {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 40; i++) {
    const pid = readHolderPid(lockPath);
    if (pid !== null) return pid;
    Atomics.wait(pause, 0, 0, 5);
  }
  return null;
}

/** The pid the holder wrote into the header, read without SQLite (which would be refused). */
export function readHolderPid(lockPath: string): number | null {
  let fd: number | undefined;
  try {
    fd = openSync(lockPath, "r");
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) < 100) return null;
    if (header.readUInt32BE(68) !== APPLICATION_ID) return null;
    const pid = header.readUInt32BE(60);
    return pid > 0 ? pid : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
