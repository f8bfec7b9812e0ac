import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parseJsonPy } from "../../src/codec/json-parse.js";
import { compareCodePoints, pyJsonDumps, pyJsonString } from "../../src/codec/python-json.js";
import {
  PyDate,
  PyDateTime,
  PyFloat,
  type PyObject,
  type PyValue,
  rememberKeyOrder,
  setOwn,
} from "../../src/core/pyvalue.js";

/** Python values with explicit types, as `test/fixtures/json/gen_json.py` writes them. */
type Enc =
  | { t: "int" | "float" | "str"; v: string }
  | { t: "bool"; v: boolean }
  | { t: "null" }
  | { t: "list"; v: Enc[] }
  | { t: "dict"; v: [string, Enc][] };

interface LoadsVector {
  text: string;
  result?: Enc;
  dumps_sorted?: string;
  dumps?: string;
}

interface DumpsVector {
  name: string;
  value: Enc;
  sorted: string;
  unsorted: string;
}

const vectors = JSON.parse(
  readFileSync(new URL("../fixtures/json/vectors.json", import.meta.url), "utf8"),
) as {
  loads: LoadsVector[];
  loads_random: LoadsVector[];
  dumps: DumpsVector[];
};

const FLOAT_WORDS: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
};

/** Builds the value-model equivalent of an encoded Python value. */
function dec(e: Enc): PyValue {
  switch (e.t) {
    case "null":
      return null;
    case "bool":
    case "str":
      return e.v;
    case "int": {
      const n = Number(e.v);
      return Number.isSafeInteger(n) ? n : BigInt(e.v);
    }
    case "float": {
      const x = FLOAT_WORDS[e.v] ?? Number(e.v);
      return Number.isInteger(x) ? new PyFloat(x) : x;
    }
    case "list":
      return e.v.map(dec);
    case "dict": {
      const obj: PyObject = {};
      for (const [k, v] of e.v) setOwn(obj, k, dec(v));
      rememberKeyOrder(
        obj,
        e.v.map(([k]) => k),
      );
      return obj;
    }
  }
}

describe("pyJsonDumps against Python json.dumps", () => {
  test.each(vectors.dumps.map((v) => [v.name, v] as const))("%s", (_, vec) => {
    const value = dec(vec.value);
    expect(pyJsonDumps(value, { sortKeys: true })).toBe(vec.sorted);
    expect(pyJsonDumps(value)).toBe(vec.unsorted);
  });

  test("dumps(loads(text)) for every parsable loads vector", () => {
    let n = 0;
    for (const vec of [...vectors.loads, ...vectors.loads_random]) {
      if (vec.result === undefined) continue;
      const value = parseJsonPy(vec.text);
      expect(pyJsonDumps(value, { sortKeys: true }), vec.text).toBe(vec.dumps_sorted);
      expect(pyJsonDumps(value), vec.text).toBe(vec.dumps);
      n++;
    }
    expect(n).toBeGreaterThan(500);
  });
});

