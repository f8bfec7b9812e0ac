/**
 * Policy test files (`agent-safe test`): a `tests:` list of cases with an expected result. Ours
 * add an identity-object `caller`, a `timestamp`, and optional `expect_policy` / `expect_reason`.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { isPlainObject, PyDate, PyDateTime, type PyObject } from "../core/pyvalue.js";
import { DECISION_RESULTS, type DecisionResult } from "../core/types.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { compareCodePoints, readYamlFile } from "./files.js";
import { issueAt } from "./validate.js";

export interface PolicyTestCase {
  name: string;
  action: string;
  target: string | null;
  caller: unknown;
  params: PyObject | null;
  ticket_id: string | null;
  timestamp: string | null;
  expect: DecisionResult;
  /** `undefined`: not checked; `null`: a built-in decision (no rule) is expected. */
  expect_policy: string | null | undefined;
  expect_reason: string | undefined;
  file: string;
  line: number;
}

const KNOWN = new Set([
  "name",
  "action",
  "target",
  "caller",
  "params",
  "ticket_id",
  "timestamp",
  "expect",
  "expect_policy",
  "expect_reason",
  "description",
]);

export function findTestFiles(path: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new ConfigError(`Test path not found: ${path}`);
  }
  if (!stat.isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((n) => n.endsWith(".yaml") || n.endsWith(".yml"))
    .sort(compareCodePoints)
    .map((n) => join(path, n));
  if (files.length === 0) throw new ConfigError(`No YAML test files found in ${path}`);
  return files;
}

export function loadTestFile(path: string): { cases: PolicyTestCase[]; warnings: ConfigIssue[] } {
  const { doc } = readYamlFile(path);
  const root = doc.value;
  if (!isPlainObject(root) || !Object.hasOwn(root, "tests"))
    throw new ConfigError(issueAt(doc, path, [], "must have a top-level 'tests' key"));
  if (!Array.isArray(root.tests))
    throw new ConfigError(issueAt(doc, path, ["tests"], "'tests' must be a list"));
  const issues: ConfigIssue[] = [];
  const cases: PolicyTestCase[] = [];
  root.tests.forEach((raw, i) => {
    const testCase = readCase(raw, i);
    if (testCase !== null) cases.push(testCase);
  });
  function readCase(raw: unknown, i: number): PolicyTestCase | null {
    const at = ["tests", i];
    const fail = (field: string[], message: string): null => {
      issues.push(issueAt(doc, path, [...at, ...field], message));
      return null;
    };
    if (!isPlainObject(raw)) return fail([], `test #${i + 1} must be a mapping`);
    if (!raw.name) return fail(["name"], `test #${i + 1} missing 'name'`);
    const name = String(raw.name);
    if (!raw.action) return fail(["action"], `test '${name}' missing 'action'`);
    const expect = raw.expect ?? "";
    if (typeof expect !== "string" || !(DECISION_RESULTS as readonly string[]).includes(expect)) {
      return fail(
        ["expect"],
        `test '${name}' has invalid expect '${String(expect)}'. Must be one of: allow, deny, require_approval`,
      );
    }
    for (const key of Object.keys(raw)) {
      if (!KNOWN.has(key))
        issues.push(
          issueAt(doc, path, [...at, key], `unknown key '${key}' in test '${name}' (ignored)`, "warning"),
        );
    }
    const optionalString = (key: string): string | null => {
      const v = raw[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== "string") {
        fail([key], `test '${name}': '${key}' must be a string`);
        return null;
      }
      return v;
    };
    const params = raw.params ?? null;
    if (params !== null && !isPlainObject(params))
      return fail(["params"], `test '${name}': 'params' must be a mapping`);
    // An unquoted timestamp is a YAML datetime; Python's str() of it parses back the same.
    const stamp = raw.timestamp;
    const timestamp =
      stamp instanceof PyDateTime
        ? stamp.text
        : stamp instanceof PyDate
          ? stamp.iso
          : optionalString("timestamp");
    return {
      name,
      action: String(raw.action),
      target: optionalString("target"),
      caller: raw.caller ?? null,
      params,
      ticket_id: optionalString("ticket_id"),
      timestamp,
      expect: expect as DecisionResult,
      expect_policy: Object.hasOwn(raw, "expect_policy") ? optionalString("expect_policy") : undefined,
      expect_reason: optionalString("expect_reason") ?? undefined,
      file: path,
      line: doc.locate(at).line,
    };
  }
  const errors = issues.filter((x) => x.severity === "error");
  if (errors.length > 0) throw new ConfigError(errors);
  return { cases, warnings: issues };
}
