/**
 * Python's `json.dumps(obj)` / `json.dumps(obj, sort_keys=True)` with default settings, byte for
 * byte (REFERENCE.md §0.3). The reference audit log hashes exactly this text, so verifying a log
 * written by the Python implementation means re-serialising its events with this function.
 *
 * - separators `", "` and `": "`; no newlines;
 * - `ensure_ascii`: every UTF-16 unit outside 0x20–0x7E is written as lowercase `\uXXXX` (astral
 *   characters therefore as surrogate pairs, a lone surrogate as itself), with the named escapes
 *   `\" \\ \n \r \t \b \f`; `/` is not escaped;
 * - `sortKeys` sorts keys by code point (Python's `str` order), recursively;
 * - ints (integral numbers, bigints) in full decimal; floats (`PyFloat`, non-integral numbers) in
 *   Python `repr`; NaN and infinities as `NaN`, `Infinity`, `-Infinity`;
 * - `PyDate` / `PyDateTime` as their `toJSON()` strings.
 */
import { pyFloatRepr } from "../core/pyformat.js";
import { isPlainObject, PyDate, PyDateTime, PyFloat, type PyValue, pyKeys } from "../core/pyvalue.js";

export interface PyJsonDumpsOptions {
  /** Python's `sort_keys=True`. Default false: keys keep their source order (`pyKeys`). */
  sortKeys?: boolean;
}

/** Deeper nesting is refused (Python itself hits its recursion limit near 1000). */
const MAX_DEPTH = 1000;

export function pyJsonDumps(value: PyValue, opts?: PyJsonDumpsOptions): string {
  return dump(value, opts?.sortKeys === true, 0);
}

function dump(v: unknown, sort: boolean, depth: number): string {
  switch (typeof v) {
    case "string":
      return pyJsonString(v);
    case "number":
      return Number.isInteger(v) ? intText(v) : floatText(v);
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
  }
  if (v === null) return "null";
  if (v instanceof PyFloat) return floatText(v.value);
  if (v instanceof PyDate || v instanceof PyDateTime) return pyJsonString(v.toJSON());
  if (depth >= MAX_DEPTH) throw new RangeError("pyJsonDumps: nesting too deep (or a circular reference)");
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    let out = "[" + dump(v[0], sort, depth + 1);
    for (let i = 1; i < v.length; i++) out += ", " + dump(v[i], sort, depth + 1);
    return out + "]";
  }
  if (isPlainObject(v)) {
    const keys = sort ? Object.keys(v).sort(compareCodePoints) : pyKeys(v);
    if (keys.length === 0) return "{}";
    let out = "{";
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (i > 0) out += ", ";
      out += pyJsonString(k) + ": " + dump(v[k], sort, depth + 1);
    }
    return out + "}";
  }
  throw new TypeError(`Object of type ${v === undefined ? "undefined" : typeof v} is not JSON serializable`);
}

function intText(v: number): string {
  // `String(-0)` is "0", as Python ints have no negative zero.
  return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
}

function floatText(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  return pyFloatRepr(x);
}

/** Anything that is not printable ASCII, or is `"` or `\`. */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
const ESCAPABLE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

const NAMED: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function escapeUnit(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const hex = ch.charCodeAt(0).toString(16);
  return "\\u" + "0000".slice(hex.length) + hex;
}

/** Python's `json.dumps(s)` of one string (ensure_ascii). */
export function pyJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  return '"' + s.replace(ESCAPABLE, escapeUnit) + '"';
}

/**
 * Orders strings by code point, as Python compares `str`, for JavaScript's UTF-16 strings
 * (where `<` compares code units and so puts U+10000 and above before U+E000–U+FFFF).
 * Lone surrogates count as the code points they are, as in Python.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const ca = a.charCodeAt(i);
  const cb = b.charCodeAt(i);
  if (ca < 0xd800 && cb < 0xd800) return ca - cb;
  // Back up to the start of a pair whose high half is the shared previous unit.
  if (i > 0) {
    const p = a.charCodeAt(i - 1);
    if (p >= 0xd800 && p <= 0xdbff && ((ca >= 0xdc00 && ca <= 0xdfff) || (cb >= 0xdc00 && cb <= 0xdfff))) i--;
  }
  return a.codePointAt(i)! - b.codePointAt(i)!;
}
