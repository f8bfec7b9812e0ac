/** DESIGN.md §4 item 5 (strict) and REFERENCE.md §2.1 (reference profile, or no keys). */
import { describe, expect, it } from "vitest";
import { identityServices, resolveCaller } from "../../src/identity/index.js";
import { InvalidCallerError } from "../../src/pdp/caller.js";
import { tempKeys, testClock } from "../helpers/tokens.js";

function setup() {
  const clock = testClock(Date.now());
  const svc = identityServices(tempKeys().keys, { clock: clock.now });
  return {
    ...svc,
    clock,
    token: svc.issuer.issue({ agentId: "deploy-bot", roles: ["deployer"], ttlSeconds: 60 }).token,
  };
}

describe("resolveCaller", () => {
  it("strict with keys: a valid token is the caller; everything else is unauthenticated", async () => {
    const s = setup();
    const strict = { profile: "strict" as const, verifier: s.verifier, trusted: true };
    expect(await resolveCaller(s.token, strict)).toMatchObject({
      source: "token",
      caller: { agent_id: "deploy-bot", roles: ["deployer"] },
    });
    expect(await resolveCaller({ agent_id: "sdk", roles: ["x"] }, strict)).toMatchObject({
      source: "object",
      caller: { agent_id: "sdk", roles: ["x"] },
    });
    s.clock.advance(60);
    const expired = await resolveCaller(s.token, strict);
    expect(expired).toEqual({ error: "Unauthenticated caller: Token has expired", code: "expired" });
    // Keys configured but no verifier: fail closed.
    expect(
      await resolveCaller("x.y.z", {
        profile: "strict",
        verifier: null,
        keysConfigured: true,
        trusted: true,
      }),
    ).toMatchObject({ code: "keys_unavailable" });
    // A malformed trusted object is an invalid request, not a caller.
    await expect(resolveCaller({ agent_id: 5 }, strict)).rejects.toThrow(InvalidCallerError);
  });

  it("reference profile with keys: a failing string becomes a bare agent id (0.9.0)", async () => {
    const s = setup();
    const ref = { profile: "reference" as const, verifier: s.verifier, trusted: false };
    expect(await resolveCaller(s.token, ref)).toMatchObject({
      source: "token",
      caller: { agent_id: "deploy-bot" },
    });
    expect(await resolveCaller("deploy-agent-01", ref)).toEqual({
      source: "bare-id",
      caller: {
        agent_id: "deploy-agent-01",
        agent_name: "",
        roles: [],
        groups: [],
        delegation_chain: [],
        delegated_roles: [],
        delegation_depth: 0,
      },
    });
    s.clock.advance(60);
    const expired = await resolveCaller(s.token, ref);
    expect(expired.caller?.agent_id).toBe(s.token);
    expect(await resolveCaller(null, ref)).toEqual({ caller: null, source: "anonymous" });
    expect(await resolveCaller({ agent_id: "obj" }, ref)).toMatchObject({ source: "object" });
    expect((await resolveCaller("", ref)).caller?.agent_id).toBe("");
  });

  it("no keys configured: 0.9.0 behaviour in either profile", async () => {
    for (const profile of ["strict", "reference"] as const) {
      const none = { profile, verifier: null, trusted: false };
      expect(await resolveCaller("deploy-bot", none)).toMatchObject({
        source: "bare-id",
        caller: { agent_id: "deploy-bot" },
      });
      expect(await resolveCaller(null, none)).toEqual({ caller: null, source: "anonymous" });
    }
  });
});
