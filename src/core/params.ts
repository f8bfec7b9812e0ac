/**
 * Parameter validation with the 0.9.0 messages, byte for byte:
 * missing required → unknown keys → per-parameter type check, then constraints.
 */
import { pyFloatRepr, pyListRepr, pyStr } from "./pyformat.js";
import { compilePythonRegex } from "./pyregex.js";
import { isPyInt, PyFloat, pyKeys, pyTypeName } from "./pyvalue.js";
import type { ActionDef, ParameterDef, Params, ParamType } from "./types.js";

export interface CompiledParam {
  readonly def: ParameterDef;
  readonly name: string;
  readonly type: ParamType;
  readonly check: ((value: unknown) => string[] | null) | null;
}

export interface CompiledParams {
  readonly list: readonly CompiledParam[];
  readonly byName: ReadonlyMap<string, CompiledParam>;
}

const TYPE_CHECKS: Readonly<Record<ParamType, (v: unknown) => boolean>> = {
  string: (v) => typeof v === "string",
  integer: (v) => isPyInt(v),
  number: (v) => typeof v === "number" || typeof v === "bigint" || v instanceof PyFloat,
  boolean: (v) => typeof v === "boolean",
  array: (v) => Array.isArray(v),
};

/** Compiles each parameter's constraints once; throws `PyRegexError` for an invalid pattern. */
export function compileParams(action: ActionDef): CompiledParams {
  const list = action.parameters.map((def): CompiledParam => {
    return { def, name: def.name, type: def.type, check: compileConstraints(def) };
  });
  const byName = new Map<string, CompiledParam>();
  // Duplicate names are rejected at load; if they slip through, the first declaration wins.
  for (const p of list) if (!byName.has(p.name)) byName.set(p.name, p);
  return { list, byName };
}

/** Validates `params` against the action's declared parameters. Returns `null` when valid. */
export function validateParams(compiled: CompiledParams, params: Params): string[] | null {
  const errors: string[] = [];
  const list = compiled.list;
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (p.def.required && !Object.hasOwn(params, p.name)) {
      errors.push(`Missing required parameter: ${p.name}`);
    }
  }
  for (const key of pyKeys(params)) {
    if (!compiled.byName.has(key)) errors.push(`Unknown parameter: ${key}`);
  }
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (!Object.hasOwn(params, p.name)) continue;
    const value = params[p.name];
    if (!TYPE_CHECKS[p.type](value)) {
      errors.push(`Parameter '${p.name}': expected ${p.type}, got ${pyTypeName(value)}`);
      continue;
    }
    if (p.check !== null) {
      const problems = p.check(value);
      if (problems !== null) errors.push(...problems);
    }
  }
  return errors.length === 0 ? null : errors;
}

/**
 * Builds one closure per parameter that applies its constraints in the reference order
 * (min_value, max_value, min_length, max_length, pattern, enum), each independently.
 */
function compileConstraints(def: ParameterDef): ((value: unknown) => string[] | null) | null {
  const c = def.constraints;
  if (c === null) return null;
  const prefix = `Parameter '${def.name}': `;
  const checks: ((value: unknown) => string | null)[] = [];
  if (c.min_value !== null) {
    const min = c.min_value;
    const text = pyFloatRepr(min);
    checks.push((v) => {
      const cmp = compareNumeric(v, min);
      return cmp !== null && cmp < 0 ? `${prefix}value ${pyStr(v)} is below minimum ${text}` : null;
    });
  }
  if (c.max_value !== null) {
    const max = c.max_value;
    const text = pyFloatRepr(max);
    checks.push((v) => {
      const cmp = compareNumeric(v, max);
      return cmp !== null && cmp > 0 ? `${prefix}value ${pyStr(v)} exceeds maximum ${text}` : null;
    });
  }
  if (c.min_length !== null) {
    const min = c.min_length;
    checks.push((v) => {
      if (typeof v !== "string") return null;
      const len = codePointLength(v);
      return len < min ? `${prefix}length ${len} is below minimum ${min}` : null;
    });
  }
  if (c.max_length !== null) {
    const max = c.max_length;
    checks.push((v) => {
      if (typeof v !== "string") return null;
      const len = codePointLength(v);
      return len > max ? `${prefix}length ${len} exceeds maximum ${max}` : null;
    });
  }
  if (c.pattern !== null) {
    const pattern = c.pattern;
    const regex = compilePythonRegex(pattern);
    checks.push((v) =>
      typeof v === "string" && !regex.test(v) ? `${prefix}value does not match pattern '${pattern}'` : null,
    );
  }
  if (c.enum !== null) {
    const allowed = new Set(c.enum);
    const text = pyListRepr(c.enum);
    checks.push((v) => {
      const s = pyStr(v);
      return allowed.has(s) ? null : `${prefix}value '${s}' not in allowed values ${text}`;
    });
  }
  if (checks.length === 0) return null;
  return (value) => {
    const out: string[] = [];
    for (const check of checks) {
      const problem = check(value);
      if (problem !== null) out.push(problem);
    }
    return out.length === 0 ? null : out;
  };
}

/**
 * Python's mixed int/float comparison, exact for big integers. Booleans count as 0/1 (a bool is an
 * int in Python). Returns `null` for non-numeric values, which the constraint skips.
 */
function compareNumeric(v: unknown, bound: number): number | null {
  if (typeof v === "boolean") return cmp(v ? 1 : 0, bound);
  if (typeof v === "number") return cmp(v, bound);
  if (v instanceof PyFloat) return cmp(v.value, bound);
  if (typeof v === "bigint") return compareBigInt(v, bound);
  return null;
}

function cmp(a: number, b: number): number {
  // NaN compares false both ways in Python, so it is neither below a minimum nor above a maximum.
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

function compareBigInt(b: bigint, f: number): number {
  if (Number.isNaN(f)) return 0;
  if (f === Number.POSITIVE_INFINITY) return -1;
  if (f === Number.NEGATIVE_INFINITY) return 1;
  const floor = Math.floor(f);
  const bf = BigInt(floor);
  if (b < bf) return -1;
  if (b > bf) return 1;
  return f > floor ? -1 : 0;
}

/** Python's `len(str)`: code points, where a JS string counts UTF-16 units. */
export function codePointLength(s: string): number {
  let len = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len--;
        i++;
      }
    }
  }
  return len;
}
