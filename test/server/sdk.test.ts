/**
 * The remote SDK: `new AgentSafe({ url, token })` (and `RemoteAgentSafe`) offers the in-process
 * SDK's methods with the same results and the same typed errors, against a sidecar on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentSafe,
  type AgentSafeClient,
  AgentSafeError,
  AgentSafeHttpError,
  type Decision,
  DelegationError,
  RemoteAgentSafe,
} from "../../src/index.js";
import type { Sidecar } from "../../src/server/index.js";
import { issueToken, makeProject, startInProcess } from "./helpers.js";

const staging = { target: "staging/api-server", params: { namespace: "staging", deployment: "api-server" } };
/** Fields that differ between any two decisions (ids, the ticket's nonce, the time). */
const VOLATILE = ["audit_id", "ticket", "evaluated_at", "request_id"];

/** The decision without its volatile fields (an approval request id: only whether there is one). */
function stable(d: Decision): Record<string, unknown> {
  return {
    ...Object.fromEntries(Object.entries(d).filter(([k]) => !VOLATILE.includes(k))),
    filed_approval: d.request_id !== null,
  };
}

let dir: string;
let sidecar: Sidecar;
let local: AgentSafe;
let remote: AgentSafe;
let deployer: string;

beforeAll(async () => {
  dir = makeProject({ extra: "audit:\n  path: ./audit.jsonl\n" });
  sidecar = await startInProcess(dir);
  local = await AgentSafe.open({ cwd: dir, cache: false, audit: false });
  deployer = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
  remote = new AgentSafe({ url: sidecar.url, token: deployer });
});

afterAll(async () => {
  await remote?.close();
  await local?.close();
  await sidecar?.close();
});

describe("new AgentSafe({ url, token })", () => {
  it("is the same client as in-process: check, checkPlan give the same decisions", async () => {
    const clients: AgentSafeClient[] = [local, remote];
    expect(remote.isRemote).toBe(true);
    expect(local.isRemote).toBe(false);
    const requests: [string, Parameters<AgentSafe["check"]>[1]][] = [
      ["restart-deployment", staging],
      [
        "restart-deployment",
        { target: "prod/api-server", params: { namespace: "prod", deployment: "api-server" } },
      ],
      [
        "scale-deployment",
        { target: "dev/test-app", params: { namespace: "prod", deployment: "test-app", replicas: 3 } },
      ],
      ["no-such-action", {}],
      ["restart-deployment", { ...staging, caller: null }],
      ["restart-deployment", { ...staging, caller: "deploy-bot" }],
    ];
    for (const [action, options] of requests) {
      const localOptions = options?.caller === undefined ? { ...options, caller: deployer } : options;
      const [l, r] = [
        await clients[0]!.check(action, localOptions),
        await clients[1]!.check(action, options),
      ];
      expect(stable(r), `${action} ${JSON.stringify(options)}`).toEqual(stable(l));
      expect(r.ticket === null).toBe(l.ticket === null);
    }
    const steps = [
      { action: "restart-deployment", ...staging },
      {
        action: "get-pod-logs",
        target: "staging/api-server",
        params: { namespace: "staging", pod: "api-0" },
      },
    ];
    const [lp, rp] = [
      await local.checkPlan(steps.map((s) => ({ ...s, caller: deployer }))),
      await remote.checkPlan(steps),
    ];
    expect(rp.map(stable)).toEqual(lp.map(stable));
  });

  it("verifyTicket / redeemTicket give the same results", async () => {
    const ticket = (await remote.check("restart-deployment", staging)).ticket!.token;
    const v = await remote.verifyTicket(ticket, { expectedAction: "restart-deployment" });
    expect([v.valid, v.used, v.redeemed, v.reason]).toEqual([true, false, false, "Ticket is valid"]);
    const mismatch = await remote.redeemTicket(ticket, { expectedTarget: "prod/api-server" });
    const localMismatch = await local.verifyTicket(ticket, { expectedTarget: "prod/api-server" });
    expect([mismatch.valid, mismatch.code, mismatch.reason]).toEqual([
      false,
      localMismatch.code,
      localMismatch.reason,
    ]);
    const first = await remote.redeemTicket(ticket, { expectedParams: staging.params });
    expect([first.valid, first.redeemed]).toEqual([true, true]);
    expect(Object.keys(first.ticket!).sort()).toEqual(Object.keys(v.ticket!).sort());
    const again = await remote.redeemTicket(ticket);
    expect([again.valid, again.code]).toEqual([false, "replay"]);
  });

  it("delegate: the same token shape, and the same DelegationError when refused", async () => {
    const r = await remote.delegate(deployer, { childAgentId: "helper", roles: ["deployer"], ttl: 600 });
    const l = await local.delegate(deployer, { childAgentId: "helper", roles: ["deployer"], ttl: 600 });
    expect(Object.keys(r).sort()).toEqual(Object.keys(l).sort());
    expect({ ...r.identity, delegation_chain: [] }).toEqual({ ...l.identity, delegation_chain: [] });
    const refuse = async (c: AgentSafeClient) =>
      c.delegate(deployer, { childAgentId: "x", roles: ["admin"] }).catch((e: unknown) => e);
    const [re, le] = [await refuse(remote), await refuse(local)];
    expect(re).toBeInstanceOf(DelegationError);
    expect(le).toBeInstanceOf(DelegationError);
    expect([(re as DelegationError).message, (re as DelegationError).code]).toEqual([
      (le as DelegationError).message,
      (le as DelegationError).code,
    ]);
  });

  it("refuses what a remote client cannot do, with AgentSafeError", async () => {
    await expect(remote.check("x", { caller: { agent_id: "admin", roles: ["admin"] } })).rejects.toThrow(
      /cannot pass an identity object/,
    );
    await expect(remote.check("x", { timestamp: "2025-01-01T00:00:00Z" })).rejects.toThrow(/in-process only/);
    await expect(remote.explain("x")).rejects.toThrow(AgentSafeError);
    expect(() => remote.world).toThrow(/available in-process only/);
    expect(() => new AgentSafe({ url: "ftp://x" })).toThrow(AgentSafeError);
  });

  it("HTTP errors are AgentSafeHttpError; an unreachable sidecar is AgentSafeError", async () => {
    const noToken = new RemoteAgentSafe({ url: sidecar.url });
    const err = await noToken.verifyTicket("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentSafeHttpError);
    expect([(err as AgentSafeHttpError).status, (err as AgentSafeHttpError).code]).toEqual([
      401,
      "unauthenticated",
    ]);
    const d = await noToken.check("restart-deployment", staging);
    expect([d.result, d.code]).toEqual(["deny", "unauthenticated"]);
    const gone = new AgentSafe({ url: "http://127.0.0.1:1", timeoutMs: 2000 });
    await expect(gone.check("x")).rejects.toThrow(/Cannot reach the Agent-Safe sidecar/);
  });

  it("a token function is asked on every call (refresh)", async () => {
    let calls = 0;
    const refreshing = new AgentSafe({
      url: sidecar.url,
      token: async () => {
        calls++;
        return deployer;
      },
    });
    await refreshing.check("restart-deployment", staging);
    await refreshing.check("restart-deployment", staging);
    expect(calls).toBe(2);
  });
});
