/**
 * Decision parity with Agent-Safe 0.9.0 on the shared compatibility corpus: 20,000 requests
 * against the fixture policy set, every field that matters, including the #jsnum / #jskeys
 * requests (our JSON reader keeps 5.0 a float and keys in order).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { COMPAT, cliAsync } from "../helpers/cli.js";

const FIELDS = ["result", "policy_matched", "risk_class", "effective_risk", "reason"] as const;
const FIXTURE = join(COMPAT, "fixture");
const fixtureArgs = [
  "--actions",
  join(FIXTURE, "actions"),
  "--policies",
  join(FIXTURE, "policies"),
  "--inventory",
  join(FIXTURE, "inventory.yaml"),
];

type Row = Record<string, unknown> & { id: string };

function readJsonl(text: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const row = JSON.parse(line) as Row;
    expect(rows.has(row.id), `duplicate id ${row.id}`).toBe(false);
    rows.set(row.id, row);
  }
  return rows;
}

describe("compat corpus: fixture policy set", () => {
  let expected: Map<string, Row>;
  let reference: Map<string, Row>;
  let strict: Map<string, Row>;
  const requests = join(COMPAT, "fixture.requests.jsonl.gz");

  beforeAll(async () => {
    expected = readJsonl(
      gunzipSync(readFileSync(join(COMPAT, "fixture.decisions.jsonl.gz"))).toString("utf8"),
    );
    const [ref, str] = await Promise.all([
      cliAsync(["check", "--batch", requests, "--profile", "reference", ...fixtureArgs]),
      cliAsync(["check", "--batch", requests, "--profile", "strict", ...fixtureArgs]),
    ]);
    expect(ref.stderr).toBe("");
    expect(ref.code).toBe(0);
    expect(str.code).toBe(0);
    reference = readJsonl(ref.stdout);
    strict = readJsonl(str.stdout);
  });

  it("reproduces every 0.9.0 decision with --profile reference (all 20,000, tags included)", () => {
    expect(expected.size).toBe(20000);
    expect(reference.size).toBe(expected.size);
    const mismatches: string[] = [];
    for (const [id, want] of expected) {
      const got = reference.get(id);
      if (got === undefined) {
        mismatches.push(`${id}: missing`);
        continue;
      }
      for (const f of FIELDS) {
        if (got[f] !== want[f])
          mismatches.push(`${id}: ${f} expected ${JSON.stringify(want[f])}, got ${JSON.stringify(got[f])}`);
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(mismatches.length).toBe(0);
  });

  it("strict is never more permissive than reference, and every difference is a DESIGN.md §4 item 1–4 deny", async () => {
    const { checkStrictAgainstReference } = await import("./strictness.js");
    const raw = gunzipSync(readFileSync(requests)).toString("utf8");
    const report = checkStrictAgainstReference(raw, reference, strict);
    expect(report.violations).toEqual([]);
    // The corpus exercises the strict deviations; if none fired the test would prove nothing.
    expect(report.differences).toBeGreaterThan(100);
  });
});

describe("compat corpus: the 0.9.0 release's own files", () => {
  it("strict is never more permissive than reference, and every difference is a DESIGN.md §4 item 1–4 deny", async () => {
    const { loadWorldInput } = await import("../../src/config/load-world.js");
    const { referenceCorpus } = await import("./reference-corpus.js");
    const { checkStrictAgainstReference } = await import("./strictness.js");
    const dir = join(COMPAT, "reference");
    const paths = {
      actions: join(dir, "actions"),
      policies: join(dir, "policies"),
      inventory: join(dir, "inventory.yaml"),
    };
    const { input } = loadWorldInput(paths, { profile: "reference" });
    const corpus = referenceCorpus(
      input.actions,
      input.targets.map((t) => t.id),
      6000,
    );
    const args = ["--actions", paths.actions, "--policies", paths.policies, "--inventory", paths.inventory];
    const [ref, str] = await Promise.all([
      cliAsync(["check", "--batch", "-", "--profile", "reference", ...args], { input: corpus }),
      cliAsync(["check", "--batch", "-", "--profile", "strict", ...args], { input: corpus }),
    ]);
    expect([ref.code, str.code]).toEqual([0, 0]);
    const report = checkStrictAgainstReference(corpus, readJsonl(ref.stdout), readJsonl(str.stdout));
    expect(report.violations.slice(0, 10)).toEqual([]);
    for (const code of ["invalid_params", "target_type", "param_binding"])
      expect(report.byCode[code]).toBeGreaterThan(0);
  });
});
