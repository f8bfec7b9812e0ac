/**
 * THREATS.md T17 — self-approval and approval laundering. Each attempt is refused with a clear
 * reason and changes nothing: the requester, its delegator, a delegate of the requester, an
 * anonymous or unverifiable approver, an approver without the rule's role, a second approval
 * after resolution, an expired request, a quorum of two reached by the same person twice (or by
 * two delegates of one person), a changed policy revision, params changed in the store.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ApprovalService } from "../../src/approvals/service.js";
import { verifyLog } from "../../src/audit/verify.js";
import { openDatabase } from "../../src/state/sqlite/driver.js";
import { withPayload } from "../helpers/tokens.js";
import { Rig, rejection } from "./helpers.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

async function pending(
  r: Rig,
  approvals: ApprovalService,
  requesterToken: string,
  act = "restart-deployment",
): Promise<string> {
  const { decision, caller, params } = await r.decide(
    requesterToken,
    act,
    act === "restart-deployment" ? { namespace: "prod" } : {},
  );
  expect(decision.result).toBe("require_approval");
  return (await approvals.createRequest({ decision, params, caller, world: r.world })).request_id;
}

async function refused(p: Promise<unknown>, code: string, message: string | RegExp): Promise<void> {
  const err = await rejection(p);
  expect(err.name).toBe("ApprovalError");
  expect(err.code).toBe(code);
  if (typeof message === "string") expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
}

describe("separation of duties", () => {
  it("the requester, its delegator and its delegate are refused; the request stays pending", async () => {
    rig = new Rig();
    await rig.openAudit();
    const approvals = rig.service();
    // orchestrator (an SRE) delegates to deploy-bot, which makes the request.
    const orchestrator = rig.token("orchestrator", ["sre", "deployer"]);
    const bot = await rig.delegate(orchestrator, "deploy-bot", ["sre", "deployer"]);
    const id = await pending(rig, approvals, bot);
    expect((await approvals.get(id))?.caller_chain).toEqual(["orchestrator"]);

    await refused(
      approvals.approve(id, bot),
      "separation_of_duties",
      `Approval refused: 'deploy-bot' is the requester of ${id}; a request cannot be approved by its requester (separation of duties)`,
    );
    await refused(
      approvals.approve(id, orchestrator),
      "separation_of_duties",
      "Approval refused: 'orchestrator' delegated to the requester 'deploy-bot' (delegation chain ['orchestrator']); " +
        "a delegator cannot approve its delegate's request",
    );
    // Laundering: the requester delegates to a helper, which approves.
    const helper = await rig.delegate(bot, "helper", ["sre"]);
    await refused(
      approvals.approve(id, helper),
      "separation_of_duties",
      "Approval refused: 'helper' acts by delegation from 'orchestrator', who is in the requester's delegation chain; " +
        "an approval cannot come from the requester's side",
    );
    // A sibling delegated by the requester's own delegator is the requester's side too.
    const sibling = await rig.delegate(orchestrator, "sibling-bot", ["sre"]);
    await refused(
      approvals.approve(id, sibling),
      "separation_of_duties",
      /'sibling-bot' acts by delegation from 'orchestrator'/,
    );
    expect((await approvals.get(id))?.status).toBe("pending");

    // Someone independent with the role can approve.
    const out = await approvals.approve(id, rig.token("alice", ["oncall"]));
    expect(out.request.status).toBe("approved");
  });

  it("an approver must be identified: no identity, a bare id, a bad token, an untrusted object", async () => {
    rig = new Rig();
    const approvals = rig.service();
    const id = await pending(rig, approvals, rig.token("deploy-bot"));
    await refused(
      approvals.approve(id, null),
      "unidentified",
      "Approval refused: the approver must present an identity token (anonymous approvals are not accepted)",
    );
    await refused(approvals.approve(id, ""), "unidentified", /must present an identity token/);
    await refused(
      approvals.approve(id, "alice"),
      "unidentified",
      "Approval refused: a bare agent id ('alice') does not identify the approver; present an identity token",
    );
    const forged = withPayload(rig.token("mallory", []), (p) => {
      p.roles = ["sre"];
    });
    await refused(
      approvals.approve(id, forged),
      "unidentified",
      "Approval refused: the approver's identity token is not valid: Invalid token: Signature verification failed",
    );
    await refused(
      approvals.approve(id, { agent_id: "alice", roles: ["sre"] }),
      "unidentified",
      "Approval refused: identity objects are accepted only in-process; the approver must present an identity token",
    );
    // Without identity keys nobody can be identified.
    const keyless = rig.service(undefined, { identity: null });
    await refused(
      keyless.approve(id, rig.token("alice", ["sre"])),
      "unidentified",
      "Approval refused: identity keys are not configured, so the approver cannot be identified " +
        "(add a keys: section to agent-safe.yaml)",
    );
    expect((await approvals.get(id))?.status).toBe("pending");
  });

  it("an approver without the rule's roles is refused; roles are any-of", async () => {
    rig = new Rig();
    const approvals = rig.service();
    const id = await pending(rig, approvals, rig.token("deploy-bot"));
    await refused(
      approvals.approve(id, rig.token("bob", ["deployer", "reader"])),
      "role",
      "Approval refused: 'bob' holds none of the approver roles ['sre', 'oncall'] required by rule " +
        "'require-approval-prod' (has ['deployer', 'reader'])",
    );
    expect((await approvals.approve(id, rig.token("carol", ["reader", "oncall"]))).request.status).toBe(
      "approved",
    );
  });

  it("resolved requests cannot be approved again, nor denied; a denied one cannot be approved", async () => {
    rig = new Rig();
    const approvals = rig.service();
    const a = await pending(rig, approvals, rig.token("deploy-bot"));
    await approvals.approve(a, rig.token("alice", ["sre"]));
    await refused(
      approvals.approve(a, rig.token("carol", ["sre"])),
      "resolved",
      `Request ${a} is already approved`,
    );
    await refused(
      approvals.deny(a, rig.token("carol", ["sre"])),
      "resolved",
      `Request ${a} is already approved`,
    );

    const d = await pending(rig, approvals, rig.token("deploy-bot"));
    const denied = await approvals.deny(d, rig.token("carol", ["sre"]), "not during the freeze");
    expect(denied).toMatchObject({
      reason: "Approval denied by carol: not during the freeze",
      request: { status: "denied", resolved_by: "carol" },
    });
    await refused(
      approvals.approve(d, rig.token("alice", ["sre"])),
      "resolved",
      `Request ${d} is already denied`,
    );
    // Denying needs an identity and, from outside the requester's side, a role; the requester may withdraw.
    const w = await pending(rig, approvals, rig.token("deploy-bot"));
    await refused(
      approvals.deny(w, null),
      "unidentified",
      /^Denial refused: the denier must present an identity token/,
    );
    await refused(
      approvals.deny(w, rig.token("bob", ["deployer"])),
      "role",
      /^Denial refused: 'bob' holds none/,
    );
    expect((await approvals.deny(w, rig.token("deploy-bot"), "withdrawn")).reason).toBe(
      "Approval denied by deploy-bot: withdrawn",
    );
  });

  it("expiry is enforced on every transition, and recorded once", async () => {
    rig = new Rig();
    await rig.openAudit();
    let now = Date.now();
    const approvals = rig.service(undefined, { clock: () => now, ttlSeconds: 60 });
    const id = await pending(rig, approvals, rig.token("deploy-bot"));
    now += 59_999;
    expect((await approvals.get(id))?.status).toBe("pending");
    now += 1;
    // No read first: the approval itself finds it expired, expires it, and refuses.
    await refused(
      approvals.approve(id, rig.token("alice", ["sre"])),
      "expired",
      `Request ${id} is already expired`,
    );
    await refused(
      approvals.deny(id, rig.token("alice", ["sre"])),
      "expired",
      `Request ${id} is already expired`,
    );
    expect(await approvals.get(id)).toMatchObject({ status: "expired", resolved_by: "system" });
    const waited = await approvals.waitForApproval(id, { timeout: 0 });
    expect(waited.decision).toMatchObject({ result: "deny", reason: `Request ${id} expired` });

    // list() expires what is due, even requests nobody touched.
    const other = await pending(rig, approvals, rig.token("deploy-bot"));
    now += 61_000;
    expect(await approvals.list()).toEqual([]);
    expect((await approvals.get(other))?.status).toBe("expired");
    await rig.close();
    const events = (await import("node:fs"))
      .readFileSync(rig.auditPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const expiries = events.filter((e) => e.context?.resolution === "expire");
    expect(expiries.map((e) => [e.context.request_id, e.reason, e.decision])).toEqual([
      [id, `Request ${id} expired`, "deny"],
      [other, `Request ${other} expired`, "deny"],
    ]);
    expect((await verifyLog(rig.auditPath)).ok).toBe(true);
  });

  it("a quorum of two counts distinct people: the same approver twice, or two delegates of one, do not count", async () => {
    rig = new Rig();
    const approvals = rig.service();
    const id = await pending(rig, approvals, rig.token("deploy-bot"), "scale-deployment");
    const alice = rig.token("alice", ["sre"]);
    const first = await approvals.approve(id, alice);
    expect(first).toMatchObject({
      reason: "Approval recorded by alice (1 of 2)",
      remaining: 1,
      request: { status: "pending" },
    });
    expect(first.request.ticket).toBeNull();
    await refused(
      approvals.approve(id, alice),
      "duplicate_approver",
      `Approval refused: 'alice' has already approved ${id}; a quorum of 2 needs 2 distinct approvers (1 so far)`,
    );
    await refused(
      approvals.approve(id, rig.token("alice", ["sre"])),
      "duplicate_approver",
      /'alice' has already approved/,
    );
    const aliceBot = await rig.delegate(alice, "alice-bot", ["sre"]);
    await refused(
      approvals.approve(id, aliceBot),
      "duplicate_approver",
      `Approval refused: 'alice-bot' and 'alice', who already approved ${id}, act for the same principal 'alice'; ` +
        "a quorum of 2 needs 2 distinct approvers (1 so far)",
    );
    expect((await approvals.get(id))?.status).toBe("pending");
    const second = await approvals.approve(id, rig.token("bob", ["sre"]), "second pair of eyes");
    expect(second).toMatchObject({
      reason: "Approval approved by alice, bob: second pair of eyes",
      remaining: 0,
      request: { status: "approved", resolved_by: "alice, bob" },
    });
    expect(second.request.approvals.map((a) => a.approver)).toEqual(["alice", "bob"]);
    expect(second.request.ticket).not.toBeNull();
  });

  it("a changed policy revision closes the request instead of approving it", async () => {
    rig = new Rig();
    const approvals = rig.service();
    const requester = rig.token("deploy-bot");
    const id = await pending(rig, approvals, requester);
    rig.world = { ...rig.world, revision: "rev-2" };
    await refused(
      approvals.approve(id, rig.token("alice", ["sre"])),
      "policy_changed",
      `Approval refused: the policy changed since the request (revision rev-1 → rev-2); ask again. Request ${id} is now denied`,
    );
    const waited = await approvals.waitForApproval(id, { timeout: 0, requester });
    expect(waited.decision).toMatchObject({
      result: "deny",
      reason:
        "Approval denied by system: the policy changed since the request (revision rev-1 → rev-2); ask again",
    });
  });

  it("params changed in the store after the request are refused (bound to the digest)", async () => {
    rig = new Rig();
    const store = rig.sqliteStore();
    const approvals = rig.service(store);
    const id = await pending(rig, approvals, rig.token("deploy-bot"));
    const db = openDatabase(store.path, { timeout: 1000 });
    const row = db.prepare("SELECT data FROM approval_requests WHERE request_id = ?").get(id) as {
      data: string;
    };
    const data = JSON.parse(row.data);
    data.params.namespace = "kube-system";
    db.prepare("UPDATE approval_requests SET data = ? WHERE request_id = ?").run(JSON.stringify(data), id);
    db.close();
    await refused(
      approvals.approve(id, rig.token("alice", ["sre"])),
      "params_changed",
      `Approval refused: the params stored for ${id} do not match the digest they were requested with`,
    );
  });
});
