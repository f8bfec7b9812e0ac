/**
 * Approval requests in one SQLite file (default `.agent-safe/approvals.db`, mode 0600: it holds
 * the requests' params): WAL, `synchronous = FULL`, a busy timeout. Each change is one
 * `BEGIN IMMEDIATE` transaction — read the row, plan, write with a compare-and-set on the version,
 * append the audit events, commit — so every process on the machine sees one history.
 * Operations on one file run one at a time in a process (the transaction spans the audit append).
 * Waiters poll the row (every 200 ms by default) and wake at once for changes made in-process.
 */
import { existsSync } from "node:fs";
import { closeQuietly, type Database, openWalDatabase, storeFailure } from "../state/sqlite/driver.js";
import { ApprovalError } from "./errors.js";
import {
  type ApprovalStore,
  type ListFilter,
  LocalWakers,
  makeWatch,
  type Persist,
  parseRecord,
  rowValues,
  type StorePlan,
  type StoreWatch,
} from "./store.js";
import type { ApprovalRecord, StoredApproval } from "./types.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS approval_requests (
  request_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  sealed_ticket TEXT
);
CREATE INDEX IF NOT EXISTS approval_requests_pending ON approval_requests (status, expires_at);
CREATE INDEX IF NOT EXISTS approval_requests_created ON approval_requests (created_at);
`;

interface PendingInsert {
  record: ApprovalRecord;
  events: Parameters<Persist>[0];
  persist: Persist;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Per file: the tail of the operations queued in this process. */
const FILE_QUEUES = new Map<string, Promise<void>>();

export interface SqliteApprovalStoreOptions {
  /** Busy timeout, ms (default 5000). */
  busyTimeoutMs?: number;
  /** How often a waiter re-reads the row, ms (default 200). */
  pollIntervalMs?: number;
}

export class SqliteApprovalStore implements ApprovalStore {
  readonly kind = "sqlite" as const;
  readonly description: string;
  private db: Database | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private inserts: PendingInsert[] = [];
  private readonly wakers = new LocalWakers();
  private readonly busyTimeoutMs: number;
  private readonly pollMs: number;

  /** `path` is absolute. Nothing is opened until the first call. */
  constructor(
    readonly path: string,
    options: SqliteApprovalStoreOptions = {},
  ) {
    this.description = `sqlite:${path}`;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.pollMs = options.pollIntervalMs ?? 200;
  }

  /** Whether the file exists (read-only commands report "no store" rather than create one). */
  exists(): boolean {
    return existsSync(this.path);
  }

  /**
   * New requests are written in batches: every insert made while the previous batch commits joins
   * the next one, which is one transaction (one lock, one commit) with every request's audit
   * event appended inside it (the audit writer's group fsync covers them together). A busy
   * sidecar thus files hundreds of requests per fsync instead of one. A new request commits with
   * `synchronous = NORMAL`: its audit event is already durable, and a row lost to a power cut
   * is a request nobody can approve (fail closed); transitions that grant or deny stay FULL.
   */
  insert(record: ApprovalRecord, events: Parameters<Persist>[0], persist: Persist): Promise<void> {
    return new Promise((resolve, reject) => {
      this.inserts.push({ record, events, persist, resolve, reject });
      if (this.inserts.length === 1) void this.flushInserts();
    });
  }

  private async flushInserts(): Promise<void> {
    // Wait for the operations queued before this batch; inserts arriving meanwhile join it.
    await this.exclusive(() => undefined).catch(() => undefined);
    const batch = this.inserts.splice(0);
    if (batch.length === 0) return;
    try {
      await this.transaction(async (db) => {
        const insert = db.prepare(
          "INSERT INTO approval_requests (request_id, status, created_at, expires_at, data, sealed_ticket, version) " +
            "VALUES (?, ?, ?, ?, ?, ?, 1)",
        );
        for (const i of batch) insert.run(...rowValues(i.record, null));
        await Promise.all(batch.map((i) => (i.events.length > 0 ? i.persist(i.events) : undefined)));
        return () => {
          for (const i of batch) this.wakers.wake(i.record.request_id);
        };
      }, "NORMAL");
      for (const i of batch) i.resolve();
    } catch (err) {
      for (const i of batch) i.reject(err);
    }
  }

  get(requestId: string): Promise<StoredApproval | null> {
    return this.exclusive(() => this.read(this.open(), requestId));
  }

  list(filter: ListFilter): Promise<ApprovalRecord[]> {
    return this.exclusive(() => {
      const db = this.open();
      const rows = (
        filter.status === null
          ? db
              .prepare("SELECT data FROM approval_requests ORDER BY created_at, request_id LIMIT ?")
              .all(filter.limit)
          : db
              .prepare(
                "SELECT data FROM approval_requests WHERE status = ? ORDER BY created_at, request_id LIMIT ?",
              )
              .all(filter.status, filter.limit)
      ) as { data: string }[];
      return rows.map((r) => parseRecord(r.data, this.description));
    });
  }

  dueForExpiry(nowMs: number, limit: number): Promise<string[]> {
    return this.exclusive(() => {
      const rows = this.open()
        .prepare(
          "SELECT request_id FROM approval_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?",
        )
        .all(nowMs, limit) as { request_id: string }[];
      return rows.map((r) => r.request_id);
    });
  }

  async update<R>(
    requestId: string,
    plan: (row: StoredApproval | null) => StorePlan<R>,
    persist: Persist,
  ): Promise<R> {
    let outcome: R | ApprovalError = undefined as R;
    await this.transaction(async (db) => {
      const row = this.read(db, requestId);
      const p = plan(row);
      outcome = p.outcome;
      if (p.write === null || row === null) return null;
      const [, status, , expires, data, sealed] = rowValues(p.write.record, p.write.sealed);
      const changed = db
        .prepare(
          "UPDATE approval_requests SET status = ?, expires_at = ?, data = ?, sealed_ticket = ?, version = version + 1 " +
            "WHERE request_id = ? AND version = ?",
        )
        .run(status, expires, data, sealed, requestId, row.version).changes;
      if (changed !== 1)
        throw new ApprovalError(
          `Approval store ${this.description}: ${requestId} changed concurrently`,
          "unavailable",
        );
      if (p.events.length > 0) await persist(p.events);
      return () => this.wakers.wake(requestId);
    });
    if (outcome instanceof ApprovalError) throw outcome;
    return outcome;
  }

  async watch(requestId: string): Promise<StoreWatch> {
    return makeWatch((wake) => this.wakers.add(requestId, wake), this.pollMs);
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    this.wakers.wakeAll();
    this.reset();
  }

  private read(db: Database, requestId: string): StoredApproval | null {
    const row = db
      .prepare("SELECT data, sealed_ticket, version FROM approval_requests WHERE request_id = ?")
      .get(requestId) as { data: string; sealed_ticket: string | null; version: number } | undefined;
    if (row === undefined) return null;
    return {
      record: parseRecord(row.data, this.description),
      sealed: row.sealed_ticket,
      version: row.version,
    };
  }

  /** One transaction, with the audit append inside; `fn` returns what to do after the commit. */
  private transaction(
    fn: (db: Database) => Promise<(() => void) | null>,
    synchronous: "FULL" | "NORMAL" = "FULL",
  ): Promise<void> {
    return this.exclusive(async () => {
      const db = this.open();
      if (synchronous !== "FULL") db.pragma(`synchronous = ${synchronous}`);
      db.exec("BEGIN IMMEDIATE");
      let after: (() => void) | null;
      try {
        after = await fn(db);
        db.exec("COMMIT");
      } catch (err) {
        try {
          if (db.open) db.exec("ROLLBACK");
        } catch {
          // Nothing to roll back (the failure ended the transaction).
        }
        throw err;
      } finally {
        if (synchronous !== "FULL" && db.open) db.pragma("synchronous = FULL");
      }
      after?.();
    });
  }

  /**
   * Runs `fn` after every earlier operation on this file in this process (every store object of
   * it: a transaction spans an await, and a second connection of the same process waiting on the
   * lock would block the event loop the first needs to finish); maps SQLite failures.
   */
  private exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const key = this.path;
    const run = (FILE_QUEUES.get(key) ?? Promise.resolve()).then(
      () => this.guard(fn),
      () => this.guard(fn),
    );
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    FILE_QUEUES.set(key, tail);
    this.tail = tail;
    void tail.then(() => {
      if (FILE_QUEUES.get(key) === tail) FILE_QUEUES.delete(key);
    });
    return run;
  }

  private async guard<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApprovalError) throw err;
      const failure = storeFailure(err, this.busyTimeoutMs);
      if (failure === null) throw err;
      if (failure.reset) this.reset();
      throw new ApprovalError(`Approval store ${this.description}: ${failure.why}`, "unavailable", {
        cause: err,
      });
    }
  }

  private open(): Database {
    if (this.db?.open) return this.db;
    // The file holds the requests' params: only the owner may read it.
    this.db = openWalDatabase(this.path, {
      busyTimeoutMs: this.busyTimeoutMs,
      synchronous: "FULL",
      schema: SCHEMA,
      fileMode: 0o600,
      dirMode: 0o700,
    });
    return this.db;
  }

  private reset(): void {
    closeQuietly(this.db);
    this.db = null;
  }
}
