/**
 * One contract, two stores (a real SQLite file, a real PostgreSQL schema): concurrent approvals
 * of one request have one winner; concurrent collections of its ticket deliver it once; a
 * transition whose audit event cannot be written does not happen; reads, lists and ids.
 */
import { readFileSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { ApprovalService } from "../../src/approvals/service.js";
import type { ApprovalStore } from "../../src/approvals/store.js";
import type { AuditInput } from "../../src/audit/types.js";
import { verifyLog } from "../../src/audit/verify.js";
import { dropPostgresSchemas, postgresUrl, testSchema } from "../state/helpers.js";
import { Rig, rejection } from "./helpers.js";

const schemas: string[] = [];
afterAll(async () => {
  await dropPostgresSchemas(schemas);
});

const kinds: { name: string; open: (rig: Rig) => () => ApprovalStore }[] = [
  {
    name: "sqlite",
    open: (rig) => {
      const name = `s-${Math.random().toString(16).slice(2)}.db`;
      return () => rig.sqliteStore(name);
    },
  },
  {
    name: "postgres",
    open: (rig) => {
      const schema = testSchema();
      schemas.push(schema);
      return () => rig.postgresStore(postgresUrl(schema));
    },
  },
];

for (const kind of kinds) {
  describe(`approval store: ${kind.name}`, () => {
    let rig: Rig;
    afterEach(async () => {
      await rig?.close();
    });

    async function request(approvals: ApprovalService, act = "restart-deployment") {
      const requester = rig.token("deploy-bot");
      const { decision, caller, params } = await rig.decide(
        requester,
        act,
        act === "restart-deployment" ? { namespace: "prod" } : {},
      );
      const req = await approvals.createRequest({ decision, params, caller, world: rig.world });
      return { id: req.request_id, requester };
    }

    it("ten approvers at once, through separate store connections: one approval, one ticket", async () => {
      rig = new Rig();
      const store = kind.open(rig);
      const approvals = Array.from({ length: 5 }, () => rig.service(store()));
      const { id } = await request(approvals[0]!);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => approvals[i % 5]!.approve(id, rig.token(`sre-${i}`, ["sre"]))),
      );
      const ok = results.filter((r) => r.status === "fulfilled");
      expect(ok).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected")
          expect((r.reason as Error).message).toBe(`Request ${id} is already approved`);
      expect((await approvals[1]!.get(id))?.approvals).toHaveLength(1);
    });

    it("the requester collecting the ticket ten times at once gets it once", async () => {
      rig = new Rig();
      const store = kind.open(rig);
      const approvals = Array.from({ length: 5 }, () => rig.service(store()));
      const { id, requester } = await request(approvals[0]!);
      await approvals[0]!.approve(id, rig.token("alice", ["sre"]));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          approvals[i % 5]!.waitForApproval(id, { timeout: 0, requester }),
        ),
      );
      const delivered = results.filter((r) => r.ticket === "delivered");
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.decision.ticket?.token).toMatch(/^eyJ/);
      expect(results.filter((r) => r.ticket === "already_delivered")).toHaveLength(9);
      expect(results.every((r) => r.decision.result === "allow")).toBe(true);
      // Someone else presenting their own identity gets the outcome, not the ticket.
      const other = await approvals[0]!.waitForApproval(id, { timeout: 0, requester: rig.token("mallory") });
      expect(other).toMatchObject({ ticket: "already_delivered" });
    });

    it("only the requester (same agent, same chain) can collect; an untrusted caller without identity cannot", async () => {
      rig = new Rig();
      const approvals = rig.service(kind.open(rig)());
      const { id, requester } = await request(approvals);
      await approvals.approve(id, rig.token("alice", ["sre"]));
      const anon = await approvals.waitForApproval(id, { timeout: 0 });
      expect(anon).toMatchObject({
        ticket: "not_requester",
        ticketNote: "present the requester's identity token to collect the ticket",
      });
      const mallory = await approvals.waitForApproval(id, { timeout: 0, requester: rig.token("mallory") });
      expect(mallory.ticketNote).toBe(
        "'mallory' is not the requester ('deploy-bot'); only the requester receives the ticket",
      );
      const impostor = await rig.delegate(rig.token("boss"), "deploy-bot");
      expect((await approvals.waitForApproval(id, { timeout: 0, requester: impostor })).ticket).toBe(
        "not_requester",
      );
      expect((await approvals.waitForApproval(id, { timeout: 0, requester })).ticket).toBe("delivered");
      // In-process (trusted) use: the waiting process is the requester.
      const trusted = rig.service(kind.open(rig)(), { trusted: true });
      const second = await request(trusted);
      await trusted.approve(second.id, { agent_id: "alice", roles: ["sre"] });
      expect((await trusted.waitForApproval(second.id, { timeout: 0 })).ticket).toBe("delivered");
    });

    it("200 requests filed at once: every one stored, retrievable, and audited once, in one chain", async () => {
      rig = new Rig();
      const store = kind.open(rig);
      await rig.openAudit();
      const approvals = rig.service(store());
      const ids = await Promise.all(Array.from({ length: 200 }, () => request(approvals).then((r) => r.id)));
      expect(new Set(ids).size).toBe(200);
      const stored = await approvals.list({ status: "pending", limit: 1000 });
      expect(stored.map((r) => r.request_id).sort()).toEqual([...ids].sort());
      const audited = readFileSync(rig.auditPath, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event_type: string; context: { type?: string; request_id?: string } })
        .filter((e) => e.event_type === "approval" && e.context.type === "approval_request")
        .map((e) => e.context.request_id);
      expect(audited.sort()).toEqual([...ids].sort());
      expect((await verifyLog(rig.auditPath)).ok).toBe(true);
    });

    it("a transition whose audit event cannot be written does not happen", async () => {
      rig = new Rig();
      const store = kind.open(rig);
      let failing = false;
      const audit = {
        append: async (e: AuditInput) => {
          if (failing) throw new Error("disk full");
          return e as never;
        },
      };
      const approvals = rig.service(store(), { audit });
      const { id } = await request(approvals);
      failing = true;
      const err = await rejection(approvals.approve(id, rig.token("alice", ["sre"])));
      expect(err).toMatchObject({
        code: "unavailable",
        message: "Audit log: cannot record the approval event, nothing changed (disk full)",
      });
      const { decision, caller, params } = await rig.decide(rig.token("deploy-bot"));
      await rejection(approvals.createRequest({ decision, params, caller, world: rig.world }));
      failing = false;
      const all = await approvals.list({ status: "all" });
      expect(all.map((r) => [r.request_id, r.status, r.ticket])).toEqual([[id, "pending", null]]);
      expect((await approvals.approve(id, rig.token("alice", ["sre"]))).request.status).toBe("approved");
    });

    it("reads: unknown and malformed ids, lists by status, oldest first", async () => {
      rig = new Rig();
      const approvals = rig.service(kind.open(rig)());
      expect(await approvals.get("apr-000000000000")).toBeNull();
      const bad = await rejection(approvals.get("apr-../../x"));
      expect(bad).toMatchObject({
        code: "not_found",
        message: expect.stringMatching(/^Approval request not found: apr-\.\.\/\.\.\/x/),
      });
      const a = await request(approvals);
      const b = await request(approvals);
      const c = await request(approvals);
      await approvals.deny(b.id, rig.token("alice", ["sre"]));
      expect((await approvals.list()).map((r) => r.request_id)).toEqual([a.id, c.id]);
      expect((await approvals.list({ status: "denied" })).map((r) => r.request_id)).toEqual([b.id]);
      expect((await approvals.list({ status: "all" })).map((r) => r.request_id)).toEqual([a.id, b.id, c.id]);
      const missing = await rejection(approvals.waitForApproval("apr-000000000000", { timeout: 0 }));
      expect(missing.message).toBe("Approval request not found: apr-000000000000");
    });
  });
}
