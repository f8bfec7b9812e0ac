/**
 * The PostgreSQL state adapter beyond the shared contract: several independent pools (as several
 * replicas would hold) racing on one key get exact results; an unreachable server (a closed port)
 * fails closed with a clear reason, quickly; a server that vanishes mid-run (a loopback proxy in
 * front of the real one, killed and restarted) turns decisions into DENY and back, with no crash
 * (THREATS.md T18).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { Guards } from "../../src/guards/guards.js";
import { openStateBackend } from "../../src/state/factory.js";
import type { StateBackend } from "../../src/state/interfaces.js";
import { StateUnavailableError } from "../../src/state/types.js";
import {
  dropPostgresSchemas,
  freePort,
  POSTGRES_URL,
  postgresUrl,
  sleep,
  TcpProxy,
  testSchema,
} from "./helpers.js";

const schemas: string[] = [];
const opened: StateBackend[] = [];

async function open(url: string, o: Parameters<typeof openStateBackend>[1] = {}): Promise<StateBackend> {
  const b = await openStateBackend(url, o);
  opened.push(b);
  return b;
}

function freshUrl(): string {
  const s = testSchema();
  schemas.push(s);
  return postgresUrl(s);
}

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

afterAll(async () => {
  for (const b of opened.splice(0)) await b.close();
  await dropPostgresSchemas(schemas);
});

describe("PostgreSQL state: replicas", () => {
  it("four pools racing on one key: exact window limit, one nonce winner, consistent new-key creation", async () => {
    const url = freshUrl();
    const replicas = await Promise.all([1, 2, 3, 4].map(() => open(url, { maxCallers: 1000 })));
    await replicas[0]!.ping(); // creates the schema once
    const T = Date.now();
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) => replicas[i % 4]!.windows.acquire("hot", 37, 60_000, T + i)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(37);

    const nonces = await Promise.all(
      Array.from({ length: 40 }, (_, i) => replicas[i % 4]!.nonces.consume("n-race", Date.now() + 60_000)),
    );
    expect(nonces.filter(Boolean)).toHaveLength(1);

    // Twenty new keys created concurrently from four pools, each by several at once.
    await Promise.all(
      Array.from({ length: 80 }, (_, i) => replicas[i % 4]!.risk.add(`k${i % 20}`, 1, 60_000, T)),
    );
    for (let k = 0; k < 20; k++) expect((await replicas[0]!.risk.total(`k${k}`, 60_000, T)).score).toBe(4);
  });

  it("the cap holds across pools", async () => {
    const url = freshUrl();
    const a = await open(url, { maxCallers: 5 });
    const b = await open(url, { maxCallers: 5 });
    const T = Date.now();
    const r = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).windows.acquire(`c${i}`, 5, 60_000, T)),
    );
    expect(r.filter((x) => x.status === "fulfilled")).toHaveLength(5);
    const refused = r.filter((x) => x.status === "rejected") as PromiseRejectedResult[];
    expect(refused.map((x) => (x.reason as Error).message)).toEqual(
      Array(7).fill("Guard state capacity reached"),
    );
  });
});

describe("PostgreSQL state: fail closed", () => {
  it("a closed port: every kind of state fails fast with a clear reason; guards DENY", async () => {
    const port = await freePort();
    const b = await open(`postgres://postgres:hunter2@127.0.0.1:${port}/test`, { timeoutMs: 500 });
    expect(b.description).toBe(`postgres://postgres:***@127.0.0.1:${port}/test`);
    const t0 = performance.now();
    const ops: Promise<unknown>[] = [
      b.windows.acquire("a", 1, 1000, Date.now()),
      b.breakers.check("a", 1000, Date.now()),
      b.risk.add("a", 1, 1000, Date.now()),
      b.nonces.consume("n", Date.now() + 1000),
      b.nonces.isUsed("n"),
      b.flags.get(["x"]),
      b.ping(),
    ];
    for (const op of ops) {
      const err = await op.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateUnavailableError);
      expect((err as Error).message).toMatch(
        new RegExp(`^PostgreSQL 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
      );
      expect((err as Error).message).not.toContain("hunter2");
    }
    expect(performance.now() - t0).toBeLessThan(2000);

    const g = new Guards(b, {
      rate_limit: { max_requests: 10, window_seconds: 60 },
      cumulative_risk: { window_seconds: 60 },
    });
    const before = await g.beforeDecision("agent", Date.now());
    expect(before?.code).toBe("state_unavailable");
    expect(before?.deny).toMatch(/^State store unavailable: PostgreSQL 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it("the server vanishes mid-run: DENY, no crash; decisions resume when it is back", async () => {
    const proxy = await TcpProxy.start(5432);
    const schema = testSchema();
    schemas.push(schema);
    const url = `${POSTGRES_URL.replace(/127\.0\.0\.1:5432|localhost:5432/, `127.0.0.1:${proxy.port}`)}?schema=${schema}`;
    const b = await open(url, { timeoutMs: 500 });
    const g = new Guards(b, {
      rate_limit: { max_requests: 1_000_000, window_seconds: 60 },
      cumulative_risk: { window_seconds: 60, escalation_threshold: 1e6, deny_threshold: 2e6 },
    });
    const decide = async () => {
      const t0 = performance.now();
      const before = await g.beforeDecision("agent", Date.now());
      if (before !== null) return { result: "deny", reason: before.deny, ms: performance.now() - t0 };
      const after = await g.afterDecision(
        "agent",
        { result: "allow", reason: "ok", effective_risk: "low" },
        Date.now(),
      );
      return { result: after.result, reason: after.reason, ms: performance.now() - t0 };
    };
    for (let i = 0; i < 10; i++) expect((await decide()).result).toBe("allow");

    await proxy.stop();
    const during = [];
    for (let i = 0; i < 10; i++) during.push(await decide());
    expect(during.every((d) => d.result === "deny")).toBe(true);
    expect(during[0]!.reason).toMatch(/^State store unavailable: PostgreSQL 127\.0\.0\.1:\d+: /);
    expect(Math.max(...during.map((d) => d.ms))).toBeLessThan(1500);

    await proxy.restart();
    let back = await decide();
    for (let i = 0; i < 20 && back.result !== "allow"; i++) {
      await sleep(100);
      back = await decide();
    }
    expect(back.result).toBe("allow");
    await proxy.stop();
  });
});
