/**
 * The approval store contract, shared by the SQLite (default, one machine) and PostgreSQL (several
 * replicas) stores.
 *
 * Every change is a transition on one row under its lock (SQLite `BEGIN IMMEDIATE`; PostgreSQL
 * `SELECT … FOR UPDATE`), written as a compare-and-set on the row's version: the plan is computed
 * from the row as it is now, its audit events are appended durably, then the row is written and
 * the transaction commits. Nothing is ever decided from a stale read, and no change commits
 * without its audit record (if the audit write fails, the change rolls back). Each commit wakes
 * the watchers of that request (PostgreSQL: `NOTIFY`, so waiting replicas wake at once).
 */
import { isAbsolute, resolve } from "node:path";
import type { AuditInput } from "../audit/types.js";
import { ApprovalError } from "./errors.js";
import type { ApprovalRecord, ApprovalStatus, StoredApproval } from "./types.js";

/** What a transition does, computed (synchronously) from the row under its lock. */
export interface StorePlan<R> {
  /** The new record and sealed ticket, or null to change nothing. */
  write: { record: ApprovalRecord; sealed: string | null } | null;
  /** Appended before the change commits; a failure rolls the change back. */
  events: readonly AuditInput[];
  /** Returned after the commit; an error is thrown after the commit instead. */
  outcome: R | ApprovalError;
}

/** Appends audit events durably (the service's audit sink); throws to abort the transition. */
export type Persist = (events: readonly AuditInput[]) => Promise<void>;

export interface StoreWatch {
  /** Resolves when the request may have changed (a commit anywhere), or at `untilMs`. */
  wait(untilMs: number): Promise<void>;
  close(): void;
}

export interface ListFilter {
  /** null: every status. */
  status: ApprovalStatus | null;
  limit: number;
}

export interface ApprovalStore {
  readonly kind: "sqlite" | "postgres";
  /** Where requests live, without secrets. */
  readonly description: string;
  insert(record: ApprovalRecord, events: readonly AuditInput[], persist: Persist): Promise<void>;
  get(requestId: string): Promise<StoredApproval | null>;
  /** Oldest first. */
  list(filter: ListFilter): Promise<ApprovalRecord[]>;
  /** Ids of pending requests whose expiry has passed. */
  dueForExpiry(nowMs: number, limit: number): Promise<string[]>;
  update<R>(
    requestId: string,
    plan: (row: StoredApproval | null) => StorePlan<R>,
    persist: Persist,
  ): Promise<R>;
  /** Subscribe before reading, then wait: no change between the read and the wait is missed. */
  watch(requestId: string): Promise<StoreWatch>;
  close(): Promise<void>;
}

export type ApprovalStoreUrl = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/**
 * `sqlite:<path>` (relative to `baseDir`, the project root), a bare path (a SQLite file), or
 * `postgres://…` / `postgresql://…` (`?schema=name` for the tables' schema).
 */
export function parseApprovalStoreUrl(url: string, baseDir: string): ApprovalStoreUrl {
  const text = url.trim();
  if (/^postgres(ql)?:\/\//.test(text)) return { kind: "postgres", url: text };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw new ApprovalError(
      `approvals.store '${text.replace(/\/\/[^@/]*@/, "//***@")}': use sqlite:<path> or postgres://…`,
      "config",
    );
  const raw = text.startsWith("sqlite:") ? text.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "") : text;
  if (raw === "" || raw === ":memory:")
    throw new ApprovalError(`approvals.store '${text}': a SQLite store needs a file path`, "config");
  if (raw.endsWith(".jsonl"))
    throw new ApprovalError(
      `approvals.store '${text}': 0.9.0's JSONL approval file is not supported (it loses updates between ` +
        "processes); use sqlite:.agent-safe/approvals.db or postgres://…",
      "config",
    );
  return { kind: "sqlite", path: isAbsolute(raw) ? raw : resolve(baseDir, raw) };
}

/** The row's JSON back to a record. A row that does not parse is a store failure, not a request. */
export function parseRecord(data: string, where: string): ApprovalRecord {
  try {
    const value = JSON.parse(data) as ApprovalRecord;
    if (typeof value?.request_id !== "string" || typeof value.status !== "string")
      throw new Error("not a request");
    return value;
  } catch (err) {
    throw new ApprovalError(
      `Approval store ${where}: a stored request is unreadable (${(err as Error).message})`,
      "unavailable",
      {
        cause: err,
      },
    );
  }
}

export function serializeRecord(record: ApprovalRecord): string {
  return JSON.stringify(record);
}

/** The columns both stores keep beside the JSON document. */
export function rowValues(record: ApprovalRecord, sealed: string | null): unknown[] {
  return [
    record.request_id,
    record.status,
    record.created_at,
    record.expires_at,
    serializeRecord(record),
    sealed,
  ];
}

/** In-process wake-ups, for watchers of a request changed by this process. */
export class LocalWakers {
  private readonly waiters = new Map<string, Set<() => void>>();

  add(requestId: string, wake: () => void): () => void {
    let set = this.waiters.get(requestId);
    if (set === undefined) {
      set = new Set();
      this.waiters.set(requestId, set);
    }
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(requestId);
    };
  }

  wake(requestId: string): void {
    for (const w of this.waiters.get(requestId) ?? []) w();
  }

  wakeAll(): void {
    for (const set of this.waiters.values()) for (const w of set) w();
  }
}

/**
 * A watch that resolves on a wake-up (remembered if it came before `wait`), at `untilMs`, or after
 * `pollMs` (a safety net: the caller re-reads the row either way).
 */
export function makeWatch(
  subscribe: (wake: () => void) => () => void,
  pollMs: number,
  clock: () => number = Date.now,
): StoreWatch {
  let woken = false;
  let current: (() => void) | null = null;
  const unsubscribe = subscribe(() => {
    woken = true;
    current?.();
  });
  return {
    wait(untilMs) {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      const ms = Math.max(0, Math.min(pollMs, untilMs - clock()));
      return new Promise<void>((resolveWait) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          current = null;
          woken = false;
          resolveWait();
        }
        current = done;
      });
    },
    close() {
      current?.();
      unsubscribe();
    },
  };
}
