/**
 * Runs a zod schema over a loaded YAML document and turns every problem into a `ConfigIssue`
 * that names file, line, column and field, in words a platform engineer can act on.
 */
import type * as z from "zod";
import { pyRepr } from "../core/pyformat.js";
import { pyTypeName } from "../core/pyvalue.js";
import { INTEGER_EXPECTED } from "./coerce.js";
import { type ConfigIssue, fieldPath, type Severity } from "./errors.js";
import type { YamlDocument } from "./yaml.js";

export interface ValidateOptions {
  file: string;
  /** Path of `value` inside the document (e.g. `["rules", 3]`). */
  at: readonly (string | number)[];
  /** What an unknown key is: an error (strict formats) or a warning. */
  unknownKeys: Severity;
}

export interface Validated<T> {
  value: T | undefined;
  issues: ConfigIssue[];
}

/**
 * Validates with `strictSchema` (which rejects unknown keys). When the only problems are unknown
 * keys and those are warnings, the value comes from `lenientSchema`, which drops them.
 */
export function validateNode<S extends z.ZodType>(
  doc: YamlDocument,
  value: unknown,
  strictSchema: S,
  lenientSchema: z.ZodType,
  opts: ValidateOptions,
): Validated<z.output<S>> {
  const strict = strictSchema.safeParse(value);
  if (strict.success) return { value: strict.data, issues: [] };
  const issues = strict.error.issues.flatMap((i) => toIssues(doc, value, i, opts, strictSchema));
  if (issues.some((i) => i.severity === "error")) return { value: undefined, issues };
  const lenient = lenientSchema.safeParse(value);
  return { value: lenient.success ? (lenient.data as z.output<S>) : undefined, issues };
}

function toIssues(
  doc: YamlDocument,
  root: unknown,
  issue: z.core.$ZodIssue,
  opts: ValidateOptions,
  schema: z.ZodType,
): ConfigIssue[] {
  const rel = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const path = [...opts.at, ...rel];
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(schema, rel);
    return issue.keys.map((key) => {
      const pos = doc.locateKey([...path, key]);
      const hint = suggest(key, known);
      return {
        severity: opts.unknownKeys,
        file: opts.file,
        line: pos.line,
        column: pos.column,
        field: fieldPath([...path, key]),
        message: `unknown key '${key}'${hint}`,
      };
    });
  }
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // Report the branch that got furthest (the one with the deepest path).
    const deepest = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest !== undefined) {
      return toIssues(doc, root, { ...deepest, path: [...issue.path, ...deepest.path] }, opts, schema);
    }
  }
  const pos = doc.locate(path);
  return [
    {
      severity: "error",
      file: opts.file,
      line: pos.line,
      column: pos.column,
      field: fieldPath(path),
      message: describe(issue, valueAt(root, rel)),
    },
  ];
}

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return "required field is missing";
      return `expected ${issue.message === INTEGER_EXPECTED ? "an integer" : expectedText(issue.expected)}, got ${pyTypeName(value)} ${shortRepr(value)}${quoteHint(issue.expected, value)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => String(v)).join(", ")}, got ${shortRepr(value)}`;
    case "too_small":
      if (issue.origin === "array") return issue.message;
      return `must be at least ${issue.minimum}, got ${shortRepr(value)}`;
    case "too_big":
      return `must be at most ${issue.maximum}, got ${shortRepr(value)}`;
    case "invalid_format":
      return `${shortRepr(value)} ${issue.message}`;
    default:
      return issue.message;
  }
}

function expectedText(expected: string): string {
  switch (expected) {
    case "int":
      return "an integer";
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "boolean":
      return "a boolean";
    case "array":
      return "a list";
    case "object":
    case "record":
      return "a mapping";
    default:
      return expected;
  }
}

function quoteHint(expected: string, value: unknown): string {
  if (expected !== "string" || value === null || typeof value === "object") return "";
  return " (quote it to make it a string)";
}

function shortRepr(value: unknown): string {
  const text = pyRepr(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

/** The keys the schema allows for the object at `path`, for "did you mean" hints. */
function knownKeys(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let node: unknown = schema;
  for (const part of [...path, null]) {
    node = unwrap(node);
    if (part === null) break;
    const def = (node as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (def === undefined) return [];
    if (def.type === "object") node = (def.shape as Record<string, unknown>)[String(part)];
    else if (def.type === "array") node = def.element;
    else if (def.type === "record") node = def.valueType;
    else return [];
  }
  const def = (node as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  return def?.type === "object" ? Object.keys(def.shape as object) : [];
}

function unwrap(node: unknown): unknown {
  let current = node;
  for (let i = 0; i < 10; i++) {
    const def = (current as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (def === undefined) return current;
    if (def.type === "default" || def.type === "nullable" || def.type === "optional") current = def.innerType;
    else if (def.type === "pipe") current = def.out;
    else return current;
  }
  return current;
}

function suggest(key: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== null) return ` (did you mean '${best}'?)`;
  if (key === "True" || key === "False") return " (YAML 1.1 reads on/off/yes/no as booleans; quote the key)";
  return known.length > 0 ? ` (expected one of: ${known.join(", ")})` : "";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** An issue at `path` inside `doc` (line and column of that node, or of its nearest ancestor). */
export function issueAt(
  doc: YamlDocument,
  file: string,
  path: readonly (string | number)[],
  message: string,
  severity: Severity = "error",
): ConfigIssue {
  const pos = doc.locate(path);
  return { severity, file, line: pos.line, column: pos.column, field: fieldPath(path), message };
}
