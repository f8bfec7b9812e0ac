/**
 * Tamper evidence (issue 3 acceptance "Tamper", THREATS T5): one changed value, a deleted middle
 * line, two swapped lines, a tail cut after a shipped checkpoint, and a full rewrite of the chain
 * without the audit key are each detected, naming the line and seq.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkpointsPath,
  formatIssue,
  signCheckpoint,
  type VerifyReport,
  verifyLog,
} from "../../src/audit/index.js";
import { AuditWriter } from "../../src/audit/writer.js";
import { canonicalize, canonicalizeWithout } from "../../src/codec/jcs.js";
import { keyId } from "../../src/keys/keystore.js";
import { auditKeys, decision, tmp } from "./helpers.js";

let dir: string;
let original: string[];
let shipped: string; // a copy of the checkpoints file, as a shipper would have kept it off the host
let publicKeys: Map<string, import("node:crypto").KeyObject>;

beforeAll(async () => {
  dir = tmp();
  const log = join(dir, "audit.jsonl");
  const keys = auditKeys(dir);
  publicKeys = keys.publicKeys;
  const w = await AuditWriter.open({
    path: log,
    signingKey: keys.key,
    checkpointEveryEvents: 10,
    fsync: "never",
  });
  for (let i = 0; i < 60; i++) await w.append(decision(i));
  await w.close();
  original = readFileSync(log, "utf8").split("\n").slice(0, -1);
  shipped = join(dir, "shipped-checkpoints.jsonl");
  copyFileSync(checkpointsPath(log), shipped);
});

function variant(name: string, lines: string[]): string {
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, lines.map((l) => `${l}\n`).join(""));
  return path;
}

const messages = (r: VerifyReport) => r.issues.map((i) => formatIssue(i, false));

/** What an attacker with write access but no key can do: recompute every hash from line `from` on. */
function rehash(
  lines: string[],
  edit: (ev: Record<string, unknown>, i: number) => Record<string, unknown> | null,
): string[] {
  let prev = "0".repeat(64);
  let seq = 0;
  const out: string[] = [];
  lines.forEach((l, i) => {
    const ev = edit(JSON.parse(l) as Record<string, unknown>, i);
    if (ev === null) return;
    ev.prev_hash = prev;
    ev.seq = ++seq;
    ev.entry_hash = createHash("sha256").update(canonicalizeWithout(ev, "entry_hash")).digest("hex");
    prev = ev.entry_hash as string;
    out.push(canonicalize(ev));
  });
  return out;
}

