/**
 * Shippers (issue 3 acceptance "Shippers", THREATS T19): a webhook down for 10 s does not slow
 * appends, and every event arrives in order afterwards; queue overflow is recovered from the log
 * and recorded as a gap; cursors survive restarts; S3 works against moto.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditWriter, FilesystemShipper, verifyLog, WebhookShipper } from "../../src/audit/index.js";
import { decision, lines, tmp } from "./helpers.js";
import { Recorder, waitUntil } from "./http-recorder.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function p99(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))]!;
}

describe("webhook shipper", () => {
  it("endpoint down for 10 s: appends are not slowed, and every event arrives in order after recovery", async () => {
    const dir = tmp();
    const recorder = await new Recorder().start();
    const port = recorder.port;
    await recorder.stop(); // down: connection refused
    const secret = "webhook-signing-secret";
    const plain = await AuditWriter.open({ path: join(dir, "plain.jsonl") });
    const shipped = await AuditWriter.open({
      path: join(dir, "shipped.jsonl"),
      shippers: [
        new WebhookShipper({
          url: `http://127.0.0.1:${port}/ingest`,
          hmacSecret: secret,
          headers: { "X-Tenant": "t1" },
        }),
      ],
      shipperOptions: { retryBaseMs: 50, retryMaxMs: 1000 },
      onWarning: () => {},
    });
    // Interleave the two writers so both see the same machine noise.
    const without: number[] = [];
    const withShipper: number[] = [];
    const end = Date.now() + 10_000;
    let i = 0;
    while (Date.now() < end) {
      for (const [w, samples] of i % 2 === 0
        ? ([
            [plain, without],
            [shipped, withShipper],
          ] as const)
        : ([
            [shipped, withShipper],
            [plain, without],
          ] as const)) {
        const t0 = performance.now();
        await w.append(decision(i));
        samples.push(performance.now() - t0);
      }
      i++;
      await sleep(1);
    }
    expect(recorder.received).toHaveLength(0);
    const pWithout = p99(without);
    const pWith = p99(withShipper);
    expect(pWith).toBeLessThanOrEqual(2 * pWithout);

    await recorder.start(port); // back up
    const total = shipped.lastSeq;
    await waitUntil(() => recorder.unique().ids.length >= total, 60_000, "every event to arrive");
    await plain.close();
    await shipped.close();
    const { seqs, ids } = recorder.unique();
    const log = lines(join(dir, "shipped.jsonl"));
    expect(seqs.slice(0, total)).toEqual(Array.from({ length: total }, (_, k) => k + 1)); // in order, none lost
    expect(ids.slice(0, total)).toEqual(log.slice(0, total).map((l) => JSON.parse(l).event_id));
    // Each delivery carries the exact log line, its id as idempotency key, and a valid signature.
    for (const r of recorder.received.slice(0, 50)) {
      const body = JSON.parse(r.body);
      expect(r.headers["x-agent-safe-event-id"]).toBe(body.event.event_id);
      expect(r.eventId).toBe(body.event.event_id);
      expect(r.headers["x-tenant"]).toBe("t1");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["x-agent-safe-signature"]).toBe(
        `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`,
      );
      expect(r.body).toBe(`{"event":${log[body.event.seq - 1]},"shipped_at":"${body.shipped_at}"}`);
      expect(body.shipped_at).toMatch(/\+00:00$/);
    }
    await recorder.stop();
    console.log(
      `webhook-down test: ${total} events, p99 append ${pWithout.toFixed(2)} ms without shipper, ${pWith.toFixed(2)} ms with`,
    );
  }, 90_000);

  it("a full queue catches up from the log, in order, and records a gap event", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    const recorder = await new Recorder().start();
    const port = recorder.port;
    await recorder.stop();
    const warnings: string[] = [];
    const w = await AuditWriter.open({
      path: log,
      shippers: [new WebhookShipper({ url: `http://127.0.0.1:${port}/x` })],
      shipperOptions: { queueSize: 10, retryBaseMs: 20, retryMaxMs: 100 },
      onWarning: (m) => warnings.push(m),
    });
    for (let i = 0; i < 60; i++) await w.append(decision(i));
    await recorder.start(port);
    await waitUntil(() => lines(log).some((l) => l.includes('"event_type":"gap"')), 20_000, "a gap event");
    await waitUntil(() => recorder.unique().ids.length >= w.durableSeq, 20_000, "catch-up");
    await w.close();
    const events = lines(log).map((l) => JSON.parse(l));
    const gap = events.find((e) => e.event_type === "gap");
    expect(gap.context).toMatchObject({ type: "gap", from_seq: 11, reshipped_from_log: true });
    expect(gap.context.to_seq).toBeGreaterThanOrEqual(60);
    expect(warnings.some((m) => m.includes("queue full"))).toBe(true);
    const { seqs } = recorder.unique();
    expect(seqs).toEqual(events.map((e) => e.seq)); // everything, in order, gap event included
    await recorder.stop();
  });

  it("resumes from its cursor after a restart: no event shipped twice, none skipped", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    const copy = join(dir, "copy.jsonl");
    const open = () => AuditWriter.open({ path: log, shippers: [new FilesystemShipper({ path: copy })] });
    let w = await open();
    for (let i = 0; i < 30; i++) await w.append(decision(i));
    await w.close();
    // Written while no shipper ran: picked up from the log at the next start.
    w = await AuditWriter.open({ path: log });
    for (let i = 30; i < 40; i++) await w.append(decision(i));
    await w.close();
    w = await open();
    for (let i = 40; i < 50; i++) await w.append(decision(i));
    await w.close();
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(log, "utf8"));
    expect((await verifyLog(copy)).issues).toEqual([]); // the shipped copy verifies on its own
  });
});
