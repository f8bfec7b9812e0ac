/**
 * Approval requests in PostgreSQL, shared by every replica. Each change is one transaction: the
 * row is locked (`SELECT … FOR UPDATE`), the plan computed from it, the row written with a
 * compare-and-set on its version, the audit events appended, and `pg_notify` queued — PostgreSQL
 * delivers the notification at commit, to every replica listening, so a waiter elsewhere wakes at
 * once. Two replicas approving the same request serialise on the row lock: the second sees the
 * first's result ("already approved").
 *
 * Waiters share one `LISTEN` connection per store object; if it drops, they fall back to
 * re-reading every few seconds while it reconnects. Every failure is an `ApprovalError` with
 * code `unavailable`: nothing is decided on a store that cannot answer.
 */

import { StateConfigError } from "../state/interfaces.js";
import {
  newClient,
  openPool,
  type PgClient,
  type PgPool,
  type PgPoolClient,
  type PgTarget,
  parsePostgresUrl,
  qualify,
  query,
  SchemaOnce,
  withTransaction,
} from "../state/postgres/driver.js";
import { StateUnavailableError } from "../state/types.js";
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

export interface PostgresApprovalStoreOptions {
  /** Connect and query timeout, ms (default 5000). */
  timeoutMs?: number;
  /** Safety re-read interval of a waiter while notifications flow, ms (default 5000). */
  pollIntervalMs?: number;
}

const TABLE = "agent_safe_approval_requests";

