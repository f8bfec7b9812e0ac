/**
 * The part of `pg` we use, typed here (the package ships no types), loaded with `require` only when
 * a `postgres://` store is opened (and kept out of the CLI bundle, like better-sqlite3).
 *
 * Shared by the PostgreSQL state adapters and the PostgreSQL approval store:
 * - `parsePostgresUrl`: `postgres://user:pw@host:5432/db?schema=name`. `schema` is ours (every
 *   table lives in that schema, created on first use; tests use one schema each); the rest goes to
 *   `pg` as it is. Descriptions never contain the password.
 * - `withTransaction`: one pooled connection, `BEGIN … COMMIT`, `ROLLBACK` on any error, a broken
 *   connection discarded rather than reused; deadlocks and serialization failures retried.
 * - `pgUnavailable`: every driver or server failure becomes `StateUnavailableError` with the host
 *   and the cause (`connect ECONNREFUSED 127.0.0.1:5432`), so callers fail closed.
 */
import { createRequire } from "node:module";
import { StateConfigError } from "../interfaces.js";
import { StateUnavailableError } from "../types.js";

export interface PgResult<R> {
  rows: R[];
  rowCount: number | null;
}

export interface PgQueryable {
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<PgResult<R>>;
}

export interface PgPoolClient extends PgQueryable {
  /** `release(true)` (or an error) destroys the connection instead of returning it to the pool. */
  release(destroy?: boolean | Error): void;
}

export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): void;
}

export interface PgNotification {
  channel: string;
  payload?: string;
}

/** A standalone connection (LISTEN needs one that stays open). */
export interface PgClient extends PgQueryable {
  connect(): Promise<void>;
  end(): Promise<void>;
  on(event: "notification", listener: (msg: PgNotification) => void): void;
  on(event: "error" | "end", listener: (err?: Error) => void): void;
}

interface PgConfig {
  connectionString: string;
  max?: number;
  connectionTimeoutMillis?: number;
  idleTimeoutMillis?: number;
  query_timeout?: number;
  application_name?: string;
  allowExitOnIdle?: boolean;
}

interface PgModule {
  Pool: new (config: PgConfig) => PgPool;
  Client: new (config: PgConfig) => PgClient;
}

let pgModule: PgModule | undefined;

function pg(): PgModule {
  if (pgModule === undefined) {
    const require = createRequire(import.meta.url);
    pgModule = require("pg") as PgModule;
  }
  return pgModule;
}

