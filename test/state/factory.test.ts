/** `openStateBackend` / `parseStateUrl`: the accepted URLs, and clear errors for the rest. */
import { describe, expect, it } from "vitest";
import { openStateBackend, parseStateUrl } from "../../src/state/factory.js";
import { StateConfigError } from "../../src/state/interfaces.js";
import { StateUnavailableError } from "../../src/state/types.js";
import { REDIS_URL, tempDir } from "./helpers.js";

describe("state URLs", () => {
  it("parses memory, sqlite (relative to the project root), redis and postgres", () => {
    expect(parseStateUrl("memory")).toEqual({ kind: "memory" });
    expect(parseStateUrl("sqlite:.agent-safe/state.db", "/srv/app")).toEqual({
      kind: "sqlite",
      path: "/srv/app/.agent-safe/state.db",
    });
    expect(parseStateUrl("sqlite:/var/lib/as/state.db", "/srv/app")).toEqual({
      kind: "sqlite",
      path: "/var/lib/as/state.db",
    });
    expect(parseStateUrl("sqlite:///var/lib/as/state.db")).toEqual({
      kind: "sqlite",
      path: "/var/lib/as/state.db",
    });
    expect(parseStateUrl("redis://:pw@10.0.0.1:6380/2")).toEqual({
      kind: "redis",
      url: "redis://:pw@10.0.0.1:6380/2",
    });
    expect(parseStateUrl("rediss://cache.example:6380")).toMatchObject({ kind: "redis" });
    expect(parseStateUrl("postgres://u:pw@db:5433/agent")).toEqual({
      kind: "postgres",
      url: "postgres://u:pw@db:5433/agent",
    });
    expect(parseStateUrl("postgresql://db/agent?schema=as_state")).toMatchObject({ kind: "postgres" });
  });

  it("refuses what cannot work, without echoing passwords", async () => {
    expect(() => parseStateUrl("sqlite:")).toThrow(StateConfigError);
    expect(() => parseStateUrl("sqlite::memory:")).toThrow(/needs a file path/);
    expect(() => parseStateUrl("mysql://x")).toThrow(/is not a state store/);
    expect(() => parseStateUrl("redis://[bad")).toThrow(/not a valid URL/);
    expect(() => parseStateUrl("redis://:secret@h:6379/x")).toThrow(
      "state 'redis://***@h:6379/x': the path must be a database number (redis://host:port/0)",
    );
    expect(() => parseStateUrl("postgres://h/db?schema=bad-name")).toThrow(
      /schema must be a plain identifier/,
    );
    expect(() => parseStateUrl("postgres://u:secret@h/db?schema=x;drop")).toThrow(
      "state 'postgres://u:***@h/db?schema=x;drop': schema must be a plain identifier (letters, digits, _), got 'x;drop'",
    );
    await expect(openStateBackend("memory", { maxCallers: 0 })).rejects.toThrow(/max_callers/);
    await expect(openStateBackend("memory", { timeoutMs: -1 })).rejects.toThrow(/timeout_ms/);
  });

  it("a Redis database that does not exist fails closed instead of silently using database 0", async () => {
    const b = await openStateBackend(`${REDIS_URL}/999`, { keyPrefix: "agent-safe-test:never:" });
    try {
      await expect(b.windows.acquire("x", 1, 1000, Date.now())).rejects.toBeInstanceOf(StateUnavailableError);
      await expect(b.ping()).rejects.toThrow(/DB index is out of range/);
    } finally {
      await b.close();
    }
  });

  it("describes where the state lives, without secrets", async () => {
    const dir = tempDir();
    const s = await openStateBackend("sqlite:state.db", { baseDir: dir });
    expect(s).toMatchObject({ kind: "sqlite", shared: true, description: `sqlite:${dir}/state.db` });
    await s.close();
    const m = await openStateBackend("memory");
    expect(m).toMatchObject({ kind: "memory", shared: false, description: "memory" });
    const r = await openStateBackend(REDIS_URL.replace("redis://", "redis://user:secret@"), {
      timeoutMs: 200,
    });
    expect(r.description).not.toContain("secret");
    expect(r.description).toContain("***");
    await r.close();
  });
});