describe("pyJsonDumps details", () => {
  test("floats in repr, ints in full, ASCII escapes", () => {
    const value: PyValue = {
      f: [new PyFloat(1), 1e-5, new PyFloat(1e16), 1.5e-7, new PyFloat(-0), 0.1],
      i: [3, -0, 2n ** 70n, Number.MAX_SAFE_INTEGER],
      s: "ü 😀\u007f/\t\u0000",
      n: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    };
    expect(pyJsonDumps(value, { sortKeys: true })).toBe(
      '{"f": [1.0, 1e-05, 1e+16, 1.5e-07, -0.0, 0.1], "i": [3, 0, 1180591620717411303424, 9007199254740991], ' +
        '"n": [NaN, Infinity, -Infinity], "s": "\\u00fc \\ud83d\\ude00\\u007f/\\t\\u0000"}',
    );
  });

  test("a lone surrogate escapes as itself", () => {
    expect(pyJsonString("a\ud800b\udfff")).toBe('"a\\ud800b\\udfff"');
  });

  test("dates and datetimes are written as their strings", () => {
    const value: PyValue = { d: new PyDate("2024-01-01"), t: new PyDateTime("2024-01-01 10:00:00", 0) };
    expect(pyJsonDumps(value)).toBe('{"d": "2024-01-01", "t": "2024-01-01 10:00:00"}');
  });

  test("keys sort by code point, not UTF-16 unit", () => {
    const keys = [
      "\u{1F600}",
      "\uffff",
      "\ue000",
      "a",
      "\ud800",
      "\u{10000}",
      "",
      "aa",
      "\ud83d\ude00x",
      "\ud83d",
    ];
    const py = [...keys].sort((a, b) => {
      const ca = [...a].map((c) => c.codePointAt(0)!);
      const cb = [...b].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
      return ca.length - cb.length;
    });
    expect([...keys].sort(compareCodePoints)).toEqual(py);
    expect(py.indexOf("\uffff")).toBeLessThan(py.indexOf("\u{1F600}"));
    expect(compareCodePoints("\ud83d\ude00", "\ud83dA")).toBeGreaterThan(0);
    expect(compareCodePoints("\ud83dA", "\ud83d\ude00")).toBeLessThan(0);
  });

  test("unserialisable values throw", () => {
    expect(() => pyJsonDumps({ a: undefined } as unknown as PyValue)).toThrow(TypeError);
    const loop: PyValue[] = [];
    loop.push(loop);
    expect(() => pyJsonDumps(loop)).toThrow(RangeError);
  });
});

describe("REFERENCE.md §4.3 hash-chain vectors", () => {
  const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
  const event1: PyObject = {
    event_id: "evt-000000000001",
    timestamp: "2025-01-01T12:00:00Z",
    prev_hash: "0".repeat(64),
    event_type: "decision",
    action: "restart-deployment",
    target: "dev/test-app",
    caller: "agent-01",
    params: { namespace: "dev", deployment: "app" },
    decision: "allow",
    reason: "ok",
    policy_matched: "allow-dev-all",
    risk_class: "medium",
    effective_risk: "low",
    correlation_id: null,
    ticket_id: null,
    context: null,
  };
  const hash1 = "03955d2bf64cae8b12b547efae6dd2d3326df4e8cfd4c1f9da14c5aea33433c9";
  const event2: PyObject = {
    event_id: "evt-000000000002",
    timestamp: "2025-01-01T12:00:00.123456Z",
    prev_hash: hash1,
    event_type: "decision",
    action: "scale-deployment",
    target: "unknown",
    caller: "anonymous",
    params: {
      replicas: 3,
      ratio: new PyFloat(1),
      tiny: 1e-5,
      big: new PyFloat(1e16),
      flag: true,
      none: null,
      list: [1, "a"],
    },
    decision: "deny",
    reason: "Unknown action: x \u2014 \u00fc \u{1F600}",
    policy_matched: null,
    risk_class: "critical",
    effective_risk: "critical",
    correlation_id: null,
    ticket_id: null,
    context: { z: 1, a: { y: 2, b: [3] } },
  };
  const hash2 = "2357edb20dcbe301318587ca379971d802446363837629e4b0effe9f4660308c";

  test("entry hashes match the reference byte for byte", () => {
    expect(sha256(pyJsonDumps(event1, { sortKeys: true }))).toBe(hash1);
    expect(sha256(pyJsonDumps(event2, { sortKeys: true }))).toBe(hash2);
  });

  test("a written line re-verifies after parseJsonPy (verify of a Python-written log)", () => {
    for (const [event, hash] of [
      [event1, hash1],
      [event2, hash2],
    ] as const) {
      const line = pyJsonDumps({ ...event, entry_hash: hash }, { sortKeys: true });
      expect(line).toContain('"entry_hash": "' + hash + '", ');
      const parsed = parseJsonPy(line) as PyObject;
      const { entry_hash, ...rest } = parsed;
      expect(entry_hash).toBe(hash);
      expect(sha256(pyJsonDumps(rest, { sortKeys: true }))).toBe(hash);
      expect(line.replace('"entry_hash": "' + hash + '", ', "")).toBe(pyJsonDumps(event, { sortKeys: true }));
    }
  });
});
