/**
 * The approval CLI over PostgreSQL, two replicas as two processes sharing the store (each with its
 * own audit log, as replicas have): `approval wait` on replica B wakes within a second of
 * `approval approve` on replica A (LISTEN/NOTIFY), and two `approval approve` processes racing on
 * one request have exactly one winner.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ApprovalProject, startWaiting } from "../helpers/approvals.js";
import { dropPostgresSchemas, postgresUrl, testSchema } from "../state/helpers.js";

const schema = testSchema();
afterAll(async () => {
  await dropPostgresSchemas([schema]);
});

describe("approval CLI over PostgreSQL", () => {
  it("`approval wait` on replica B wakes within 1 s of an approval on replica A", async () => {
    const p = await ApprovalProject.create(`approvals:\n  store: ${postgresUrl(schema)}\n`);
    const bot = p.tokenFile("deploy-bot", ["deployer"]);
    const alice = p.tokenFile("alice", ["sre"]);
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await p.request();
      const b = startWaiting(p.dir, [
        "approval",
        "wait",
        id,
        "--timeout",
        "60",
        "--token-file",
        bot,
        "--audit-log",
        "audit-b.jsonl",
        "--json",
      ]);
      try {
        await b.waiting;
        const a = await p.runAsync([
          "approval",
          "approve",
          id,
          "--token-file",
          alice,
          "--audit-log",
          "audit-a.jsonl",
        ]);
        const approvedAt = Date.now();
        expect(a.code).toBe(0);
        const done = await b.done;
        expect(done.code).toBe(0);
        const out = JSON.parse(done.stdout);
        expect(out).toMatchObject({ status: "approved", ticket_delivery: "delivered" });
        expect(out.decision.ticket.token).toMatch(/^eyJ/);
        latencies.push(done.endedAt - approvedAt);
      } finally {
        b.kill();
      }
    }
    console.log(
      `approval wait (replica B) exited this many ms after approve (replica A) exited: ${latencies.join(", ")}`,
    );
    expect(Math.max(...latencies)).toBeLessThan(1000);
    for (const log of ["audit-a.jsonl", "audit-b.jsonl"])
      expect(p.run(["audit", "verify", log]).code).toBe(0);
  });

  it("two `approval approve` processes racing on one request: exactly one succeeds (5 rounds)", async () => {
    const p = await ApprovalProject.create(`approvals:\n  store: ${postgresUrl(schema)}\n`);
    const alice = p.tokenFile("alice", ["sre"]);
    const bob = p.tokenFile("bob", ["sre"]);
    for (let round = 0; round < 5; round++) {
      const id = await p.request();
      const results = await Promise.all([
        p.runAsync(["approval", "approve", id, "--token-file", alice, "--audit-log", "audit-a.jsonl"]),
        p.runAsync(["approval", "approve", id, "--token-file", bob, "--audit-log", "audit-b.jsonl"]),
      ]);
      expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
      expect(results.find((r) => r.code === 1)!.stderr).toBe(`ERROR  Request ${id} is already approved\n`);
    }
  });
});
