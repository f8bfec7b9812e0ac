import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CanonicalJsonError, canonicalize, canonicalizeWithout } from "../../src/codec/jcs.js";
import { isJsonParseExact, parseJson } from "../../src/codec/json-fast.js";
import { parseJsonPy } from "../../src/codec/json-parse.js";
import { pyJsonDumps } from "../../src/codec/python-json.js";
import { PyDate, PyFloat, type PyValue, pyKeys } from "../../src/core/pyvalue.js";

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe("RFC 8785 examples", () => {
  test("§3.2.2 primitive serialization", () => {
    const input =
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
      ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
      ' "literals": [null, true, false]}';
    expect(canonicalize(JSON.parse(input))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  test("§3.2.3 property sorting by UTF-16 code units", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  test("cyberphone reference 'weird' vector (DEL and </script> stay raw)", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "1": "One",
      "\u0080": "Control\u007f",
      "\ud83d\ude02": "Smiley",
      "\u00f6": "Latin Small Letter O With Diaeresis",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "</script>": "Browser Challenge",
    };
    expect(canonicalize(input)).toBe(
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude02":"Smiley",' +
        '"\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // Appendix B: IEEE-754 bit patterns and their canonical text.
  const APPENDIX_B: [string, string][] = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];
  test.each(APPENDIX_B)("Appendix B %s → %s", (hex, text) => {
    expect(canonicalize(fromBits(hex))).toBe(text);
    expect(canonicalize([fromBits(hex)])).toBe(`[${text}]`);
  });

  test.each([["7fffffffffffffff"], ["7ff0000000000000"], ["fff0000000000000"]])(
    "Appendix B %s (NaN / Infinity) is an error",
    (hex) => {
      expect(() => canonicalize({ x: fromBits(hex) })).toThrow(CanonicalJsonError);
    },
  );
});

describe("canonicalize details", () => {
  test("UTF-16 unit order differs from Python's code point order", () => {
    const obj = { "\ue000": 1, "\u{1F600}": 2, a: 3 };
    expect(canonicalize(obj)).toBe('{"a":3,"\u{1F600}":2,"\ue000":1}');
    expect(pyJsonDumps(obj, { sortKeys: true })).toBe('{"a": 3, "\\ue000": 1, "\\ud83d\\ude00": 2}');
    expect(canonicalize({ "10": 1, "9": 2, "1": 3, b: 4, "": 5 })).toBe('{"":5,"1":3,"10":1,"9":2,"b":4}');
  });

  test("value model: PyFloat, bigint, dates, undefined", () => {
    expect(canonicalize({ f: new PyFloat(5), z: new PyFloat(-0), n: -0 })).toBe('{"f":5,"n":0,"z":0}');
    expect(canonicalize([9007199254740991n, -9007199254740991n, 12n])).toBe(
      "[9007199254740991,-9007199254740991,12]",
    );
    expect(() => canonicalize({ big: 9007199254740992n })).toThrow(CanonicalJsonError);
    expect(() => canonicalize(-(2n ** 64n))).toThrow(CanonicalJsonError);
    expect(canonicalize({ d: new PyDate("2024-01-01"), t: new Date(0) })).toBe(
      '{"d":"2024-01-01","t":"1970-01-01T00:00:00.000Z"}',
    );
    expect(canonicalize({ a: undefined, b: [undefined, () => 1], c: 1 })).toBe('{"b":[null,null],"c":1}');
    expect(() => canonicalize(undefined)).toThrow(CanonicalJsonError);
  });

  test("escaping is minimal; lone surrogates are rejected", () => {
    expect(canonicalize('\u0000\u0008\t\n\u000b\f\r\u001f"\\/\u007f\u2028é😀')).toBe(
      '"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\/\u007f\u2028é😀"',
    );
    expect(() => canonicalize("a\ud800")).toThrow(CanonicalJsonError);
    expect(() => canonicalize({ "\udc00": 1 })).toThrow(CanonicalJsonError);
    expect(() => canonicalize(["\ude00\ud83d"])).toThrow(CanonicalJsonError);
  });

  test("non-finite numbers and cycles throw", () => {
    expect(() => canonicalize([Number.NaN])).toThrow(CanonicalJsonError);
    expect(() => canonicalize(new PyFloat(Number.POSITIVE_INFINITY))).toThrow(CanonicalJsonError);
    const loop: unknown[] = [];
    loop.push(loop);
    expect(() => canonicalize(loop)).toThrow(CanonicalJsonError);
  });

  test("canonicalizeWithout skips one top-level member", () => {
    const event = { seq: 1, entry_hash: "abc", prev_hash: "0", nested: { entry_hash: "kept" } };
    const { entry_hash: _, ...rest } = event;
    expect(canonicalizeWithout(event, "entry_hash")).toBe(canonicalize(rest));
    expect(canonicalizeWithout(event, "entry_hash")).toBe(
      '{"nested":{"entry_hash":"kept"},"prev_hash":"0","seq":1}',
    );
    expect(canonicalizeWithout({ only: 1 }, "only")).toBe("{}");
  });
});

describe("properties", () => {
  const jsonValue = fc.jsonValue({ stringUnit: "grapheme", maxDepth: 4 });

  test("canonicalize is idempotent through JSON.parse and round-trips the value", () => {
    fc.assert(
      fc.property(jsonValue, (x) => {
        const c = canonicalize(x);
        expect(canonicalize(JSON.parse(c))).toBe(c);
        expect(JSON.parse(c)).toEqual(JSON.parse(JSON.stringify(x)));
      }),
      { numRuns: 1000 },
    );
  });

  // JSON texts with the lexemes JSON.parse loses: integral floats, exponents, big ints, -0,
  // integer-like and duplicate keys, escapes, whitespace.
  const ws = fc.constantFrom("", "", " ", "\n", "\t", " \r\n");
  const numberText = fc.oneof(
    fc.integer().map(String),
    fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
    fc
      .tuple(
        fc.integer({ min: -1000, max: 1000 }),
        fc.constantFrom("", ".0", ".5", ".25", "e3", "E+2", "e-2", ".0e1"),
      )
      .map(([i, s]) => `${i}${s}`),
    fc.constantFrom("-0", "-0.0", "0.0", "1e400", "-1e400", "1e+16", "5e-324", "0.1", "9007199254740993"),
  );
  const stringText = fc.oneof(
    fc.string({ unit: "grapheme" }).map((s) => JSON.stringify(s)),
    fc.constantFrom('"\\u00e9"', '"\\ud800"', '"\\ud83d\\ude00"', '"\\/\\b"', '"\\u0000"'),
  );
  const keyText = fc.oneof(
    stringText,
    fc
      .constantFrom(
        "0",
        "1",
        "9",
        "10",
        "01",
        "-1",
        "1.5",
        "4294967294",
        "4294967295",
        "__proto__",
        "constructor",
        "a",
      )
      .map((k) => JSON.stringify(k)),
  );
  const { doc } = fc.letrec<{ doc: string; array: string; object: string }>((tie) => ({
    doc: fc.oneof(
      { maxDepth: 4, depthIdentifier: "doc" },
      numberText,
      stringText,
      fc.constantFrom("true", "false", "null"),
      tie("array"),
      tie("object"),
    ),
    array: fc
      .array(fc.tuple(ws, tie("doc"), ws), { maxLength: 5, depthIdentifier: "doc" })
      .map((items) => `[${items.map((p) => p.join("")).join(",")}]`),
    object: fc
      .array(fc.tuple(ws, keyText, ws, tie("doc")), { maxLength: 6, depthIdentifier: "doc" })
      .map((ms) => `{${ms.map(([w, k, w2, v]) => `${w}${k}${w2}:${w}${v}`).join(",")}}`),
  }));

  /** A structure that `toEqual` compares including key order, -0 and the PyFloat/number split. */
  function shape(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(shape);
    if (v instanceof PyFloat) return { pyFloat: v.value };
    if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      return { keys: pyKeys(o).map((k) => [k, shape(o[k])]) };
    }
    return v;
  }

  test("isJsonParseExact has no false positives, and parseJson always equals parseJsonPy", () => {
    let exact = 0;
    fc.assert(
      fc.property(fc.tuple(ws, doc, ws), ([a, t, b]) => {
        const text = a + t + b;
        const py = parseJsonPy(text);
        expect(shape(parseJson(text))).toEqual(shape(py));
        if (!isJsonParseExact(text)) return;
        exact++;
        const js: unknown = JSON.parse(text);
        expect(shape(py)).toEqual(shape(js));
        expect(pyJsonDumps(py)).toBe(pyJsonDumps(js as PyValue));
      }),
      { numRuns: 3000 },
    );
    expect(exact).toBeGreaterThan(100);
  });

  test("isJsonParseExact spots every lexeme JSON.parse would lose", () => {
    for (const text of [
      "5.0",
      "[1e16]",
      '{"a": -0.0}',
      '{"10": 1}',
      "12345678901234567",
      '{"a": {"0": null}}',
      "1E5",
      '{"b": 1, "\\u0031": 2}',
      "-0",
      '{"1\\u0030": 1}',
    ]) {
      expect(isJsonParseExact(text), text).toBe(false);
    }
    for (const text of [
      '{"a": "5.0", "b": [1, -2, 300]}',
      '{"t": "2025-01-01T00:00:00.5Z"}',
      '{"k": "\\"}',
      '"x\\"',
    ]) {
      expect(isJsonParseExact(text), text).toBe(true);
    }
  });
});
