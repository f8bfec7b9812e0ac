/** The v2 line format, the raw-line scanner, and 0.9.0 (v1) verification with the reference vectors. */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeEvent, prepareEvent } from "../../src/audit/event.js";
import { verifyLog } from "../../src/audit/index.js";
import { emptyFields, hashWithout, scanLine } from "../../src/audit/line.js";
import { Redactor } from "../../src/audit/redact.js";
import { v1EntryHash, verifyV1Text } from "../../src/audit/verify-v1.js";
import { canonicalize, canonicalizeWithout } from "../../src/codec/jcs.js";
import { parseJsonPy } from "../../src/codec/json-parse.js";
import type { PyObject } from "../../src/core/pyvalue.js";
import { ROOT } from "../helpers/cli.js";
import { decision, tmp } from "./helpers.js";

const V1 = join(ROOT, "test", "fixtures", "audit", "v1-vectors.jsonl");
const unkeyed = Redactor.unkeyed();

describe("v2 line format", () => {
  it("is the RFC 8785 canonical JSON of the event, and entry_hash covers it without that member", () => {
    const p = prepareEvent(
      decision(1, { params: { z: 1, a: { y: [1, 2.5, "é 😀"], b: null }, "10": true }, context: { k: "v" } }),
      "main",
      unkeyed,
    );
    const { record, line } = encodeEvent(p, 7, "ab".repeat(32));
    expect(line.endsWith("\n")).toBe(true);
    const text = line.slice(0, -1);
    expect(text).toBe(canonicalize(JSON.parse(text)));
    expect(JSON.parse(text)).toEqual(record);
    const hashed = createHash("sha256")
      .update(canonicalizeWithout(record as unknown as Record<string, unknown>, "entry_hash"))
      .digest("hex");
    expect(record.entry_hash).toBe(hashed);
    expect(record).toMatchObject({ v: 2, seq: 7, chain_id: "main", prev_hash: "ab".repeat(32) });
    expect(record.event_id).toMatch(/^evt-[0-9a-f]{12}$/);
    expect(record.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/);
    // The verifier's view: raw bytes minus the textual entry_hash member.
    const buf = Buffer.from(text);
    const f = emptyFields();
    expect(scanLine(buf, 0, buf.length, f)).toBeNull();
    expect(hashWithout(buf, 0, buf.length, f.memberStart, f.memberEnd)).toBe(record.entry_hash);
  });

  it("finds the top-level members, not look-alikes nested in params or context", () => {
    const decoy = { prev_hash: "f".repeat(64), entry_hash: "e".repeat(64), seq: 99, v: 1, chain_id: "evil" };
    const p = prepareEvent(decision(2, { params: decoy, context: decoy }), "main", unkeyed);
    const { record, line } = encodeEvent(p, 3, "0".repeat(64));
    const buf = Buffer.from(line.slice(0, -1));
    const f = emptyFields();
    expect(scanLine(buf, 0, buf.length, f)).toBeNull();
    expect(f).toMatchObject({
      v: 2,
      seq: 3,
      chainId: "main",
      prevHash: "0".repeat(64),
      entryHash: record.entry_hash,
    });
    expect(hashWithout(buf, 0, buf.length, f.memberStart, f.memberEnd)).toBe(record.entry_hash);
  });

  it("rejects events JCS cannot represent, or that are malformed, before they use a seq", () => {
    expect(() => prepareEvent(decision(0, { params: { x: Number.NaN } }), "main", unkeyed)).toThrow(
      /Invalid audit event: params/,
    );
    expect(() => prepareEvent(decision(0, { reason: "\ud800" }), "main", unkeyed)).toThrow(/lone surrogate/);
    expect(() => prepareEvent({ ...decision(0), decision: "maybe" as never }, "main", unkeyed)).toThrow(
      /decision must be one of/,
    );
    expect(() => prepareEvent({ ...decision(0), event_type: "Bad Type" }, "main", unkeyed)).toThrow(
      /event_type/,
    );
    expect(() => prepareEvent({ ...decision(0), event_id: "evt-xyz" }, "main", unkeyed)).toThrow(/event_id/);
    expect(() => prepareEvent({ ...decision(0), timestamp: "yesterday" }, "main", unkeyed)).toThrow(
      /timestamp/,
    );
    expect(() => prepareEvent({ action: "x" }, "main", unkeyed)).toThrow(/reason is required/);
    // Other types get neutral defaults; new types are accepted when well-formed.
    const p = prepareEvent({ event_type: "kill_switch", action: "kill-switch" }, "main", unkeyed);
    expect(p.fields).toMatchObject({
      decision: "allow",
      risk_class: "low",
      reason: "",
      target: "unknown",
      caller: "anonymous",
    });
  });
});

describe("0.9.0 (v1) logs", () => {
  it("reproduce the reference's two test vectors byte for byte (REFERENCE.md §4.3)", () => {
    const [l1, l2] = readFileSync(V1, "utf8").split("\n");
    const e1 = parseJsonPy(l1!) as PyObject;
    const e2 = parseJsonPy(l2!) as PyObject;
    expect(v1EntryHash(e1)).toBe("03955d2bf64cae8b12b547efae6dd2d3326df4e8cfd4c1f9da14c5aea33433c9");
    expect(v1EntryHash(e2)).toBe("2357edb20dcbe301318587ca379971d802446363837629e4b0effe9f4660308c");
    expect(e1.entry_hash).toBe(v1EntryHash(e1));
    expect(verifyV1Text(readFileSync(V1, "utf8"))).toMatchObject({ events: 2, errors: [] });
  });

  it("verify with the reference's messages, skipping blank lines, detecting edits", async () => {
    const ok = await verifyLog(V1);
    expect(ok).toMatchObject({ ok: true, format: "v1", events: 2 });
    const dir = tmp();
    const [l1, l2] = readFileSync(V1, "utf8").split("\n");
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `\n${l1!.replace('"reason": "ok"', '"reason": "OK"')}\n   \n${l2}\nnot json\n`);
    const r = await verifyLog(bad);
    expect(r.ok).toBe(false);
    expect(r.issues.map((i) => i.message)).toEqual([
      expect.stringMatching(
        /^Line 1: hash mismatch — stored 03955d2bf64cae8b\.\.\., computed [0-9a-f]{16}\.\.\.$/,
      ),
      "Line 3: invalid JSON: Expecting value: line 1 column 1 (char 0)",
    ]);
    // Key order and whitespace are not part of a v1 hash (it re-serialises): still valid.
    const reordered = join(dir, "reordered.jsonl");
    const obj = JSON.parse(l1!) as Record<string, unknown>;
    writeFileSync(reordered, `${JSON.stringify(Object.fromEntries(Object.entries(obj).reverse()))}\n`);
    expect((await verifyLog(reordered)).ok).toBe(true);
  });
});
