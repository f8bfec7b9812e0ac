/** The lookup index: lookups by id without rereading the log, incremental refresh, self-healing. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditIndex, AuditWriter } from "../../src/audit/index.js";
import { decision, tmp } from "./helpers.js";

async function seed(log: string, n: number, from = 0, rotate?: number): Promise<string[]> {
  const w = await AuditWriter.open({ path: log, ...(rotate ? { rotateMaxBytes: rotate } : {}) });
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    const d = await w.append(decision(i));
    ids.push(d.event_id);
    if (i % 3 === 0) {
      await w.append({
        event_type: "state_capture",
        action: "restart-deployment",
        target: "dev/test-app",
        caller: "agent-0",
        reason: `State capture for ${d.event_id}`,
        correlation_id: d.event_id,
        context: {
          type: "state_capture",
          original_audit_id: d.event_id,
          before_state: { r: i },
          after_state: { r: i + 1 },
        },
      });
    }
  }
  await w.close();
  return ids;
}

describe("AuditIndex", () => {
  it("finds events by id and by original_audit_id, reading only what was appended since", async () => {
    const log = join(tmp(), "audit.jsonl");
    const ids = await seed(log, 300, 0, 20_000);
    let index = (await AuditIndex.open(log))!;
    expect(index.lastRefreshLines).toBe(400);
    expect(index.byEventId(ids[42]!)[0]!.event).toMatchObject({ event_id: ids[42], seq: expect.any(Number) });
    const caps = index.byOriginalAuditId(ids[42]!, "state_capture");
    expect(caps).toHaveLength(1);
    expect(caps[0]!.event.context).toMatchObject({ before_state: { r: 42 } });
    expect(index.byOriginalAuditId(ids[43]!, "state_capture")).toEqual([]);
    expect(index.stateCoverage()).toMatchObject({ total: 300, covered: 100 });
    index.close();

    // Reopening reads nothing; appending (with rotations renaming segments) reads only the new lines.
    index = (await AuditIndex.open(log))!;
    expect(index.lastRefreshLines).toBe(0);
    index.close();
    const more = await seed(log, 30, 300, 20_000);
    index = (await AuditIndex.open(log))!;
    expect(index.lastRefreshLines).toBe(40);
    expect(index.byEventId(more[29]!)).toHaveLength(1);
    expect(index.byEventId(ids[0]!)).toHaveLength(1);
    index.close();
  });

  it("never trusts a stale entry: a rewritten log is re-indexed", async () => {
    const log = join(tmp(), "audit.jsonl");
    const ids = await seed(log, 10);
    (await AuditIndex.open(log))!.close();
    // Rewrite the log in place (same first event, different tail).
    const text = readFileSync(log, "utf8").split("\n");
    writeFileSync(log, `${text.slice(0, 3).join("\n")}\n`);
    const index = (await AuditIndex.open(log))!;
    expect(index.byEventId(ids[9]!)).toEqual([]);
    expect(index.byEventId(ids[0]!)).toHaveLength(1);
    index.close();
  });
});
