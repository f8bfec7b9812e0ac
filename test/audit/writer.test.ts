/** AuditWriter: reopening, refusals, checkpoints, rotation, durability modes. */
import { copyFileSync, existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuditError,
  AuditWriter,
  checkpointsPath,
  listSegments,
  segmentPath,
  verifyLog,
} from "../../src/audit/index.js";
import { ROOT } from "../helpers/cli.js";
import { auditKeys, decision, lines, tmp } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("AuditWriter", () => {
  it("continues the chain after a reopen, reading only the tail", async () => {
    const log = join(tmp(), "audit.jsonl");
    const a = await AuditWriter.open({ path: log });
    for (let i = 0; i < 5; i++) await a.append(decision(i));
    await a.close();
    // Garbage at the start of the file is never read by the writer (verify would report it).
    const text = readFileSync(log, "utf8");
    writeFileSync(log, `not json at all\n${text}`);
    const b = await AuditWriter.open({ path: log });
    expect(b.lastSeq).toBe(5);
    const r = await b.append(decision(5));
    expect(r.seq).toBe(6);
    expect(r.prev_hash).toBe(JSON.parse(text.trim().split("\n").at(-1)!).entry_hash);
    await b.close();
  });

  it("never appends to a 0.9.0 (v1) log", async () => {
    const dir = tmp();
    const log = join(dir, "v1.jsonl");
    copyFileSync(join(ROOT, "test", "fixtures", "audit", "v1-vectors.jsonl"), log);
    const before = readFileSync(log);
    const err = await AuditWriter.open({ path: log }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "V1_LOG" });
    expect((err as Error).message).toContain("0.9.0 (v1) log: it can be verified but is never appended to");
    expect(readFileSync(log)).toEqual(before);
  });

  it("refuses a log of another chain, and a tail whose hash does not verify", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    const w = await AuditWriter.open({ path: log, chainId: "replica-a" });
    await w.append(decision());
    await w.close();
    await expect(AuditWriter.open({ path: log })).rejects.toMatchObject({ code: "CHAIN_MISMATCH" });
    writeFileSync(log, readFileSync(log, "utf8").replace("agent-0", "agent-9"));
    await expect(AuditWriter.open({ path: log, chainId: "replica-a" })).rejects.toMatchObject({
      code: "CORRUPT_TAIL",
    });
  });

  it("an invalid event is rejected without using a seq", async () => {
    const log = join(tmp(), "audit.jsonl");
    const w = await AuditWriter.open({ path: log });
    await expect(w.append(decision(0, { params: { bad: Number.POSITIVE_INFINITY } }))).rejects.toMatchObject({
      code: "INVALID_EVENT",
    });
    expect((await w.append(decision(1))).seq).toBe(1);
    await w.close();
    await expect(w.append(decision(2))).rejects.toMatchObject({ code: "CLOSED" });
    expect((await verifyLog(log)).events).toBe(1);
  });

  it.each(["always", "batch", "never"] as const)(
    "fsync: %s writes a valid log and acknowledges only written events",
    async (fsync) => {
      const log = join(tmp(), "audit.jsonl");
      const w = await AuditWriter.open({ path: log, fsync });
      const records = await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(decision(i))));
      // Every acknowledged event is already in the file (before close).
      const ids = new Set(lines(log).map((l) => JSON.parse(l).event_id));
      expect(records.every((r) => ids.has(r.event_id))).toBe(true);
      await w.close();
      expect((await verifyLog(log)).issues).toEqual([]);
    },
  );

  it("checkpoints every N events, every T seconds and on close, into the log and the side file", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    const { key, publicKeys } = auditKeys(dir);
    const w = await AuditWriter.open({
      path: log,
      signingKey: key,
      checkpointEveryEvents: 5,
      checkpointEverySeconds: 0.3,
    });
    for (let i = 0; i < 12; i++) await w.append(decision(i)); // checkpoints after 5 and 10 (+1 each)
    await sleep(1300); // and one by time
    const manual = await w.checkpoint();
    expect(manual).toBeNull(); // nothing new since the timed one
    await w.append(decision(12));
    await w.close(); // and one on close
    const events = lines(log).map((l) => JSON.parse(l));
    const cps = events.filter((e) => e.event_type === "checkpoint");
    expect(cps.map((c) => c.context.seq)).toEqual([5, 11, 14, 16]);
    for (const c of cps) {
      expect(c.context.last_hash).toBe(events[c.seq - 2].entry_hash);
      expect(c.context.kid).toBe(key.kid);
    }
    const side = lines(checkpointsPath(log)).map((l) => JSON.parse(l));
    expect(side.map((c) => c.seq)).toEqual([5, 11, 14, 16]);
    expect(side.map((c) => c.signature)).toEqual(cps.map((c) => c.context.signature));
    const r = await verifyLog(log, { publicKeys, checkpoints: checkpointsPath(log) });
    expect(r).toMatchObject({
      ok: true,
      signing: { status: "signed", checkpoints: 4, verified: 4, unsignedTail: 0, external: 4 },
    });
  });

  it("without an audit key there are no checkpoints and verify says unsigned", async () => {
    const log = join(tmp(), "audit.jsonl");
    const w = await AuditWriter.open({ path: log, checkpointEveryEvents: 2 });
    for (let i = 0; i < 5; i++) await w.append(decision(i));
    expect(await w.checkpoint()).toBeNull();
    await w.close();
    expect(existsSync(checkpointsPath(log))).toBe(false);
    const r = await verifyLog(log);
    expect(r.signing.status).toBe("unsigned");
    expect(r.notes.join("\n")).toContain("unsigned");
  });

  it("rotates by size into numbered segments that chain to each other, and verifies them as one log", async () => {
    const log = join(tmp(), "audit.jsonl");
    const w = await AuditWriter.open({ path: log, rotateMaxBytes: 4000 });
    for (let i = 0; i < 40; i++) await w.append(decision(i));
    await w.close();
    const segments = listSegments(log);
    expect(segments.length).toBeGreaterThan(3);
    expect(segments[0]).toBe(segmentPath(log, 1));
    expect(segments.at(-1)).toBe(log);
    for (const s of segments.slice(0, -1)) expect(statSync(s).size).toBeLessThanOrEqual(4000);
    for (let i = 1; i < segments.length; i++) {
      const prevLast = JSON.parse(lines(segments[i - 1]!).at(-1)!);
      const first = JSON.parse(lines(segments[i]!)[0]!);
      expect(first.prev_hash).toBe(prevLast.entry_hash);
      expect(first.seq).toBe(prevLast.seq + 1);
    }
    const r = await verifyLog(log);
    expect(r).toMatchObject({ ok: true, events: 40, lastSeq: 40 });
    // Every split of the segment set into thread ranges stitches back into one chain.
    for (const chunkBytes of [500, 1234, 3000])
      expect((await verifyLog(log, { chunkBytes })).issues).toEqual([]);
    // A segment missing from the middle breaks the chain at the next one.
    unlinkSync(segments[1]!);
    const broken = await verifyLog(log);
    expect(broken.issues[0]).toMatchObject({ segment: segments[2], line: 1, code: "seq" });
  });

  it("rotates by age, and resumes from the newest segment when the active one is missing", async () => {
    const log = join(tmp(), "audit.jsonl");
    const w = await AuditWriter.open({ path: log, rotateMaxAgeSeconds: 0.2 });
    await w.append(decision(0));
    await sleep(300);
    await w.append(decision(1));
    await w.close();
    expect(listSegments(log)).toEqual([segmentPath(log, 1), log]);
    // A crash right after a rotation's rename leaves no active segment.
    unlinkSync(log);
    const again = await AuditWriter.open({ path: log });
    expect(again.lastSeq).toBe(1);
    await again.append(decision(2));
    await again.close();
    expect((await verifyLog(log)).issues).toEqual([]);
  });

  it("reports a torn tail and refuses to append until repaired", async () => {
    const log = join(tmp(), "audit.jsonl");
    const w = await AuditWriter.open({ path: log });
    await w.append(decision(0));
    await w.close();
    writeFileSync(log, `${readFileSync(log, "utf8")}{"action":"half a li`);
    const err = await AuditWriter.open({ path: log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditError);
    expect((err as Error).message).toMatch(
      /ends with a torn line \(20 bytes after offset \d+, cut by a crash\).*audit verify --repair/,
    );
    const v = await verifyLog(log);
    expect(v.torn).toMatchObject({ bytes: 20, line: 2 });
    const repaired = await AuditWriter.open({ path: log, repair: true });
    expect(repaired.repaired).toMatchObject({
      bytes: 20,
      base64: Buffer.from('{"action":"half a li').toString("base64"),
    });
    await repaired.close();
    const events = lines(log).map((l) => JSON.parse(l));
    expect(events.map((e) => e.event_type)).toEqual(["decision", "repair"]);
    expect(events[1].context).toMatchObject({ bytes: 20, after_seq: 1 });
    expect((await verifyLog(log)).issues).toEqual([]);
  });
});
