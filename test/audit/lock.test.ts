/**
 * One writer per log (issue 3, acceptance "Concurrency"): four processes race for one log, exactly
 * one writes and the others get `Audit log <path> is locked by pid N`; one process's 1,000
 * concurrent appends form one unbroken chain.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLockedError, AuditWriter, verifyLog } from "../../src/audit/index.js";
import { decision, lines, startChild, tmp } from "./helpers.js";

describe("single writer", () => {
  it("4 processes try to write one log at once: exactly one writes, the others get the lock error", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    const startAt = Date.now() + 800;
    const children = await Promise.all(
      [0, 1, 2, 3].map(() => startChild({ mode: "hold", path: log, count: 300, holdMs: 1500, startAt })),
    );
    const first = await Promise.all(children.map((c) => c.waitFor(/^(opened|error) /)));
    const winners = children.filter((_, i) => first[i]!.startsWith("opened "));
    expect(winners).toHaveLength(1);
    const winnerPid = winners[0]!.proc.pid!;
    for (const line of first.filter((l) => l.startsWith("error "))) {
      expect(line).toBe(`error LOCKED Audit log ${log} is locked by pid ${winnerPid}`);
    }
    const exits = await Promise.all(children.map((c) => c.exited));
    expect(exits.map((e) => e.code).sort()).toEqual([0, 3, 3, 3]);

    const report = await verifyLog(log);
    expect(report.issues).toEqual([]);
    expect(report.events).toBe(300);
    const callers = new Set(lines(log).map((l) => JSON.parse(l).caller));
    expect([...callers]).toEqual([`child-${winnerPid}`]);
  }, 30_000);

  it("a second writer in the same process is refused too, and the lock is free again after close", async () => {
    const log = join(tmp(), "audit.jsonl");
    const a = await AuditWriter.open({ path: log });
    const err = await AuditWriter.open({ path: log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLockedError);
    expect((err as Error).message).toBe(`Audit log ${log} is locked by pid ${process.pid}`);
    // The failed attempt must not have released our lock (closing any descriptor of a locked file would).
    const again = await AuditWriter.open({ path: log }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AuditLockedError);
    await a.append(decision());
    await a.close();
    const b = await AuditWriter.open({ path: log });
    expect(b.lastSeq).toBe(1);
    await b.close();
  });

  it("1,000 concurrent appends in one process form one unbroken chain, in call order", async () => {
    const log = join(tmp(), "audit.jsonl");
    const w = await AuditWriter.open({ path: log });
    const records = await Promise.all(Array.from({ length: 1000 }, (_, i) => w.append(decision(i))));
    await w.close();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(records.map((r) => (r.params as { n: number }).n)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    const report = await verifyLog(log);
    expect(report.issues).toEqual([]);
    expect(report.events).toBe(1000);
    const written = lines(log).map((l) => JSON.parse(l));
    for (let i = 1; i < written.length; i++) expect(written[i].prev_hash).toBe(written[i - 1].entry_hash);
  });
});
