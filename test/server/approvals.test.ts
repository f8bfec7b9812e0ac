/**
 * Approvals and execution over HTTP: a REQUIRE_APPROVAL from `/v1/check` files a request; the
 * requester cannot approve it; a second identity does; the requester's wait collects the one
 * ticket; `/v1/execute` runs it once, only for the agent it was issued to, with an executor the
 * deployment allows. The remote SDK gets the same results and the same typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentSafe, ApprovalError } from "../../src/index.js";
import type { Sidecar } from "../../src/server/index.js";
import { http, issueToken, makeProject, startInProcess } from "./helpers.js";

const PROD = {
  action: "restart-deployment",
  target: "prod/web-frontend",
  params: { namespace: "prod", deployment: "web-frontend" },
};

let dir: string;
let sidecar: Sidecar;
let agent: string;
let alice: string;
let mallory: string;

beforeAll(async () => {
  dir = makeProject({
    extra: "audit:\n  path: ./audit.jsonl\nrunner:\n  executor: dry-run\n  executors: [dry-run]\n",
  });
  sidecar = await startInProcess(dir);
  agent = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
  alice = await issueToken(dir, { agentId: "alice", roles: ["sre"] });
  mallory = await issueToken(dir, { agentId: "mallory" });
});

afterAll(async () => {
  await sidecar?.close();
});

async function ask(token = agent): Promise<string> {
  const r = await http(sidecar.url, "/v1/check", { body: PROD, token });
  expect(r.status).toBe(200);
  expect(r.json.result).toBe("require_approval");
  expect(r.json.request_id).toMatch(/^apr-[0-9a-f]{12}$/);
  return r.json.request_id as string;
}

describe("approvals over HTTP", () => {
  it("check files a request; list, show; the requester is refused; a second identity approves; one ticket", async () => {
    const id = await ask();
    const list = await http(sidecar.url, "/v1/approvals", { token: alice });
    expect(list.status).toBe(200);
    expect(list.json.requests.map((r: { request_id: string }) => r.request_id)).toContain(id);
    const shown = await http(sidecar.url, `/v1/approvals/${id}`, { token: alice });
    expect(shown.json).toMatchObject({ request_id: id, status: "pending", caller: "deploy-bot" });
    expect((await http(sidecar.url, "/v1/approvals/apr-000000000000", { token: alice })).status).toBe(404);
    expect((await http(sidecar.url, "/v1/approvals", {})).status).toBe(401);

    const self = await http(sidecar.url, `/v1/approvals/${id}/approve`, { body: {}, token: agent });
    expect([self.status, self.json.error, self.json.code]).toEqual([
      403,
      "forbidden",
      "separation_of_duties",
    ]);
    const anon = await http(sidecar.url, `/v1/approvals/${id}/approve`, { body: {} });
    expect(anon.status).toBe(401);

    const ok = await http(sidecar.url, `/v1/approvals/${id}/approve`, {
      body: { reason: "change 4711" },
      token: alice,
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ reason: "Approval approved by alice: change 4711", remaining: 0 });
    expect(JSON.stringify(ok.json)).not.toMatch(/eyJ/); // the approver never sees the token

    const again = await http(sidecar.url, `/v1/approvals/${id}/approve`, { body: {}, token: mallory });
    expect([again.status, again.json.code]).toEqual([409, "resolved"]);

    // Someone else's wait learns the outcome, never the token.
    const nosy = await http(sidecar.url, `/v1/approvals/${id}/wait`, {
      body: { timeout: 0 },
      token: mallory,
    });
    expect(nosy.json).toMatchObject({ status: "approved", ticket: "not_requester" });
    expect(nosy.json.decision.ticket?.token).toBeUndefined();

    const mine = await http(sidecar.url, `/v1/approvals/${id}/wait`, { body: { timeout: 5 }, token: agent });
    expect(mine.json).toMatchObject({ status: "approved", ticket: "delivered", timedOut: false });
    const token = mine.json.decision.ticket.token as string;
    const twice = await http(sidecar.url, `/v1/approvals/${id}/wait`, { body: { timeout: 0 }, token: agent });
    expect(twice.json.ticket).toBe("already_delivered");
    expect(twice.json.decision.ticket?.token).toBeUndefined();

    // Execution: only the agent the ticket was issued to, only an allowed executor, only once.
    const stolen = await http(sidecar.url, "/v1/execute", { body: { token }, token: mallory });
    expect([stolen.status, stolen.json.error]).toEqual([403, "forbidden"]);
    const kubectl = await http(sidecar.url, "/v1/execute", {
      body: { token, executor: "kubectl" },
      token: agent,
    });
    expect(kubectl.status).toBe(400);
    expect(kubectl.json.message).toMatch(/runner\.executors: dry-run/);
    const run = await http(sidecar.url, "/v1/execute", { body: { token }, token: agent });
    expect(run.status).toBe(200);
    expect(run.json).toMatchObject({
      status: "skipped",
      action: "restart-deployment",
      executorType: "dry-run",
    });
    const replay = await http(sidecar.url, "/v1/execute", { body: { token }, token: agent });
    expect(replay.json).toMatchObject({ status: "error", stage: "ticket" });
    expect(replay.json.error).toMatch(/already been used/);
  });

  it("a wait that times out is REQUIRE_APPROVAL; a denial is a DENY for the waiting requester", async () => {
    const id = await ask();
    const pending = await http(sidecar.url, `/v1/approvals/${id}/wait`, {
      body: { timeout: 0.2 },
      token: agent,
    });
    expect(pending.json).toMatchObject({ status: "pending", timedOut: true });
    expect(pending.json.decision.result).toBe("require_approval");
    const waiting = http(sidecar.url, `/v1/approvals/${id}/wait`, { body: { timeout: 10 }, token: agent });
    await new Promise((r) => setTimeout(r, 200));
    const denied = await http(sidecar.url, `/v1/approvals/${id}/deny`, {
      body: { reason: "freeze" },
      token: alice,
    });
    expect(denied.json.reason).toBe("Approval denied by alice: freeze");
    const outcome = await waiting;
    expect(outcome.json).toMatchObject({ status: "denied" });
    expect(outcome.json.decision.result).toBe("deny");
  });

  it("bad bodies are 400; /readyz checks the approval store; /openapi.json describes the routes", async () => {
    const id = await ask();
    const bad = await http(sidecar.url, `/v1/approvals/${id}/wait`, { body: { timeout: 600 }, token: agent });
    expect(bad.status).toBe(400);
    const extra = await http(sidecar.url, `/v1/approvals/${id}/approve`, {
      body: { by: "alice" },
      token: alice,
    });
    expect(extra.status).toBe(400);
    const ready = await http(sidecar.url, "/readyz");
    expect(ready.json.checks.approvals).toEqual({ ok: true });
    const api = await http(sidecar.url, "/openapi.json");
    for (const path of [
      "/v1/approvals",
      "/v1/approvals/{id}/approve",
      "/v1/approvals/{id}/wait",
      "/v1/execute",
    ])
      expect(Object.keys(api.json.paths)).toContain(path);
  });
});

describe("the remote SDK: approvals and execute", () => {
  it("the same flow and the same typed errors as in-process", async () => {
    const asAgent = new AgentSafe({ url: sidecar.url, token: agent });
    const asAlice = new AgentSafe({ url: sidecar.url, token: alice });
    const d = await asAgent.check(PROD.action, { target: PROD.target, params: PROD.params });
    const id = d.request_id!;
    expect((await asAlice.getApproval(id))?.status).toBe("pending");
    expect(await asAlice.getApproval("apr-000000000000")).toBeNull();
    expect((await asAlice.listApprovals()).map((r) => r.request_id)).toContain(id);
    const refused = await asAgent.approve(id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApprovalError);
    expect((refused as ApprovalError).code).toBe("separation_of_duties");
    await expect(asAlice.approve(id, { agent_id: "alice" })).rejects.toThrow(/identity object/);
    const ok = await asAlice.approve(id, undefined, "looks fine");
    expect(ok.request.status).toBe("approved");
    const got = await asAgent.waitForApproval(id, { timeout: 5 });
    expect(got.decision.result).toBe("allow");
    const run = await asAgent.execute(got.decision.ticket!.token);
    expect(run).toMatchObject({ status: "skipped", executorType: "dry-run" }); // ran, as a dry run
    await expect(asAgent.execute(got.decision.ticket!.token, { executorSettings: {} })).rejects.toThrow(
      /runner: section/,
    );
  });
});
