/**
 * Crash safety (issue 3, acceptance "Crash"): a child appends decisions at full speed with
 * `fsync: batch` and is SIGKILLed at random moments, 20 times, then killed mid-line by the test
 * hook 3 times. After each kill: a torn tail makes the next writer refuse until repaired; after
 * repair the log verifies (chain, hashes, signatures, the side file's checkpoints); and every
 * decision the child saw acknowledged is in the log.
 */
import { closeSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditError, AuditWriter, checkpointsPath, repairLog, verifyLog } from "../../src/audit/index.js";
import { auditKeys, startChild, tmp } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Event ids of the lines from byte `from` on (complete lines only). */
function idsFrom(path: string, from: number): Set<string> {
  const size = statSync(path).size;
  const buf = Buffer.alloc(size - from);
  const fd = openSync(path, "r");
  readSync(fd, buf, 0, buf.length, from);
  closeSync(fd);
  const ids = new Set<string>();
  for (const m of buf.toString("utf8").matchAll(/"event_id":"(evt-[0-9a-f]{12})","event_type"/g))
    ids.add(m[1]!);
  return ids;
}

describe("crash safety", () => {
  it("SIGKILL at 20 random moments and 3 torn writes: acknowledged decisions survive, torn tails are refused until repaired", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    const { key, publicKeys } = auditKeys(dir);
    const keysDir = join(dir, "keys");
    let lastSeq = 0;
    let totalAcked = 0;
    let tornRefusals = 0;
    for (let round = 0; round < 23; round++) {
      const hook = round >= 20;
      const before = (() => {
        try {
          return statSync(log).size;
        } catch {
          return 0;
        }
      })();
      const tornAt = lastSeq + 30 + Math.floor(Math.random() * 400);
      const child = await startChild(
        { mode: "flood", path: log, keysDir, concurrency: 16 },
        hook ? { AGENT_SAFE_TEST_AUDIT_TORN_WRITE_AT: String(tornAt) } : {},
      );
      await child.waitFor(/^opened /);
      if (!hook) {
        await sleep(20 + Math.random() * 200);
        child.proc.kill("SIGKILL");
      }
      const { signal } = await child.exited;
      expect(signal).toBe("SIGKILL");
      const acked = child.out.filter((l) => l.startsWith("ack ")).map((l) => l.split(" ")[1]!);
      totalAcked += acked.length;

      // The next writer: refuses a torn tail (always, after the mid-line hook).
      let torn = false;
      try {
        const w = await AuditWriter.open({ path: log, signingKey: key });
        await w.close();
      } catch (err) {
        expect(err).toBeInstanceOf(AuditError);
        expect((err as AuditError).code).toBe("TORN_TAIL");
        expect((err as Error).message).toContain("audit verify --repair");
        torn = true;
      }
      if (hook) expect(torn).toBe(true);
      if (torn) {
        tornRefusals++;
        // Still refused on a second try: nothing is appended to a torn log until it is repaired.
        await expect(AuditWriter.open({ path: log })).rejects.toMatchObject({ code: "TORN_TAIL" });
        const info = await repairLog({ path: log, signingKey: key });
        expect(info?.bytes).toBeGreaterThan(0);
        if (hook) expect(info?.offset).toBeGreaterThanOrEqual(before);
      }

      const report = await verifyLog(log, { publicKeys, checkpoints: checkpointsPath(log) });
      expect(report.issues).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.signing.status).toBe("signed");
      expect(report.lastSeq!).toBeGreaterThan(lastSeq);
      lastSeq = report.lastSeq!;

      const present = idsFrom(log, before);
      const missing = acked.filter((id) => !present.has(id));
      expect(missing).toEqual([]);
    }
    expect(tornRefusals).toBeGreaterThanOrEqual(3);
    expect(totalAcked).toBeGreaterThan(1000);
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
