import { describe, expect, it } from "vitest";
import { LruCache } from "../../src/identity/cache.js";

describe("LruCache", () => {
  it("stays within its bound and keeps what is used", () => {
    const c = new LruCache<number>(100);
    c.set("hot", 0);
    for (let i = 0; i < 10_000; i++) {
      c.set(`k${i}`, i);
      expect(c.get("hot")).toBe(0);
      expect(c.size).toBeLessThanOrEqual(100);
    }
    expect(c.get("k0")).toBeUndefined();
    expect(c.get("k9999")).toBe(9999);
  });

  it("replaces, deletes and clears", () => {
    const c = new LruCache<string>(4);
    c.set("a", "1");
    c.set("a", "2");
    expect(c.get("a")).toBe("2");
    expect(c.size).toBe(1);
    c.delete("a");
    expect(c.get("a")).toBeUndefined();
    c.set("b", "x");
    c.clear();
    expect(c.size).toBe(0);
    expect(() => new LruCache(0)).toThrow(RangeError);
  });

  it("a hit costs a hash lookup even in a large cache", () => {
    const c = new LruCache<number>(1_000_000);
    for (let i = 0; i < 200_000; i++) c.set(`k${i}`, i);
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) c.get("k5");
    expect((performance.now() - t0) / 100_000).toBeLessThan(0.005); // ms per hit, generous for a loaded VM
  });
});
