/**
 * Approvals over PostgreSQL with real replicas (separate OS processes):
 * - two replicas approving the same request at once → exactly one succeeds, 50 times over;
 * - a requester waiting on replica B wakes within a second of the approval on replica A
 *   (LISTEN/NOTIFY; the waiter's safety poll is a minute, so only the notification can wake it),
 *   and receives the ticket exactly once;
 * - an unreachable server fails closed with a clear reason.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresApprovalStore } from "../../src/approvals/postgres-store.js";
import { verifyLog } from "../../src/audit/verify.js";
import {
  dropPostgresSchemas,
  freePort,
  POSTGRES_URL,
  postgresUrl,
  TcpProxy,
  testSchema,
} from "../state/helpers.js";
import { ApprovalReplica, Rig, rejection } from "./helpers.js";

const schemas: string[] = [];
const replicas: ApprovalReplica[] = [];
let rig: Rig;
let url: string;
let main: ReturnType<Rig["service"]>;

beforeAll(async () => {
  rig = new Rig();
  const schema = testSchema();
  schemas.push(schema);
  url = postgresUrl(schema);
  await rig.openAudit();
  main = rig.service(rig.postgresStore(url));
  for (const name of ["a", "b"])
    replicas.push(
      await ApprovalReplica.start({
        url,
        keysDir: rig.keys.dir,
        auditPath: join(rig.dir, `audit-${name}.jsonl`),
        revision: rig.world.revision,
      }),
    );
});

afterAll(async () => {
  for (const r of replicas) await r.stop();
  await rig.close();
  await dropPostgresSchemas(schemas);
});

async function newRequest(act = "restart-deployment"): Promise<{ id: string; requester: string }> {
  const requester = rig.token("deploy-bot");
  const { decision, caller, params } = await rig.decide(
    requester,
    act,
    act === "restart-deployment" ? { namespace: "prod" } : {},
  );
  const id = (await main.createRequest({ decision, params, caller, world: rig.world })).request_id;
  return { id, requester };
}

describe("approvals over PostgreSQL, across processes", () => {
  it("two processes approving the same request at once: exactly one succeeds, in 50 repetitions", async () => {
    const [a, b] = replicas as [ApprovalReplica, ApprovalReplica];
    const alice = rig.token("alice", ["sre"]);
    const bob = rig.token("bob", ["sre"]);
    const winners = { a: 0, b: 0 };
    for (let i = 0; i < 50; i++) {
      const { id } = await newRequest();
      const [ra, rb] = await Promise.all([
        a.send<{ status: string }>({ op: "approve", id, token: alice }),
        b.send<{ status: string }>({ op: "approve", id, token: bob }),
      ]);
      const ok = [ra, rb].filter((r) => r.ok);
      expect(ok).toHaveLength(1);
      expect(ok[0]!.value!.status).toBe("approved");
      const loser = ra.ok ? rb : ra;
      expect(loser).toMatchObject({
        ok: false,
        code: "resolved",
        error: `Request ${id} is already approved`,
      });
      if (ra.ok) winners.a++;
      else winners.b++;
      const stored = await main.get(id);
      expect(stored?.approvals).toHaveLength(1);
      expect(stored?.ticket).not.toBeNull();
    }
    // Both replicas won some races: they really did run at the same time.
    expect(winners.a + winners.b).toBe(50);
    console.log(`race winners: replica a ${winners.a}, replica b ${winners.b}`);
  });

  it("a requester waiting on replica B wakes within 1 s of the approval on replica A, and gets the ticket once", async () => {
    const [a, b] = replicas as [ApprovalReplica, ApprovalReplica];
    expect((await b.send({ op: "listen" })).ok).toBe(true);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { id, requester } = await newRequest();
      const waiting = b.send<{ status: string; ticket: string; token: string | null; at: number }>({
        op: "wait",
        id,
        timeout: 30,
        requester,
      });
      await new Promise((r) => setTimeout(r, 300)); // B is now blocked in its wait
      const approved = await a.send<{ status: string; at: number }>({
        op: "approve",
        id,
        token: rig.token("alice", ["sre"]),
      });
      expect(approved.ok).toBe(true);
      const woke = await waiting;
      expect(woke.value).toMatchObject({ status: "approved", ticket: "delivered" });
      expect(woke.value!.token).toMatch(/^eyJ/);
      latencies.push(woke.value!.at - approved.value!.at);
      const valid = await rig.tickets.validator.verify(woke.value!.token!, {
        expectedAction: "restart-deployment",
      });
      expect(valid.valid).toBe(true);
      // Never twice, on any replica.
      const again = await a.send<{ ticket: string; token: string | null }>({
        op: "wait",
        id,
        timeout: 0,
        requester,
      });
      expect(again.value).toMatchObject({ ticket: "already_delivered", token: null });
    }
    console.log(`wake-up after approval on the other replica (ms): ${latencies.join(", ")}`);
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });

  it("the replicas' audit logs verify", async () => {
    for (const name of ["a", "b"]) {
      const report = await verifyLog(join(rig.dir, `audit-${name}.jsonl`));
      expect(report.ok).toBe(true);
      expect(report.events).toBeGreaterThan(0);
    }
  });

  it("a waiter whose connection drops keeps waiting, listens again, and still wakes on the approval", async () => {
    const proxy = await TcpProxy.start(5432);
    try {
      const schema = new URL(url).searchParams.get("schema")!;
      const viaProxy = `${POSTGRES_URL.replace(/127\.0\.0\.1:5432|localhost:5432/, `127.0.0.1:${proxy.port}`)}?schema=${schema}`;
      const waiting = rig.service(
        new PostgresApprovalStore(viaProxy, { timeoutMs: 1000, pollIntervalMs: 60_000 }),
      );
      const { id, requester } = await newRequest();
      let started!: () => void;
      const isWaiting = new Promise<void>((r) => {
        started = r;
      });
      const result = waiting.waitForApproval(id, { timeout: 30, requester, onWaiting: () => started() });
      await isWaiting;
      await proxy.stop(); // every connection of the waiter dies
      await new Promise((r) => setTimeout(r, 1500));
      await proxy.restart();
      await new Promise((r) => setTimeout(r, 1500)); // it re-listens within its 1 s fallback
      const t0 = Date.now();
      await main.approve(id, rig.token("alice", ["sre"]));
      const r = await result;
      expect(r).toMatchObject({ status: "approved", ticket: "delivered" });
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await proxy.stop();
    }
  });

  it("an unreachable server fails closed, with the reason, and without the password", async () => {
    const port = await freePort();
    const store = new PostgresApprovalStore(`postgres://postgres:hunter2@127.0.0.1:${port}/test`, {
      timeoutMs: 500,
    });
    const approvals = rig.service(store);
    const { decision, caller, params } = await rig.decide(rig.token("deploy-bot"));
    for (const call of [
      () => approvals.createRequest({ decision, params, caller, world: rig.world }),
      () => approvals.approve("apr-0123456789ab", rig.token("alice", ["sre"])),
      () => approvals.waitForApproval("apr-0123456789ab", { timeout: 1 }),
      () => approvals.list(),
    ]) {
      const t0 = performance.now();
      const err = await rejection(call());
      expect(performance.now() - t0).toBeLessThan(1500);
      expect(err.code).toBe("unavailable");
      expect(err.message).toMatch(
        new RegExp(`^Approval store unavailable: PostgreSQL 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
      );
      expect(err.message).not.toContain("hunter2");
    }
    expect(store.description).toBe(`postgres://postgres:***@127.0.0.1:${port}/test`);
  });
});
