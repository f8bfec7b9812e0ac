/**
 * Policy test files (`agent-safe test`): a `tests:` list of cases with an expected result. Ours
 * add an identity-object `caller`, a `timestamp`, and optional `expect_policy` / `expect_reason`.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { isPlainObject, PyDate, PyDateTime, type PyObject } from "../core/pyvalue.js";
import { DECISION_RESULTS, type DecisionResult, type Profile } from "../core/types.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { compareCodePoints, readYamlFile } from "./files.js";
import { policyTestCaseSchema } from "./schemas.js";
import { issueAt, validateNode } from "./validate.js";

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

const schemas = { strict: policyTestCaseSchema("strict"), lenient: policyTestCaseSchema("lenient") };

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

/**
 * Unknown keys are errors under the strict profile: a misspelt `expect_policy` would otherwise
 * silently check nothing.
 */
export function loadTestFile(
  path: string,
  profile: Profile = "strict",
): { cases: PolicyTestCase[]; warnings: ConfigIssue[] } {
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
    const result = validateNode(doc, raw, schemas.strict, schemas.lenient, {
      file: path,
      at,
      unknownKeys: profile === "strict" ? "error" : "warning",
    });
    issues.push(...result.issues);
    if (result.value === undefined) return null;
    const c = result.value;
    // An unquoted timestamp is a YAML datetime; Python's str() of it parses back the same.
    const stamp: unknown = c.timestamp;
    let timestamp: string | null = null;
    if (stamp instanceof PyDateTime) timestamp = stamp.text;
    else if (stamp instanceof PyDate) timestamp = stamp.iso;
    else if (typeof stamp === "string") timestamp = stamp;
    else if (stamp !== null)
      return fail(["timestamp"], `test '${name}': 'timestamp' must be an ISO-8601 time`);
    return {
      name,
      action: c.action,
      target: c.target,
      caller: c.caller,
      params: c.params as PyObject | null,
      ticket_id: c.ticket_id,
      timestamp,
      expect: c.expect,
      expect_policy: c.expect_policy,
      expect_reason: c.expect_reason,
      file: path,
      line: doc.locate(at).line,
    };
  }
  const errors = issues.filter((x) => x.severity === "error");
  if (errors.length > 0) throw new ConfigError(errors);
  return { cases, warnings: issues };
}
