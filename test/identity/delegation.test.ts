/** REFERENCE.md §5.2 plus THREATS.md T14 (depth, cycles), T15 (widening), T16 (parent expiry). */
import { describe, expect, it } from "vitest";
import { DelegationError, identityServices } from "../../src/identity/index.js";
import { decodePart, ed25519Signer, forge, tempKeys, testClock } from "../helpers/tokens.js";

function setup(settings = {}) {
  const k = tempKeys(settings);
  const clock = testClock(Date.now());
  const svc = identityServices(k.keys, { clock: clock.now, failureCacheMs: 0 });
  const root = svc.issuer.issue({
    agentId: "orchestrator",
    agentName: "Orch",
    roles: ["deployer", "reader"],
    groups: ["sre", "oncall"],
  }).token;
  const key = k.store.signingKey("identity-issuer");
  const sign = (payload: Record<string, unknown>) =>
    forge({ alg: "EdDSA", kid: key.kid, typ: "JWT" }, payload, ed25519Signer(key.privateKey));
  return { ...k, ...svc, clock, root, sign };
}

async function refusedWith(p: Promise<unknown>, message: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DelegationError);
  expect((err as Error).message).toBe(message);
}

describe("delegation", () => {
  it("creates a narrowed child whose chain lives in the signed token", async () => {
    const s = setup();
    const d = await s.delegation.createDelegation(s.root, {
      childAgentId: "worker-1",
      childName: "W1",
      roles: ["reader"],
      groups: ["sre"],
    });
    expect(d).toMatchObject({
      parent_agent_id: "orchestrator",
      child_agent_id: "worker-1",
      delegation_depth: 1,
      delegated_roles: ["reader"],
    });
    const payload = decodePart(d.token, 1);
    expect(Object.keys(payload)).toEqual([
      "agent_id",
      "agent_name",
      "roles",
      "groups",
      "iss",
      "iat",
      "exp",
      "delegation_chain",
      "delegated_roles",
      "delegation_depth",
    ]);
    expect(payload.delegation_chain).toEqual([
      {
        agent_id: "orchestrator",
        agent_name: "Orch",
        roles: ["deployer", "reader"],
        groups: ["sre", "oncall"],
        delegated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/),
      },
    ]);
    const child = await s.delegation.verifyDelegation(d.token);
    expect(child.identity).toMatchObject({
      agent_id: "worker-1",
      roles: ["reader"],
      groups: ["sre"],
      delegation_depth: 1,
    });
    // Nothing is inherited by default.
    const bare = await s.delegation.createDelegation(s.root, { childAgentId: "worker-2" });
    expect(bare.identity).toMatchObject({ roles: [], groups: [] });
  });

  it("refuses roles or groups the parent does not hold (widening), with 0.9.0's messages", async () => {
    const s = setup();
    await refusedWith(
      s.delegation.createDelegation(s.root, { childAgentId: "w", roles: ["reader", "admin", "root"] }),
      "Cannot delegate roles not held by parent: ['admin', 'root']",
    );
    await refusedWith(
      s.delegation.createDelegation(s.root, { childAgentId: "w", groups: ["platform"] }),
      "Cannot delegate groups not held by parent: ['platform']",
    );
    // A grandchild cannot get back what its parent was not given.
    const child = await s.delegation.createDelegation(s.root, { childAgentId: "w", roles: ["reader"] });
    await refusedWith(
      s.delegation.createDelegation(child.token, { childAgentId: "g", roles: ["deployer"] }),
      "Cannot delegate roles not held by parent: ['deployer']",
    );
  });

  it("a widening token signed outside the rules is refused at verification", async () => {
    const s = setup();
    const d = await s.delegation.createDelegation(s.root, { childAgentId: "w", roles: ["reader"] });
    const payload = decodePart(d.token, 1);
    await expect(s.verifier.verify(s.sign({ ...payload, roles: ["reader", "admin"] }))).rejects.toThrow(
      "Invalid token: Delegated roles not held by 'orchestrator': ['admin']",
    );
    await expect(s.verifier.verify(s.sign({ ...payload, groups: ["platform"] }))).rejects.toThrow(
      "Invalid token: Delegated groups not held by 'orchestrator': ['platform']",
    );
  });

  it("enforces the server's max depth; a request can lower it but not raise it", async () => {
    const s = setup({ maxDelegationDepth: 2 });
    const a = await s.delegation.createDelegation(s.root, { childAgentId: "a" });
    const b = await s.delegation.createDelegation(a.token, { childAgentId: "b" });
    await refusedWith(
      s.delegation.createDelegation(b.token, { childAgentId: "c" }),
      "Delegation depth 3 exceeds max depth 2",
    );
    await refusedWith(
      s.delegation.createDelegation(b.token, { childAgentId: "c", maxDepth: 10 }),
      "Delegation depth 3 exceeds max depth 2",
    );
    await refusedWith(
      s.delegation.createDelegation(a.token, { childAgentId: "b2", maxDepth: 1 }),
      "Delegation depth 2 exceeds max depth 1",
    );
    // Depth over the limit in a signed token (minted elsewhere, or before the limit was lowered).
    const p = decodePart(b.token, 1) as { delegation_chain: object[] };
    const deep = {
      ...p,
      agent_id: "c",
      delegation_chain: [...p.delegation_chain, { agent_id: "b", agent_name: "", roles: [], groups: [] }],
      delegation_depth: 3,
    };
    await expect(s.verifier.verify(s.sign(deep))).rejects.toThrow(
      "Invalid token: Delegation depth 3 exceeds max depth 2",
    );
    await expect(s.verifier.verify(s.sign({ ...p, delegation_depth: 1 }))).rejects.toThrow(
      "Invalid token: Delegation depth 1 does not match the chain length 2",
    );
  });

  it("refuses self-delegation and cycles (A→B→A), at creation and in signed tokens", async () => {
    const s = setup();
    await refusedWith(
      s.delegation.createDelegation(s.root, { childAgentId: "orchestrator" }),
      "Self-delegation is not allowed: 'orchestrator' cannot delegate to itself",
    );
    const b = await s.delegation.createDelegation(s.root, { childAgentId: "b" });
    await refusedWith(
      s.delegation.createDelegation(b.token, { childAgentId: "orchestrator" }),
      "Delegation cycle: 'orchestrator' is already in the delegation chain",
    );
    await refusedWith(
      s.delegation.createDelegation(b.token, { childAgentId: "b" }),
      "Self-delegation is not allowed: 'b' cannot delegate to itself",
    );
    const p = decodePart(b.token, 1) as { delegation_chain: object[] };
    const cycle = {
      ...p,
      agent_id: "orchestrator",
      delegation_chain: [...p.delegation_chain, { agent_id: "b", agent_name: "", roles: [], groups: [] }],
      delegation_depth: 2,
    };
    await expect(s.verifier.verify(s.sign(cycle))).rejects.toThrow(
      "Invalid token: Delegation cycle: 'orchestrator' appears more than once in the chain",
    );
  });

  it("the child never outlives the parent: a child used after the parent's expiry is refused", async () => {
    const s = setup();
    const parent = s.issuer.issue({ agentId: "p", roles: ["r"], ttlSeconds: 60 }).token;
    const parentExp = decodePart(parent, 1).exp as number;
    const child = await s.delegation.createDelegation(parent, { childAgentId: "c", ttl: 3600 });
    expect(decodePart(child.token, 1).exp).toBe(parentExp);
    const short = await s.delegation.createDelegation(parent, { childAgentId: "c2", ttl: 10 });
    expect(decodePart(short.token, 1).exp).toBe((decodePart(short.token, 1).iat as number) + 10);
    await expect(s.verifier.verify(child.token)).resolves.toMatchObject({ agent_id: "c" });
    s.clock.set(parentExp * 1000);
    await expect(s.verifier.verify(child.token)).rejects.toThrow("Token has expired");
    await refusedWith(
      s.delegation.createDelegation(parent, { childAgentId: "late" }),
      "Invalid parent token: Token has expired",
    );
  });

  it("refuses an invalid parent and bad requests with typed errors", async () => {
    const s = setup();
    await refusedWith(
      s.delegation.createDelegation("not-a-token", { childAgentId: "c" }),
      "Invalid parent token: Invalid token: Not enough segments",
    );
    await refusedWith(
      s.delegation.createDelegation(s.root, { childAgentId: "" }),
      "The child agent id must be a non-empty string",
    );
    await refusedWith(
      s.delegation.createDelegation(s.root, { childAgentId: "c", ttl: 0 }),
      "The TTL must be a whole number of seconds, at least 1",
    );
  });
});
