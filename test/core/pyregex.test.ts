import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePythonRegex, PyRegexError } from "../../src/core/pyregex.js";

interface Vectors {
  python: string;
  cases: [string, string, boolean][];
  errors: [string, string][];
  unsupported: string[];
}
interface Categories {
  d: [number, number][];
  w: [number, number][];
  s: [number, number][];
  unassigned: [number, number][];
  unidata_version: string;
}

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/py/${name}`, import.meta.url), "utf8")) as T;
const vectors = load<Vectors>("regex_vectors.json");
const categories = load<Categories>("regex_categories.json");

function fullmatch(pattern: string, value: string): boolean | string {
  try {
    return compilePythonRegex(pattern).test(value);
  } catch (e) {
    if (e instanceof PyRegexError) return `PyRegexError: ${e.message}`;
    throw e;
  }
}

function inRanges(ranges: readonly [number, number][], cp: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = ranges[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

describe("pyregex golden vectors (CPython re.fullmatch)", () => {
  it(`has thousands of vectors from CPython ${vectors.python}`, () => {
    expect(vectors.cases.length).toBeGreaterThan(3000);
    expect(vectors.errors.length).toBeGreaterThan(100);
  });

  it("agrees with CPython on every match vector", () => {
    const mismatches: string[] = [];
    for (const [pattern, value, expected] of vectors.cases) {
      const got = fullmatch(pattern, value);
      if (got !== expected) {
        mismatches.push(
          `${JSON.stringify(pattern)} on ${JSON.stringify(value)}: expected ${expected}, got ${got}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("rejects every pattern CPython rejects, with CPython's message", () => {
    const mismatches: string[] = [];
    for (const [pattern, message] of vectors.errors) {
      const got = fullmatch(pattern, "");
      if (got !== `PyRegexError: ${message}`) {
        mismatches.push(
          `${JSON.stringify(pattern)}: expected ${JSON.stringify(message)}, got ${JSON.stringify(got)}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("rejects the deliberately unsupported constructs", () => {
    for (const pattern of vectors.unsupported) {
      expect(() => compilePythonRegex(pattern), pattern).toThrow(/unsupported/);
    }
  });
});

describe("\\d, \\w and \\s over all of Unicode", () => {
  const checks: [string, [number, number][]][] = [
    ["\\d", categories.d],
    ["\\w", categories.w],
    ["\\s", categories.s],
  ];
  for (const [pattern, ranges] of checks) {
    it(`${pattern} matches CPython's set (Unicode ${categories.unidata_version}) on every assigned code point`, () => {
      const re = compilePythonRegex(pattern);
      const negated = compilePythonRegex(pattern.toUpperCase());
      const inClass = compilePythonRegex(`[${pattern}]`);
      const mismatches: string[] = [];
      for (let cp = 0; cp <= 0x10ffff; cp++) {
        const ch = String.fromCodePoint(cp);
        const expected = inRanges(ranges, cp);
        const got = re.test(ch);
        if (got !== expected || negated.test(ch) === expected || inClass.test(ch) !== expected) {
          // Code points unassigned in CPython's Unicode database may be assigned in V8's newer one.
          if (!inRanges(categories.unassigned, cp))
            mismatches.push(`U+${cp.toString(16)}: expected ${expected}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});

describe("pyregex specifics", () => {
  it("anchors like re.fullmatch and treats a final newline like Python", () => {
    expect(fullmatch("^[a-z][a-z0-9-]{0,62}$", "nginx")).toBe(true);
    expect(fullmatch("^[a-z][a-z0-9-]{0,62}$", "nginx\n")).toBe(false);
    expect(fullmatch("abc", "abcd")).toBe(false);
    expect(fullmatch("a|ab", "ab")).toBe(true);
  });

  it("counts code points", () => {
    expect(fullmatch("^.{2}$", "\u{1F600}\u{1F600}")).toBe(true);
    expect(fullmatch("\\w{0,3}", "\u{1D7D8}\u{1D7D9}\u{1D7DA}")).toBe(true);
  });

  it("reports positions like re.error", () => {
    expect(() => compilePythonRegex("ab(")).toThrow("missing ), unterminated subpattern at position 2");
    expect(() => compilePythonRegex("a\n(")).toThrow(
      "missing ), unterminated subpattern at position 2 (line 2, column 1)",
    );
    const err = (() => {
      try {
        compilePythonRegex("x\\q");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PyRegexError);
    expect((err as PyRegexError).pos).toBe(1);
    expect((err as PyRegexError).msg).toBe("bad escape \\q");
  });

  it("caches compiled patterns", () => {
    expect(compilePythonRegex("\\d+")).toBe(compilePythonRegex("\\d+"));
  });
});

/** Python's `re.escape`. */
function pyEscape(s: string): string {
  return Array.from(s, (c) => ("()[]{}?*+-|^$\\.&~# \t\n\r\v\f".includes(c) ? `\\${c}` : c)).join("");
}

describe("pyregex properties", () => {
  it("an escaped literal matches exactly itself", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (s, t) => {
        const re = compilePythonRegex(pyEscape(s));
        expect(re.test(s)).toBe(true);
        expect(re.test(t)).toBe(s === t);
      }),
      { numRuns: 300 },
    );
  });

  it("[^x] and x partition single code points", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
        fc.constantFrom("\\d", "\\w", "\\s", "a-z"),
        (c, cls) => {
          expect(compilePythonRegex(`[${cls}]`).test(c)).toBe(!compilePythonRegex(`[^${cls}]`).test(c));
        },
      ),
      { numRuns: 300 },
    );
  });
});