export interface PgTarget {
  /** What `pg` connects with (our `schema` parameter removed). */
  connectionString: string;
  /** The schema holding our tables, or null for the search path's first schema. */
  schema: string | null;
  /** The URL without the password, for messages. */
  description: string;
  /** `host:port`, for error messages. */
  where: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Parses `postgres://` / `postgresql://` URLs; `?schema=` names the schema of our tables. */
export function parsePostgresUrl(url: string): PgTarget {
  const text = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new StateConfigError(
      `'${redactPostgresUrl(text)}' is not a valid URL (postgres://user@host:5432/db)`,
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")
    throw new StateConfigError(`'${redactPostgresUrl(text)}' is not a postgres:// URL`);
  const schema = parsed.searchParams.get("schema");
  if (schema !== null && !IDENTIFIER.test(schema))
    throw new StateConfigError(
      `'${redactPostgresUrl(text)}': schema must be a plain identifier (letters, digits, _), got '${schema}'`,
    );
  parsed.searchParams.delete("schema");
  const connectionString = parsed.toString();
  const host = parsed.hostname === "" ? "localhost" : parsed.hostname;
  return {
    connectionString,
    schema,
    description: redactPostgresUrl(text),
    where: `${host}:${parsed.port === "" ? "5432" : parsed.port}`,
  };
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactPostgresUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

/** `"schema"."table"`, or `"table"` without a schema. Names are checked identifiers. */
export function qualify(schema: string | null, table: string): string {
  return schema === null ? `"${table}"` : `"${schema}"."${table}"`;
}

export interface PoolOptions {
  /** Connect and query timeout in ms. */
  timeoutMs: number;
  max?: number;
  applicationName?: string;
}

/** A pool that never crashes the process: idle-connection errors are recorded, not thrown. */
export function openPool(
  target: PgTarget,
  options: PoolOptions,
): { pool: PgPool; lastError: () => Error | null } {
  let last: Error | null = null;
  const pool = new (pg().Pool)({
    connectionString: target.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: Math.ceil(options.timeoutMs),
    idleTimeoutMillis: 10_000,
    query_timeout: Math.ceil(options.timeoutMs),
    application_name: options.applicationName ?? "agent-safe",
    allowExitOnIdle: true,
  });
  pool.on("error", (err) => {
    last = err;
  });
  return { pool, lastError: () => last };
}

export function newClient(target: PgTarget, options: PoolOptions): PgClient {
  return new (pg().Client)({
    connectionString: target.connectionString,
    connectionTimeoutMillis: Math.ceil(options.timeoutMs),
    application_name: options.applicationName ?? "agent-safe",
  });
}

/** SQLSTATEs worth one more try: deadlock detected, serialization failure. */
const RETRYABLE = new Set(["40P01", "40001"]);

export function pgCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

/** Errors of our own (capacity, refusals) pass through; everything else means the store failed. */
export type PassThrough = (err: unknown) => boolean;

export function pgUnavailable(err: unknown, where: string): StateUnavailableError {
  if (err instanceof StateUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = pgCode(err);
  const why =
    /timeout/i.test(message) && !/statement timeout/i.test(message)
      ? `no answer within the timeout (${message})`
      : code !== null && /^[0-9A-Z]{5}$/.test(code)
        ? `${message} (SQLSTATE ${code})`
        : message || (code ?? "unknown error");
  return new StateUnavailableError(`PostgreSQL ${where}: ${why}`, { cause: err });
}

/**
 * Runs `fn` in a transaction on one pooled connection. `passThrough` errors (ours) roll back and
 * are rethrown as they are; any other failure rolls back, discards the connection and becomes
 * `StateUnavailableError`. Deadlocks and serialization failures are retried (3 attempts).
 */
export async function withTransaction<R>(
  pool: PgPool,
  where: string,
  passThrough: PassThrough,
  fn: (client: PgPoolClient) => Promise<R>,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    let client: PgPoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw pgUnavailable(err, where);
    }
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      client.release();
      return result;
    } catch (err) {
      const ours = passThrough(err);
      const rolledBack = await client.query("ROLLBACK").then(
        () => true,
        () => false,
      );
      client.release(!rolledBack || !(ours || RETRYABLE.has(pgCode(err) ?? "")));
      if (ours) throw err;
      if (RETRYABLE.has(pgCode(err) ?? "") && attempt < 3) continue;
      throw pgUnavailable(err, where);
    }
  }
}

/** Plain queries outside a transaction, failures mapped. */
export async function query<R>(
  db: PgQueryable,
  where: string,
  text: string,
  values: readonly unknown[] = [],
): Promise<PgResult<R>> {
  try {
    return await db.query<R>(text, values);
  } catch (err) {
    throw pgUnavailable(err, where);
  }
}

/**
 * Creates tables once per process and store, under a transaction-scoped advisory lock (concurrent
 * `CREATE TABLE IF NOT EXISTS` from two processes can otherwise fail). A failure is not cached:
 * the next call tries again, so the store recovers when the server does.
 */
export class SchemaOnce {
  private ready: Promise<void> | null = null;

  constructor(
    private readonly pool: PgPool,
    private readonly where: string,
    private readonly schema: string | null,
    private readonly ddl: string,
  ) {}

  ensure(): Promise<void> {
    if (this.ready === null) {
      this.ready = withTransaction(
        this.pool,
        this.where,
        () => false,
        async (c) => {
          await c.query("SELECT pg_advisory_xact_lock(hashtext('agent-safe schema'))");
          if (this.schema !== null) await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
          await c.query(this.ddl);
        },
      );
      this.ready.catch(() => {
        this.ready = null;
      });
    }
    return this.ready;
  }
}