function ddl(table: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  request_id text PRIMARY KEY,
  status text NOT NULL,
  created_at double precision NOT NULL,
  expires_at double precision NOT NULL,
  version integer NOT NULL,
  data text NOT NULL,
  sealed_ticket text
);
CREATE INDEX IF NOT EXISTS agent_safe_approvals_pending ON ${table} (status, expires_at);
CREATE INDEX IF NOT EXISTS agent_safe_approvals_created ON ${table} (created_at);
`;
}

const isApprovalError = (err: unknown) => err instanceof ApprovalError;

export class PostgresApprovalStore implements ApprovalStore {
  readonly kind = "postgres" as const;
  readonly description: string;
  private readonly pool: PgPool;
  private readonly table: string;
  private readonly schemaOnce: SchemaOnce;
  private readonly listener: Listener;
  private readonly pollMs: number;
  private readonly where: string;

  constructor(url: string | PgTarget, options: PostgresApprovalStoreOptions = {}) {
    let target: PgTarget;
    try {
      target = typeof url === "string" ? parsePostgresUrl(url) : url;
    } catch (err) {
      if (err instanceof StateConfigError)
        throw new ApprovalError(`approvals.store ${err.message}`, "config");
      throw err;
    }
    this.description = target.description;
    this.where = target.where;
    const timeoutMs = options.timeoutMs ?? 5000;
    this.pool = openPool(target, { timeoutMs, applicationName: "agent-safe approvals" }).pool;
    this.table = qualify(target.schema, TABLE);
    this.schemaOnce = new SchemaOnce(this.pool, target.where, target.schema, ddl(this.table));
    const channel = (
      target.schema === null ? "agent_safe_approvals" : `agent_safe_approvals_${target.schema}`
    ).slice(0, 63);
    this.listener = new Listener(target, timeoutMs, channel);
    this.pollMs = options.pollIntervalMs ?? 5000;
  }

  get channel(): string {
    return this.listener.channel;
  }

  insert(record: ApprovalRecord, events: Parameters<Persist>[0], persist: Persist): Promise<void> {
    return this.tx(async (c) => {
      await c.query(
        `INSERT INTO ${this.table} (request_id, status, created_at, expires_at, data, sealed_ticket, version) ` +
          "VALUES ($1, $2, $3, $4, $5, $6, 1)",
        rowValues(record, null),
      );
      if (events.length > 0) await persist(events);
      await c.query("SELECT pg_notify($1, $2)", [this.listener.channel, record.request_id]);
    });
  }

  async get(requestId: string): Promise<StoredApproval | null> {
    const rows = await this.rows<{ data: string; sealed_ticket: string | null; version: number }>(
      `SELECT data, sealed_ticket, version FROM ${this.table} WHERE request_id = $1`,
      [requestId],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return {
      record: parseRecord(row.data, this.description),
      sealed: row.sealed_ticket,
      version: row.version,
    };
  }

  async list(filter: ListFilter): Promise<ApprovalRecord[]> {
    const rows =
      filter.status === null
        ? await this.rows<{ data: string }>(
            `SELECT data FROM ${this.table} ORDER BY created_at, request_id LIMIT $1`,
            [filter.limit],
          )
        : await this.rows<{ data: string }>(
            `SELECT data FROM ${this.table} WHERE status = $1 ORDER BY created_at, request_id LIMIT $2`,
            [filter.status, filter.limit],
          );
    return rows.map((r) => parseRecord(r.data, this.description));
  }

  async dueForExpiry(nowMs: number, limit: number): Promise<string[]> {
    const rows = await this.rows<{ request_id: string }>(
      `SELECT request_id FROM ${this.table} WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
      [nowMs, limit],
    );
    return rows.map((r) => r.request_id);
  }

  async update<R>(
    requestId: string,
    plan: (row: StoredApproval | null) => StorePlan<R>,
    persist: Persist,
  ): Promise<R> {
    const outcome = await this.tx(async (c) => {
      const found = (
        await c.query<{ data: string; sealed_ticket: string | null; version: number }>(
          `SELECT data, sealed_ticket, version FROM ${this.table} WHERE request_id = $1 FOR UPDATE`,
          [requestId],
        )
      ).rows[0];
      const row =
        found === undefined
          ? null
          : {
              record: parseRecord(found.data, this.description),
              sealed: found.sealed_ticket,
              version: found.version,
            };
      const p = plan(row);
      if (p.write === null || row === null) return p.outcome;
      const [, status, , expires, data, sealed] = rowValues(p.write.record, p.write.sealed);
      const changed = await c.query(
        `UPDATE ${this.table} SET status = $1, expires_at = $2, data = $3, sealed_ticket = $4, version = version + 1 ` +
          "WHERE request_id = $5 AND version = $6",
        [status, expires, data, sealed, requestId, row.version],
      );
      if (changed.rowCount !== 1)
        throw new ApprovalError(
          `Approval store ${this.description}: ${requestId} changed concurrently`,
          "unavailable",
        );
      if (p.events.length > 0) await persist(p.events);
      await c.query("SELECT pg_notify($1, $2)", [this.listener.channel, requestId]);
      return p.outcome;
    });
    if (outcome instanceof ApprovalError) throw outcome;
    return outcome;
  }

  async watch(requestId: string): Promise<StoreWatch> {
    // Listening first: a commit after the caller's next read is sure to be heard.
    await this.listener.ensure();
    const inner = makeWatch((wake) => this.listener.wakers.add(requestId, wake), this.pollMs);
    return {
      // Listening again if the connection dropped; while it cannot, re-read every second.
      wait: async (untilMs) =>
        inner.wait((await this.listener.ensure()) ? untilMs : Math.min(untilMs, Date.now() + 1000)),
      close: () => inner.close(),
    };
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.pool.end().catch(() => undefined);
  }

  private async ready(): Promise<void> {
    try {
      await this.schemaOnce.ensure();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private async rows<R>(text: string, values: readonly unknown[]): Promise<R[]> {
    await this.ready();
    try {
      return (await query<R>(this.pool, this.where, text, values)).rows;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private async tx<R>(fn: (c: PgPoolClient) => Promise<R>): Promise<R> {
    await this.ready();
    try {
      return await withTransaction(this.pool, this.where, isApprovalError, fn);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): unknown {
    if (err instanceof StateUnavailableError)
      return new ApprovalError(`Approval store unavailable: ${err.message}`, "unavailable", { cause: err });
    return err;
  }
}

/** One LISTEN connection, reconnected on demand; notifications wake the request's waiters. */
class Listener {
  readonly wakers = new LocalWakers();
  private client: PgClient | null = null;
  private connecting: Promise<boolean> | null = null;
  private closed = false;

  constructor(
    private readonly target: PgTarget,
    private readonly timeoutMs: number,
    readonly channel: string,
  ) {}

  /** True once listening; false when the server cannot be reached (waiters then poll). */
  ensure(): Promise<boolean> {
    if (this.client !== null) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<boolean> {
    const client = newClient(this.target, {
      timeoutMs: this.timeoutMs,
      applicationName: "agent-safe approvals listener",
    });
    const dropped = () => {
      if (this.client !== client) return;
      this.client = null;
      void client.end().catch(() => undefined);
      // Whatever was missed while reconnecting: every waiter re-reads its request (and listens anew).
      this.wakers.wakeAll();
    };
    client.on("error", dropped);
    client.on("end", dropped);
    client.on("notification", (msg) => {
      if (msg.channel === this.channel && msg.payload !== undefined) this.wakers.wake(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch {
      await client.end().catch(() => undefined);
      return false;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return false;
    }
    this.client = client;
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => false);
    const c = this.client;
    this.client = null;
    this.wakers.wakeAll();
    await c?.end().catch(() => undefined);
  }
}
