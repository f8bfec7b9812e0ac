/**
 * The documentation points at real things: every repository path it names in backticks exists, and
 * the threat model has a section, with its tests, for each threat of THREATS.md (T1–T20).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

const pages = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join("docs", f)),
];

describe("documentation", () => {
  it("names only paths that exist", () => {
    const missing: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(ROOT, page), "utf8");
      for (const m of text.matchAll(/`((?:test|examples|src|bench|deploy|scripts|schemas)\/[\w./-]+)`/g)) {
        const path = m[1]!.replace(/[.:,]+$/, "");
        if (!existsSync(join(ROOT, path))) missing.push(`${page}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("the threat model covers every threat, each with the tests that prove its control", () => {
    const text = readFileSync(join(ROOT, "docs", "threat-model.md"), "utf8");
    const sections = text.split(/^## /m).slice(1);
    for (let n = 1; n <= 20; n++) {
      const section = sections.find((s) => new RegExp(`^(?:[^\\n]*\\b)?T${n}\\b`).test(s.split("\n")[0]!));
      expect(section, `T${n} has a section`).toBeDefined();
      expect(section, `T${n} names its tests`).toMatch(/\*\*Tests\.\*\*[\s\S]*`test\/[\w./-]+\.test\.ts`/);
    }
  });
});
