import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { JsonParseError, MAX_JSON_DEPTH, parseJsonPy } from "../../src/codec/json-parse.js";
import { pyFloatRepr } from "../../src/core/pyformat.js";
import { isPlainObject, PY_KEY_ORDER, PyFloat, pyKeys } from "../../src/core/pyvalue.js";

/** Python values with explicit types, as `test/fixtures/json/gen_json.py` writes them. */
type Enc =
  | { t: "int" | "float" | "str"; v: string }
  | { t: "bool"; v: boolean }
  | { t: "null" }
  | { t: "list"; v: Enc[] }
  | { t: "dict"; v: [string, Enc][] }
  | { t: "bad"; v: string };

interface LoadsVector {
  text: string;
  result?: Enc;
  error?: { msg: string; pos: number; lineno: number; colno: number; str: string };
}

const vectors = JSON.parse(
  readFileSync(new URL("../fixtures/json/vectors.json", import.meta.url), "utf8"),
) as {
  loads: LoadsVector[];
  loads_random: LoadsVector[];
};

/** Encodes a parse result like the generator does, flagging shapes the value model forbids. */
function enc(v: unknown): Enc {
  if (v === null) return { t: "null" };
  if (typeof v === "boolean") return { t: "bool", v };
  if (typeof v === "string") return { t: "str", v };
  if (typeof v === "bigint") {
    const safe = v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER);
    return safe ? { t: "bad", v: `safe bigint ${v}` } : { t: "int", v: v.toString() };
  }
  if (typeof v === "number") {
    if (!Number.isInteger(v)) return { t: "float", v: pyFloatRepr(v) };
    if (!Number.isSafeInteger(v) || Object.is(v, -0)) return { t: "bad", v: `int number ${v}` };
    return { t: "int", v: String(v) };
  }
  if (v instanceof PyFloat) {
    return Number.isInteger(v.value) ? { t: "float", v: pyFloatRepr(v.value) } : { t: "bad", v: "PyFloat" };
  }
  if (Array.isArray(v)) return { t: "list", v: v.map(enc) };
  if (isPlainObject(v)) {
    if (Object.getPrototypeOf(v) !== Object.prototype) return { t: "bad", v: "prototype changed" };
    return { t: "dict", v: pyKeys(v).map((k): [string, Enc] => [k, enc(v[k])]) };
  }
  return { t: "bad", v: String(v) };
}

function check(vec: LoadsVector): void {
  if (vec.error) {
    let caught: unknown;
    try {
      parseJsonPy(vec.text);
    } catch (e) {
      caught = e;
    }
    expect(caught, JSON.stringify(vec.text)).toBeInstanceOf(JsonParseError);
    const err = caught as JsonParseError;
    expect({ msg: err.msg, pos: err.pos, lineno: err.lineno, colno: err.colno, str: err.message }).toEqual(
      vec.error,
    );
  } else {
    expect(enc(parseJsonPy(vec.text)), JSON.stringify(vec.text)).toEqual(vec.result);
  }
}

describe("parseJsonPy against Python json.loads", () => {
  test("vector files are present", () => {
    expect(vectors.loads.length).toBeGreaterThan(150);
    expect(vectors.loads_random.length).toBeGreaterThan(500);
  });

  test.each(vectors.loads.map((v) => [JSON.stringify(v.text).slice(0, 60), v] as const))("%s", (_, vec) => {
    check(vec);
  });

  test("random documents and mutations", () => {
    for (const vec of vectors.loads_random) check(vec);
  });
});

describe("parseJsonPy value model", () => {
  test("floats with integral values are PyFloat, others plain numbers", () => {
    expect(parseJsonPy("5.0")).toEqual(new PyFloat(5));
    expect(parseJsonPy("1e+16")).toEqual(new PyFloat(1e16));
    expect(Object.is((parseJsonPy("-0.0") as PyFloat).value, -0)).toBe(true);
    expect(parseJsonPy("1.5")).toBe(1.5);
    expect(parseJsonPy("1e400")).toBe(Number.POSITIVE_INFINITY);
    expect(Object.is(parseJsonPy("-0"), 0)).toBe(true);
  });

  test("big integers are bigints, safe ones numbers", () => {
    expect(parseJsonPy("9007199254740991")).toBe(9007199254740991);
    expect(parseJsonPy("9007199254740992")).toBe(9007199254740992n);
    expect(parseJsonPy("-123456789012345678901234567890")).toBe(-123456789012345678901234567890n);
  });

  test("integer-like keys keep their source order; duplicates keep the first position", () => {
    const obj = parseJsonPy('{"b":1,"1":2,"a":3,"b":4}') as Record<string, unknown>;
    expect(pyKeys(obj)).toEqual(["b", "1", "a"]);
    expect(obj["b"]).toBe(4);
    expect(Object.keys(obj)).toEqual(["1", "b", "a"]);
    expect(JSON.stringify(obj)).toBe('{"1":2,"b":4,"a":3}');
    const plain = parseJsonPy('{"b":1,"a":2}') as object;
    expect(Object.getOwnPropertySymbols(plain)).not.toContain(PY_KEY_ORDER);
  });

  test("__proto__ is an own data property", () => {
    const obj = parseJsonPy('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toEqual(["__proto__", "a"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("positions count code points across lines", () => {
    try {
      parseJsonPy('[\n"😀😀",\n x]');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JsonParseError);
      expect((e as JsonParseError).message).toBe("Expecting value: line 3 column 2 (char 9)");
      expect((e as JsonParseError).index).toBe(11);
    }
  });

  test("nesting is bounded", () => {
    const ok = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
    expect(() => parseJsonPy(ok)).not.toThrow();
    const deep = "[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1);
    expect(() => parseJsonPy(deep)).toThrow(/Maximum nesting depth exceeded/);
    const objs = '{"a":'.repeat(MAX_JSON_DEPTH + 1) + "1" + "}".repeat(MAX_JSON_DEPTH + 1);
    expect(() => parseJsonPy(objs)).toThrow(JsonParseError);
  });

  test("accepts what JSON.parse accepts on ordinary documents", () => {
    const doc = {
      s: 'a"b\\c\n\u0001\u2028😀',
      n: [0.5, -2.25e-7, 1.25e-300, 5e-324],
      nested: { x: [true, false, null, {}], y: "" },
    };
    const text = JSON.stringify(doc);
    expect(parseJsonPy(text)).toStrictEqual(JSON.parse(text));
  });
});
