/**
 * `openStateBackend(url)`: `memory`, `sqlite:<path>` (relative to the project root; the default
 * is `sqlite:.agent-safe/state.db`), `redis://…` / `rediss://…` or `postgres://…` /
 * `postgresql://…` (`?schema=name` puts the tables in that schema). Adapters are loaded only when
 * used (better-sqlite3 is native, ioredis and pg are large).
 */
import { isAbsolute, resolve } from "node:path";
import { type StateBackend, type StateBackendOptions, StateConfigError } from "./interfaces.js";
import { parsePostgresUrl } from "./postgres/driver.js";

export type StateUrl =
  | { kind: "memory" }
  | { kind: "sqlite"; path: string }
  | { kind: "redis"; url: string }
  | { kind: "postgres"; url: string };

export function parseStateUrl(url: string, baseDir: string = process.cwd()): StateUrl {
  const text = url.trim();
  if (text === "memory" || text === "memory:") return { kind: "memory" };
  if (text.startsWith("sqlite:")) {
    const raw = text.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (raw === "" || raw === ":memory:")
      throw new StateConfigError(
        `state '${url}': sqlite: needs a file path, e.g. sqlite:.agent-safe/state.db`,
      );
    return { kind: "sqlite", path: isAbsolute(raw) ? raw : resolve(baseDir, raw) };
  }
  if (/^rediss?:\/\//.test(text)) {
    checkRedisUrl(url, text);
    return { kind: "redis", url: text };
  }
  if (/^postgres(ql)?:\/\//.test(text)) {
    try {
      parsePostgresUrl(text);
    } catch (err) {
      if (err instanceof StateConfigError) throw new StateConfigError(`state ${err.message}`);
      throw err;
    }
    return { kind: "postgres", url: text };
  }
  throw new StateConfigError(
    `state '${redact(url)}' is not a state store: use memory, sqlite:<path>, redis://host:port, ` +
      "rediss://… or postgres://…",
  );
}

export async function openStateBackend(
  url: string,
  options: StateBackendOptions = {},
): Promise<StateBackend> {
  checkOptions(options);
  const parsed = parseStateUrl(url, options.baseDir);
  switch (parsed.kind) {
    case "memory": {
      const { MemoryBackend } = await import("./memory/backend.js");
      return new MemoryBackend(options);
    }
    case "sqlite": {
      const { SqliteBackend } = await import("./sqlite/backend.js");
      return new SqliteBackend(parsed.path, {
        maxCallers: options.maxCallers,
        busyTimeoutMs: options.timeoutMs,
      });
    }
    case "redis": {
      const { RedisBackend } = await import("./redis/backend.js");
      return RedisBackend.connect(parsed.url, options);
    }
    case "postgres": {
      const { PostgresBackend } = await import("./postgres/backend.js");
      return new PostgresBackend(parsed.url, {
        maxCallers: options.maxCallers,
        timeoutMs: options.timeoutMs,
      });
    }
  }
}

function checkRedisUrl(original: string, text: string): void {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new StateConfigError(`state '${redact(original)}' is not a valid URL (redis://host:port/db)`);
  }
  if (parsed.hostname === "")
    throw new StateConfigError(`state '${redact(original)}': the URL names no host (redis://host:port/db)`);
  if (!/^(\/\d*)?$/.test(parsed.pathname))
    throw new StateConfigError(
      `state '${redact(original)}': the path must be a database number (redis://host:port/0)`,
    );
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

function checkOptions(o: StateBackendOptions): void {
  const positiveInt = (v: number | undefined, name: string) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1))
      throw new StateConfigError(`state option ${name} must be a positive integer, got ${v}`);
  };
  positiveInt(o.maxCallers, "max_callers");
  positiveInt(o.maxNonces, "max_nonces");
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0 && Number.isFinite(o.timeoutMs)))
    throw new StateConfigError(`state option timeout_ms must be a positive number, got ${o.timeoutMs}`);
}
