/**
 * One contract, three adapters: memory, a real SQLite file and a real Redis (own key prefix, the
 * test's clock). The same cases pin the 0.9.0 window semantics (strict `<` at the cutoff, refused
 * requests not recorded), the breaker, the risk window, caps, nonces and flags.
 */
import { afterAll, describe, expect, it } from "vitest";
import { StateCapacityError } from "../../src/state/types.js";
import { sleep, testBackends } from "./helpers.js";

for (const tb of testBackends()) {
  describe(`state contract: ${tb.name}`, () => {
    afterAll(() => tb.cleanup());

    it("sliding window: limit, strict cutoff, refused requests not recorded", async () => {
      const { windows } = await tb.open();
      const T = 1_700_000_000_000;
      expect(await windows.acquire("a", 3, 1000, T)).toMatchObject({ allowed: true, count: 1 });
      expect(await windows.acquire("a", 3, 1000, T + 1)).toMatchObject({ allowed: true, count: 2 });
      expect(await windows.acquire("a", 3, 1000, T + 2)).toMatchObject({ allowed: true, count: 3 });
      expect(await windows.acquire("a", 3, 1000, T + 3)).toMatchObject({ allowed: false, count: 3 });
      // The entry at T sits exactly at the cutoff T+1000-1000: it still counts.
      expect(await windows.acquire("a", 3, 1000, T + 1000)).toMatchObject({ allowed: false, count: 3 });
      // Just past it, T drops out; the refused requests at T+3 and T+1000 were never recorded.
      expect(await windows.acquire("a", 3, 1000, T + 1000.5)).toMatchObject({ allowed: true, count: 3 });
      expect(await windows.acquire("a", 3, 1000, T + 1001.5)).toMatchObject({ allowed: true, count: 3 });
      // Keys are independent.
      expect(await windows.acquire("b", 3, 1000, T + 1002)).toMatchObject({ allowed: true, count: 1 });
    });

    it("breaker: opens at the threshold, reports the cooldown left, closes and forgets", async () => {
      const { breakers } = await tb.open();
      const T = 1_700_000_000_000;
      expect(await breakers.check("c", 5000, T)).toMatchObject({ open: false, remainingMs: 0 });
      expect(await breakers.recordDeny("c", 2, 1000, 5000, T)).toMatchObject({ opened: false, denies: 1 });
      expect(await breakers.recordDeny("c", 2, 1000, 5000, T + 10)).toMatchObject({
        opened: true,
        denies: 2,
      });
      expect(await breakers.check("c", 5000, T + 20)).toMatchObject({ open: true, remainingMs: 4990 });
      expect(await breakers.check("c", 5000, T + 5009)).toMatchObject({ open: true, remainingMs: 1 });
      expect(await breakers.check("c", 5000, T + 5010)).toMatchObject({ open: false });
      // Closing cleared the deny log: one new deny does not reopen it.
      expect(await breakers.recordDeny("c", 2, 1000, 5000, T + 5020)).toMatchObject({
        opened: false,
        denies: 1,
      });
      // Denies age out of the breaker window.
      expect(await breakers.recordDeny("d", 2, 1000, 5000, T)).toMatchObject({ denies: 1 });
      expect(await breakers.recordDeny("d", 2, 1000, 5000, T + 1000.5)).toMatchObject({
        opened: false,
        denies: 1,
      });
    });

    it("risk window: sums scores over the window, records before reading, total records nothing", async () => {
      const { risk } = await tb.open();
      const T = 1_700_000_000_000;
      expect(await risk.add("r", 1, 1000, T)).toMatchObject({ score: 1, count: 1 });
      expect(await risk.add("r", 50, 1000, T + 10)).toMatchObject({ score: 51, count: 2 });
      expect(await risk.total("r", 1000, T + 20)).toMatchObject({ score: 51, count: 2 });
      expect(await risk.add("r", 50, 1000, T + 1000)).toMatchObject({ score: 101, count: 3 });
      expect(await risk.add("r", 5, 1000, T + 1000.5)).toMatchObject({ score: 105, count: 3 });
      expect(await risk.total("r", 1000, T + 1500)).toMatchObject({ score: 55, count: 2 });
      expect(await risk.total("r", 1000, T + 5000)).toMatchObject({ score: 0, count: 0 });
      expect(await risk.add("r", 15, 1000, T + 5000)).toMatchObject({ score: 15, count: 1 });
      expect(await risk.total("nobody", 1000, T)).toMatchObject({ score: 0, count: 0 });
    });

    it("cap: new keys are refused while the cap is full of live state; expired state makes room", async () => {
      const b = await tb.open({ maxCallers: 3 });
      const T = 1_700_000_000_000;
      for (const k of ["a", "b", "c"]) expect((await b.windows.acquire(k, 5, 1000, T)).allowed).toBe(true);
      await expect(b.windows.acquire("d", 5, 1000, T + 1)).rejects.toBeInstanceOf(StateCapacityError);
      await expect(b.windows.acquire("d", 5, 1000, T + 2)).rejects.toThrow("Guard state capacity reached");
      // Keys that are already there keep working.
      expect((await b.windows.acquire("a", 5, 1000, T + 3)).count).toBe(2);
      // b and c expire at T+1000; a (touched at T+3) lives until T+1003.
      expect((await b.windows.acquire("d", 5, 1000, T + 1001)).allowed).toBe(true);
      expect((await b.windows.acquire("e", 5, 1000, T + 1002)).allowed).toBe(true);
      await expect(b.windows.acquire("f", 5, 1000, T + 1002)).rejects.toBeInstanceOf(StateCapacityError);

      for (const k of ["a", "b", "c"]) await b.risk.add(k, 1, 1000, T);
      await expect(b.risk.add("d", 1, 1000, T)).rejects.toBeInstanceOf(StateCapacityError);
      expect((await b.risk.add("d", 1, 1000, T + 1001)).score).toBe(1);

      for (const k of ["a", "b", "c"]) await b.breakers.recordDeny(k, 5, 1000, 1000, T);
      await expect(b.breakers.recordDeny("d", 5, 1000, 1000, T)).rejects.toBeInstanceOf(StateCapacityError);
      // A breaker check never creates state, so it never hits the cap.
      expect((await b.breakers.check("zz", 1000, T)).open).toBe(false);
    });

    it("nonces: consumed exactly once", async () => {
      const { nonces } = await tb.open();
      const exp = Date.now() + 60_000;
      expect(await nonces.isUsed("n1")).toBe(false);
      expect(await nonces.consume("n1", exp)).toBe(true);
      expect(await nonces.consume("n1", exp)).toBe(false);
      expect(await nonces.isUsed("n1")).toBe(true);
      expect(await nonces.consume("n2", Date.now() - 1000)).toBe(true);
      expect(await nonces.consume("n2", Date.now() - 1000)).toBe(false);
      const results = await Promise.all(Array.from({ length: 20 }, () => nonces.consume("n3", exp)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("flags: set, get in one call, delete, list by prefix, expiry", async () => {
      const { flags } = await tb.open();
      expect(await flags.get(["x", "y"])).toEqual([null, null]);
      await flags.set("x", "1");
      await flags.set("p:y", "2", 60_000);
      await flags.set("p:z", "3", 150);
      expect(await flags.get(["x", "p:y", "p:z", "nope"])).toEqual(["1", "2", "3", null]);
      const listed = await flags.list("p:");
      expect(listed.map((f) => f.key)).toEqual(["p:y", "p:z"]);
      expect(listed[0]!.expiresAtMs).toBeGreaterThan(Date.now());
      expect((await flags.list()).find((f) => f.key === "x")?.expiresAtMs).toBeNull();
      await sleep(300);
      expect(await flags.get(["p:z"])).toEqual([null]);
      expect((await flags.list("p:")).map((f) => f.key)).toEqual(["p:y"]);
      expect(await flags.delete("x")).toBe(true);
      expect(await flags.delete("x")).toBe(false);
      expect(await flags.get(["x"])).toEqual([null]);
    });

    it("ping answers", async () => {
      const b = await tb.open();
      await expect(b.ping()).resolves.toBeUndefined();
    });
  });
}
