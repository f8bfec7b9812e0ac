/** The kill switch on its own: global and per caller, delegation chains, status, expiry, odd values. */
import { describe, expect, it } from "vitest";
import { Guards } from "../../src/guards/guards.js";
import { KillSwitch } from "../../src/guards/kill-switch.js";
import { MemoryBackend } from "../../src/state/memory/backend.js";
import { StateUnavailableError } from "../../src/state/types.js";
import { sleep } from "../state/helpers.js";

describe("kill switch", () => {
  it("global: denies every caller until released", async () => {
    const g = new Guards(new MemoryBackend());
    expect(await g.beforeDecision("a", Date.now())).toBeNull();
    await g.killSwitch!.engage();
    for (const c of ["a", "b", "anonymous"])
      expect(await g.beforeDecision(c, Date.now())).toEqual({
        deny: "Kill switch engaged: all actions are denied",
        code: "kill_switch",
      });
    expect(await g.killSwitch!.release()).toBe(true);
    expect(await g.killSwitch!.release()).toBe(false);
    expect(await g.beforeDecision("a", Date.now())).toBeNull();
  });

  it("per caller: that agent and anyone acting through it by delegation", async () => {
    const g = new Guards(new MemoryBackend());
    await g.killSwitch!.engage({ caller: "root-agent", reason: "compromised" });
    expect((await g.beforeDecision("root-agent", Date.now()))?.deny).toBe(
      "Kill switch engaged for caller 'root-agent' (compromised)",
    );
    expect((await g.beforeDecision("child", Date.now(), { chain: ["root-agent", "mid"] }))?.deny).toBe(
      "Kill switch engaged for caller 'root-agent' in the delegation chain of 'child' (compromised)",
    );
    expect(await g.beforeDecision("child", Date.now(), { chain: ["other"] })).toBeNull();
    expect(await g.beforeDecision("someone", Date.now())).toBeNull();
  });

  it("the global switch wins over a caller's, and the caller's own over its chain's", async () => {
    const ks = new KillSwitch(new MemoryBackend().flags);
    await ks.engage({ caller: "c" });
    await ks.engage({ caller: "r" });
    expect(await ks.check("c", ["r"])).toBe("Kill switch engaged for caller 'c'");
    await ks.engage({ reason: "maintenance" });
    expect(await ks.check("c", ["r"])).toBe("Kill switch engaged: all actions are denied (maintenance)");
  });

  it("status lists what is engaged, global first; an expiring switch releases itself", async () => {
    const ks = new KillSwitch(new MemoryBackend().flags);
    expect(await ks.status()).toEqual([]);
    await ks.engage({ caller: "zed", by: "ops@host" });
    await ks.engage({ caller: "amy", ttlMs: 100 });
    await ks.engage({ reason: "incident" });
    const s = await ks.status();
    expect(s.map((e) => e.caller)).toEqual([null, "amy", "zed"]);
    expect(s[0]).toMatchObject({ reason: "incident", expiresAtMs: null });
    expect(s[2]).toMatchObject({ engagedBy: "ops@host" });
    expect(s[1]!.expiresAtMs).toBeGreaterThan(Date.now());
    await sleep(150);
    expect((await ks.status()).map((e) => e.caller)).toEqual([null, "zed"]);
  });

  it("an unreadable flag value still denies", async () => {
    const backend = new MemoryBackend();
    await backend.flags.set("kill-switch:global", "not json");
    expect(await new KillSwitch(backend.flags).check("x")).toBe(
      "Kill switch engaged: all actions are denied",
    );
  });

  it("a store that cannot be read denies", async () => {
    const backend = new MemoryBackend();
    backend.flags.get = async () => {
      throw new StateUnavailableError("SQLite /x/state.db: disk I/O error (SQLITE_IOERR)");
    };
    expect(await new Guards(backend).beforeDecision("x", Date.now())).toEqual({
      deny: "State store unavailable: SQLite /x/state.db: disk I/O error (SQLITE_IOERR)",
      code: "state_unavailable",
    });
  });

  it("can be turned off for embedders that do not want it", async () => {
    const backend = new MemoryBackend();
    await new KillSwitch(backend.flags).engage();
    expect(await new Guards(backend, { kill_switch: false }).beforeDecision("x", Date.now())).toBeNull();
  });
});
