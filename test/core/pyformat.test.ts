import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  pyFloatRepr,
  pyFormatFixed0,
  pyListRepr,
  pyRepr,
  pyStr,
  pyStrRepr,
} from "../../src/core/pyformat.js";
import { PyFloat, type PyObject, type PyValue, rememberKeyOrder, setOwn } from "../../src/core/pyvalue.js";

type Tree =
  | ["none"]
  | ["bool", boolean]
  | ["int", string]
  | ["float", string]
  | ["str", string]
  | ["list", Tree[]]
  | ["dict", [string, Tree][]];

interface Vectors {
  python: string;
  unidata_version: string;
  float_repr: [string, string][];
  fixed0: [string, string][];
  str_repr: [string, string][];
  values: [Tree, string, string][];
}

const vectors = JSON.parse(
  readFileSync(new URL("../fixtures/py/format_vectors.json", import.meta.url), "utf8"),
) as Vectors;

/** The double whose IEEE 754 big-endian bits are the 16 hex digits `hex`. */
function fromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

/** A Python value as the parsers represent it (integral floats are PyFloat, big ints bigint). */
function toValue(t: Tree): PyValue {
  switch (t[0]) {
    case "none":
      return null;
    case "bool":
      return t[1];
    case "int": {
      const big = BigInt(t[1]);
      const n = Number(big);
      return Number.isSafeInteger(n) ? n : big;
    }
    case "float": {
      const x = fromHex(t[1]);
      return Number.isInteger(x) || !Number.isFinite(x) || Object.is(x, -0) ? new PyFloat(x) : x;
    }
    case "str":
      return t[1];
    case "list":
      return t[1].map(toValue);
    case "dict": {
      const obj: PyObject = {};
      for (const [k, v] of t[1]) setOwn(obj, k, toValue(v));
      rememberKeyOrder(
        obj,
        t[1].map(([k]) => k),
      );
      return obj;
    }
  }
}

function mismatches<T>(rows: readonly T[], check: (row: T) => string | null): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const m = check(row);
    if (m !== null) out.push(m);
  }
  return out;
}

describe(`pyformat golden vectors (CPython ${vectors.python})`, () => {
  it("repr(float)", () => {
    expect(vectors.float_repr.length).toBeGreaterThan(1000);
    const bad = mismatches(vectors.float_repr, ([hex, expected]) => {
      const got = pyFloatRepr(fromHex(hex));
      return got === expected ? null : `${hex}: expected ${expected}, got ${got}`;
    });
    expect(bad).toEqual([]);
  });

  it('f"{x:.0f}"', () => {
    const bad = mismatches(vectors.fixed0, ([hex, expected]) => {
      const got = pyFormatFixed0(fromHex(hex));
      return got === expected ? null : `${hex} (${fromHex(hex)}): expected ${expected}, got ${got}`;
    });
    expect(bad).toEqual([]);
  });

  it("repr(str)", () => {
    const bad = mismatches(vectors.str_repr, ([s, expected]) => {
      const got = pyStrRepr(s);
      return got === expected ? null : `${JSON.stringify(s)}: expected ${expected}, got ${got}`;
    });
    expect(bad).toEqual([]);
  });

  it("str() and repr() of values", () => {
    const bad = mismatches(vectors.values, ([tree, str, repr]) => {
      const v = toValue(tree);
      const gotStr = pyStr(v);
      const gotRepr = pyRepr(v);
      if (gotStr === str && gotRepr === repr) return null;
      return `${JSON.stringify(tree)}: expected ${str} / ${repr}, got ${gotStr} / ${gotRepr}`;
    });
    expect(bad).toEqual([]);
  });
});

describe("pyformat examples from the specification", () => {
  it("renders values the way reference messages do", () => {
    expect(pyFloatRepr(100)).toBe("100.0");
    expect(pyFloatRepr(1e20)).toBe("1e+20");
    expect(pyFloatRepr(1e-5)).toBe("1e-05");
    expect(pyFloatRepr(1.5e-7)).toBe("1.5e-07");
    expect(pyFloatRepr(1e16)).toBe("1e+16");
    expect(pyFormatFixed0(2.5)).toBe("2");
    expect(pyFormatFixed0(298.5)).toBe("298");
    expect(pyFormatFixed0(1e21)).toBe("1000000000000000000000");
    expect(pyListRepr(["a", "b"])).toBe("['a', 'b']");
    expect(pyStr([1, "a"])).toBe("[1, 'a']");
    expect(pyStr({ k: "v" })).toBe("{'k': 'v'}");
    expect(pyStr(true)).toBe("True");
    expect(pyStr(null)).toBe("None");
    expect(pyStrRepr("it's")).toBe('"it\'s"');
  });
});

describe("pyformat properties", () => {
  it("repr(float) round-trips and uses Python's layout", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = pyFloatRepr(x);
        expect(Number(s)).toBe(x);
        expect(s).toMatch(/^-?(?:\d+\.\d+|\d(?:\.\d+)?e[+-]\d{2,3})$/);
      }),
      { numRuns: 2000 },
    );
  });

  it(".0f of an integer-valued double is its exact decimal value", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const n = Math.trunc(x);
        const expected = n === 0 ? (Object.is(n, -0) ? "-0" : "0") : BigInt(n).toString();
        expect(pyFormatFixed0(n)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
