/**
 * Several OS processes sharing one store — SQLite (one machine) and Redis (replicas): the breaker
 * opens after the configured denies wherever they happen and closes after the cooldown; a kill
 * switch set on one replica denies on the others at the next request; the rate limit is exact
 * across processes on one SQLite file; a nonce is consumed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GuardDeny } from "../../src/guards/guards.js";
import type { StateBackendOptions } from "../../src/state/interfaces.js";
import { deleteRedisPrefix, REDIS_URL, sleep, tempDir, testPrefix } from "../state/helpers.js";
import { type Replica, startReplicas } from "./processes.js";

const denyDecision = { result: "deny", reason: "No matching policy (default deny)", effective_risk: "low" };
const guardsConfig = {
  rate_limit: {
    max_requests: 1000,
    window_seconds: 60,
    circuit_breaker_threshold: 3,
    circuit_breaker_window_seconds: 10,
    circuit_breaker_cooldown_seconds: 1.5,
  },
};

interface Store {
  name: string;
  url: () => string;
  options: StateBackendOptions;
  cleanup: () => Promise<void>;
}

function stores(): Store[] {
  const dir = tempDir();
  const prefix = testPrefix();
  return [
    { name: "sqlite", url: () => `sqlite:${dir}/state.db`, options: {}, cleanup: async () => {} },
    {
      name: "redis",
      url: () => REDIS_URL,
      options: { keyPrefix: prefix },
      cleanup: () => deleteRedisPrefix(prefix),
    },
  ];
}

for (const store of stores()) {
  describe(`replicas sharing ${store.name}`, () => {
    let r: Replica[] = [];

    beforeAll(async () => {
      r = await startReplicas(3, store.url(), store.options, guardsConfig);
    });

    afterAll(async () => {
      await Promise.all(r.map((x) => x.stop()));
      await store.cleanup();
    });

    it("the breaker opens after the configured denies across processes and closes after the cooldown", async () => {
      const [a, b, c] = r as [Replica, Replica, Replica];
      await a.run({ op: "after", caller: "cb", decision: denyDecision });
      await b.run({ op: "after", caller: "cb", decision: denyDecision });
      expect(await c.run({ op: "before", caller: "cb" })).toBeNull();
      const third = await c.run<{ breaker: { opened: boolean; denies: number } }>({
        op: "after",
        caller: "cb",
        decision: denyDecision,
      });
      expect(third.breaker).toMatchObject({ opened: true, denies: 3 });
      const opened = Date.now();
      for (const x of [a, b, c]) {
        const d = await x.run<GuardDeny>({ op: "before", caller: "cb" });
        expect(d.code).toBe("circuit_breaker");
        expect(d.deny).toMatch(
          /^Circuit breaker open for caller 'cb': too many denied requests\. Auto-resumes in [12]s\.$/,
        );
      }
      expect(await a.run({ op: "before", caller: "someone-else" })).toBeNull();
      await sleep(Math.max(0, opened + 1700 - Date.now()));
      expect(await b.run({ op: "before", caller: "cb" })).toBeNull();
      // Closing cleared the deny log: one more deny elsewhere does not reopen it.
      await a.run({ op: "after", caller: "cb", decision: denyDecision });
      expect(await c.run({ op: "before", caller: "cb" })).toBeNull();
    });

    it("a kill switch engaged on one replica denies on the others at their next request", async () => {
      const [a, b, c] = r as [Replica, Replica, Replica];
      expect(await b.run({ op: "before", caller: "k1" })).toBeNull();
      await a.run({ op: "engage", reason: "incident 42" });
      const t0 = Date.now();
      expect(await b.run({ op: "before", caller: "k1" })).toEqual({
        deny: "Kill switch engaged: all actions are denied (incident 42)",
        code: "kill_switch",
      });
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(await c.run({ op: "release" })).toBe(true);
      expect(await b.run({ op: "before", caller: "k1" })).toBeNull();

      await c.run({ op: "engage", caller: "k2" });
      expect(await a.run({ op: "before", caller: "k2" })).toEqual({
        deny: "Kill switch engaged for caller 'k2'",
        code: "kill_switch",
      });
      expect(await a.run({ op: "before", caller: "k3", chain: ["k2"] })).toEqual({
        deny: "Kill switch engaged for caller 'k2' in the delegation chain of 'k3'",
        code: "kill_switch",
      });
      expect(await b.run({ op: "before", caller: "k3" })).toBeNull();
      await b.run({ op: "release", caller: "k2" });
      expect(await a.run({ op: "before", caller: "k2" })).toBeNull();
    });

    it("a nonce is consumed exactly once across processes", async () => {
      const nonces = Array.from({ length: 30 }, (_, i) => `nonce-${store.name}-${i}-${Date.now()}`);
      const expiresAtMs = Date.now() + 60_000;
      const results = await Promise.all(
        r.flatMap((x) => nonces.map((nonce) => x.run<boolean>({ op: "consume", nonce, expiresAtMs }))),
      );
      expect(results.filter(Boolean)).toHaveLength(nonces.length);
    });
  });
}

describe("rate limit exactness: 4 processes on one SQLite file", () => {
  it("max_requests 50 per 3 s, hammered for one window length: exactly 50 allowed", async () => {
    const dir = tempDir();
    const replicas = await startReplicas(
      4,
      `sqlite:${dir}/state.db`,
      {},
      {
        rate_limit: { max_requests: 50, window_seconds: 3 },
        kill_switch: false,
      },
    );
    try {
      const start = Date.now();
      const results = await Promise.all(
        replicas.map((x) =>
          x.run<{ allowed: number[]; denied: number; errors: number }>({
            op: "hammer",
            caller: "flood",
            untilMs: start + 2_900,
          }),
        ),
      );
      const allowed = results.flatMap((x) => x.allowed).sort((p, q) => p - q);
      const denied = results.reduce((n, x) => n + x.denied, 0);
      console.log(
        `sqlite exactness: ${allowed.length} allowed, ${denied} denied, per process ${results.map((x) => x.allowed.length).join("/")}`,
      );
      expect(results.every((x) => x.errors === 0)).toBe(true);
      expect(allowed).toHaveLength(50);
      expect(denied).toBeGreaterThan(500);
    } finally {
      await Promise.all(replicas.map((x) => x.stop()));
    }
  });
});