describe("tamper evidence", () => {
  it("the untouched log verifies, signed, against the shipped checkpoints", async () => {
    const r = await verifyLog(variant("clean", original), { publicKeys, checkpoints: shipped });
    expect(messages(r)).toEqual([]);
    expect(r.signing.status).toBe("signed");
    expect(r.signing.external).toBeGreaterThanOrEqual(5);
  });

  it("detects one changed value, naming the line and seq", async () => {
    const lines = [...original];
    lines[6] = lines[6]!.replace('"caller":"agent-6"', '"caller":"agent-X"');
    const r = await verifyLog(variant("edit", lines), { publicKeys });
    expect(r.ok).toBe(false);
    expect(messages(r)).toEqual([
      expect.stringMatching(
        /^Line 7 \(seq 7\): hash mismatch — stored [0-9a-f]{16}\.\.\., computed [0-9a-f]{16}\.\.\.$/,
      ),
    ]);
  });

  it("detects a single byte of whitespace added to a line", async () => {
    const lines = [...original];
    lines[3] = lines[3]!.replace('"reason":', '"reason": ');
    const r = await verifyLog(variant("space", lines));
    expect(messages(r)).toEqual([expect.stringMatching(/^Line 4 \(seq 4\): hash mismatch/)]);
  });

  it("detects a deleted middle line", async () => {
    const lines = original.filter((_, i) => i !== 19);
    const expected = [
      "Line 20 (seq 21): seq out of order — expected 20, got 21",
      expect.stringMatching(/^Line 20 \(seq 21\): chain broken — expected prev_hash /),
    ];
    expect(messages(await verifyLog(variant("delete", lines), { publicKeys }))).toEqual(expected);
    // The same when the gap falls on a seam between the chunks threads verify.
    for (const chunkBytes of [300, 777, 4096]) {
      expect(messages(await verifyLog(variant("delete", lines), { publicKeys, chunkBytes }))).toEqual(
        expected,
      );
    }
  });

  it("detects two reordered lines", async () => {
    const lines = [...original];
    [lines[29], lines[30]] = [lines[30]!, lines[29]!];
    const r = await verifyLog(variant("swap", lines), { publicKeys });
    expect(r.ok).toBe(false);
    expect(messages(r)[0]).toMatch(/^Line 30 \(seq 31\): seq out of order — expected 30, got 31$/);
    expect(messages(r).some((m) => m.startsWith("Line 31 (seq 30): "))).toBe(true);
  });

  it("detects the tail deleted after a shipped checkpoint", async () => {
    const lines = original.slice(0, 25);
    const alone = await verifyLog(variant("cut", lines), { publicKeys });
    expect(alone.ok).toBe(true); // a hash chain alone cannot see a cut tail...
    const r = await verifyLog(variant("cut", lines), { publicKeys, checkpoints: shipped });
    expect(r.ok).toBe(false); // ...the shipped checkpoints can
    expect(messages(r)[0]).toMatch(
      /^Seq 32: log truncated: a checkpoint signed at .* covers seq 32 \(hash [0-9a-f]{16}\.\.\.\) but the log ends at seq 25$/,
    );
  });

  it("detects the first line deleted (the chain no longer starts at genesis)", async () => {
    const r = await verifyLog(variant("head", original.slice(1)));
    expect(messages(r)[0]).toMatch(/^Line 1 \(seq 2\): seq out of order — expected 1, got 2/);
  });

  it("detects a full rewrite without the key that keeps the old checkpoint events", async () => {
    // The attacker edits event 5, recomputes every hash, and points each checkpoint event at the
    // forged chain; the old signatures cannot follow.
    let prevHash = "0".repeat(64);
    const forged = original.map((l) => {
      const ev = JSON.parse(l) as Record<string, unknown>;
      if (ev.seq === 5) ev.reason = "nothing to see here";
      ev.prev_hash = prevHash;
      if (ev.event_type === "checkpoint") (ev.context as Record<string, unknown>).last_hash = prevHash;
      ev.entry_hash = createHash("sha256").update(canonicalizeWithout(ev, "entry_hash")).digest("hex");
      prevHash = ev.entry_hash as string;
      return canonicalize(ev);
    });
    const path = variant("rewrite-keep", forged);
    expect((await verifyLog(path)).issues).toEqual([]); // the forged chain itself is consistent...
    const r = await verifyLog(path, { publicKeys });
    expect(r.ok).toBe(false); // ...but its checkpoints' signatures are not
    expect(r.signing.status).toBe("invalid");
    expect(messages(r)[0]).toMatch(/^Line 11 \(seq 11\): checkpoint signature is invalid/);
    const shippedToo = await verifyLog(path, { publicKeys, checkpoints: shipped });
    expect(messages(shippedToo)).toContainEqual(
      expect.stringMatching(
        /^Line 10 \(seq 10\): does not match the checkpoint signed at .*: the chain was rewritten/,
      ),
    );
  });

  it("detects a full rewrite without the key that drops the checkpoints, against the shipped ones", async () => {
    const forged = rehash(original, (ev, i) => {
      if (ev.event_type === "checkpoint") return null;
      if (i === 4) ev.decision = "deny";
      return ev;
    });
    const path = variant("rewrite-drop", forged);
    expect((await verifyLog(path, { publicKeys })).issues).toEqual([]); // consistent, unsigned
    const r = await verifyLog(path, { publicKeys, checkpoints: shipped });
    expect(r.ok).toBe(false);
    expect(messages(r)).toContainEqual(
      expect.stringMatching(
        /^Line 10 \(seq 10\): does not match the checkpoint signed at .*: the chain was rewritten/,
      ),
    );
  });

  it("detects checkpoints the attacker signed with a key of their own", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const kid = keyId(publicKey);
    let prevHash = "0".repeat(64);
    const forged = original.map((l) => {
      const ev = JSON.parse(l) as Record<string, unknown>;
      if (ev.event_type === "decision" && ev.seq === 3) ev.reason = "forged";
      ev.prev_hash = prevHash;
      if (ev.event_type === "checkpoint") {
        const ctx = ev.context as Record<string, unknown>;
        const payload = { chain_id: "main", kid, last_hash: prevHash, seq: (ev.seq as number) - 1 };
        Object.assign(ctx, payload, {
          signature: signCheckpoint({ purpose: "audit-checkpoint", kid, privateKey, publicKey }, payload),
        });
      }
      ev.entry_hash = createHash("sha256").update(canonicalizeWithout(ev, "entry_hash")).digest("hex");
      prevHash = ev.entry_hash as string;
      return canonicalize(ev);
    });
    const r = await verifyLog(variant("own-key", forged), { publicKeys });
    expect(r.ok).toBe(false);
    expect(messages(r)[0]).toMatch(/^Line 11 \(seq 11\): checkpoint signed by an unknown key/);
  });
});
