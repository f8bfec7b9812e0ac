import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compileGlob,
  fnmatch,
  GlobError,
  globToRegExpSource,
  isGlobPattern,
} from "../../src/core/fnmatch.js";

interface Vectors {
  python: string;
  cases: [string, string, boolean | "error"][];
}

const vectors = JSON.parse(
  readFileSync(new URL("../fixtures/py/fnmatch_vectors.json", import.meta.url), "utf8"),
) as Vectors;

function actual(pattern: string, name: string): boolean | "error" {
  try {
    return fnmatch(name, pattern);
  } catch (e) {
    if (e instanceof GlobError) return "error";
    throw e;
  }
}

describe("fnmatch golden vectors (CPython fnmatch.fnmatchcase)", () => {
  it(`has thousands of vectors from CPython ${vectors.python}`, () => {
    expect(vectors.cases.length).toBeGreaterThan(3000);
  });

  it("agrees with CPython on every vector", () => {
    const mismatches: string[] = [];
    for (const [pattern, name, expected] of vectors.cases) {
      const got = actual(pattern, name);
      if (got !== expected) {
        mismatches.push(
          `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}: expected ${expected}, got ${got}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe("fnmatch semantics", () => {
  it("handles the documented edge cases", () => {
    expect(fnmatch("restart-deployment", "restart-*")).toBe(true);
    expect(fnmatch("Restart-deployment", "restart-*")).toBe(false);
    expect(fnmatch("^", "[^x]")).toBe(true);
    expect(fnmatch("y", "[^x]")).toBe(false);
    expect(fnmatch("y", "[!x]")).toBe(true);
    expect(fnmatch("]", "[]a]")).toBe(true);
    expect(fnmatch("b", "[!]a]")).toBe(true);
    expect(fnmatch("[a", "[a")).toBe(true);
    expect(fnmatch("z", "[z-a]")).toBe(false);
    expect(fnmatch("\\x", "\\x")).toBe(true);
    expect(fnmatch("*", "[*]")).toBe(true);
    expect(fnmatch("a\nb", "a*b")).toBe(true);
    expect(fnmatch("\u{1F600}", "?")).toBe(true);
  });

  it("stays fast on patterns that backtrack badly without atomic groups", () => {
    const name = `${"a".repeat(5000)}c`;
    const t0 = Date.now();
    expect(fnmatch(name, "*a*a*a*a*a*a*a*b")).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("emits every literal as a \\u{} escape", () => {
    expect(globToRegExpSource("a.b")).toBe("^\\u{61}\\u{2e}\\u{62}$");
    expect(globToRegExpSource("*a*b")).toBe("^(?=(.*?\\u{61}))\\1.*\\u{62}$");
  });

  it("caches compiled patterns", () => {
    expect(compileGlob("x*")).toBe(compileGlob("x*"));
  });

  it("isGlobPattern detects metacharacters", () => {
    expect(isGlobPattern("restart-deployment")).toBe(false);
    expect(isGlobPattern("restart-*")).toBe(true);
    expect(isGlobPattern("a?")).toBe(true);
    expect(isGlobPattern("[ab]")).toBe(true);
    expect(isGlobPattern("a]b!^-")).toBe(false);
  });
});

describe("fnmatch properties", () => {
  const plain = fc.string({ unit: "binary" }).map((s) => s.replace(/[*?[]/g, ""));

  it("a pattern without metacharacters matches only itself", () => {
    fc.assert(
      fc.property(plain, plain, (p, n) => {
        expect(fnmatch(p, p)).toBe(true);
        expect(fnmatch(n, p)).toBe(n === p);
      }),
      { numRuns: 500 },
    );
  });

  it("prefix* matches exactly the strings with that prefix", () => {
    fc.assert(
      fc.property(plain, fc.string({ unit: "binary" }), (p, rest) => {
        expect(fnmatch(p + rest, `${p}*`)).toBe(true);
        expect(fnmatch(rest, `${p}*`)).toBe(rest.startsWith(p));
      }),
      { numRuns: 500 },
    );
  });

  it("? matches exactly one code point", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(fnmatch(s, "?")).toBe([...s].length === 1);
      }),
      { numRuns: 500 },
    );
  });
});
