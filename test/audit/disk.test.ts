/**
 * Disk full and unwritable logs (issue 3 acceptance): an append that cannot be written rejects
 * with a clear, typed error — never resolves — nothing crashes, and the log stays consistent.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditWriteError, AuditWriter, verifyLog } from "../../src/audit/index.js";
import { childScript, decision, lines, tmp, wrapChild } from "./helpers.js";

describe("disk full and unwritable logs", () => {
  it("a log whose writes fail (/dev/full): appends reject with ENOSPC, the writer stops cleanly", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    symlinkSync("/dev/full", log);
    const w = await AuditWriter.open({ path: log });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => w.append(decision(i))));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    const err = (results[0] as PromiseRejectedResult).reason as AuditWriteError;
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(err.errno).toBe("ENOSPC");
    expect(err.message).toContain("write failed (ENOSPC: no space left on device)");
    // /dev/full cannot be truncated back, so the writer stops: every later append fails closed too.
    expect(err.code).toBe("WRITER_FAILED");
    await expect(w.append(decision(11))).rejects.toMatchObject({ code: "WRITER_FAILED" });
    await w.close();
  });

  it("a regular file that hits its size limit (EFBIG): failed writes are cut back, the chain stays whole", async () => {
    const dir = tmp();
    const log = join(dir, "audit.jsonl");
    const script = await childScript();
    // RLIMIT_FSIZE makes the file system refuse writes past ~100 KB, like a full disk.
    const proc = spawn("sh", [
      "-c",
      `ulimit -f 200 && exec "${process.execPath}" "${script}" '${JSON.stringify({ mode: "fill", path: log })}'`,
    ]);
    const child = wrapChild(proc);
    const { code } = await child.exited;
    expect(code).toBe(0);
    const report = JSON.parse(child.out.find((l) => l.startsWith("{"))!);
    expect(report.acked).toBeGreaterThan(50);
    expect(report.errors.length).toBeGreaterThanOrEqual(3);
    for (const e of report.errors) {
      // Each failure is cut back off the file and reported; the writer never gives up (WRITER_FAILED).
      expect(e).toMatchObject({ code: "WRITE_FAILED", errno: "EFBIG" });
      expect(e.message).toMatch(/write failed \(EFBIG: file too large\); the event was not recorded/);
    }
    expect(report.lastSeq).toBe(report.durableSeq); // no half-accounted seq
    const v = await verifyLog(log);
    expect(v.issues).toEqual([]);
    expect(v.lastSeq).toBe(report.lastAcked);
    expect(lines(log)).toHaveLength(report.lastAcked);
  });

  it("an unwritable directory: opening fails with a clear error", async () => {
    let path: string;
    if (process.getuid?.() === 0) {
      path = "/sys/agent-safe-audit-test.jsonl"; // root ignores file modes; sysfs refuses new files
    } else {
      const dir = join(tmp(), "ro");
      mkdirSync(dir);
      chmodSync(dir, 0o555);
      path = join(dir, "audit.jsonl");
    }
    const err = await AuditWriter.open({ path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect((err as AuditWriteError).code).toBe("UNWRITABLE");
    expect((err as Error).message).toMatch(/^Cannot (create the lock file|open audit log)/);
  });

  it("a missing directory: opening fails with ENOENT, nothing is created", async () => {
    const err = await AuditWriter.open({ path: join(tmp(), "no", "such", "audit.jsonl") }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "UNWRITABLE" });
  });
});
