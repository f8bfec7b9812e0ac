/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), used to hash and write v2 audit events
 * (DESIGN.md §6).
 *
 * - no whitespace; arrays keep their order; object members are sorted by their names' UTF-16
 *   code units (JavaScript's default string sort);
 * - numbers are ECMAScript `Number::toString` (`-0` is `0`); `PyFloat` counts as its number, a
 *   `bigint` as its number when within ±(2^53−1);
 * - strings use JSON.stringify's escaping, which for well-formed strings is exactly RFC 8785
 *   §3.2.2.2: `"`, `\` and U+0000–U+001F only (`\b \t \n \f \r`, else lowercase `\u00XX`),
 *   everything else raw (UTF-8 once written);
 * - `undefined`, functions and symbols are skipped as object members and written as `null` in
 *   arrays, and `toJSON()` is honoured (`PyDate`, `Date`), all as in `JSON.stringify`.
 *
 * `CanonicalJsonError` is thrown for what JCS cannot represent:
 * - NaN and ±Infinity (RFC 8785 §3.2.2.3 requires an error);
 * - strings (values or names) holding a lone surrogate: RFC 8785 §3.2.2.2 says such data MUST
 *   make a compliant implementation terminate with an error (ES2019 `JSON.stringify` would write
 *   `\udXXX` instead, which we do not accept);
 * - a `bigint` beyond the safe range: JCS numbers are IEEE-754 doubles, so it would silently
 *   round (write such values as strings instead);
 * - nesting deeper than 1000 (including circular structures), and a top-level value
 *   `JSON.stringify` would turn into `undefined`.
 */
import { PyFloat } from "../core/pyvalue.js";

export class CanonicalJsonError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "CanonicalJsonError";
  }
}

const MAX_DEPTH = 1000;

interface MaybeWellFormed {
  isWellFormed?: () => boolean;
}

const LONE_SURROGATE = /\p{Surrogate}/u;

const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as MaybeWellFormed).isWellFormed === "function"
    ? (s) => (s as unknown as Required<MaybeWellFormed>).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);

/** RFC 8785 canonical JSON text of `value`. */
export function canonicalize(value: unknown): string {
  const out = ser(value, "", 0);
  if (out === undefined) throw new CanonicalJsonError(`cannot canonicalize a top-level ${typeof value}`);
  return out;
}

/**
 * The canonical text of `value` without its top-level member `omitKey` (which is skipped, not
 * blanked), e.g. an audit event without its `entry_hash`. Avoids copying the object.
 */
export function canonicalizeWithout(value: Record<string, unknown>, omitKey: string): string {
  return serObject(value, 0, omitKey);
}

function ser(v: unknown, key: string, depth: number): string | undefined {
  switch (typeof v) {
    case "string":
      return str(v);
    case "number":
      return num(v);
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new CanonicalJsonError(
          `integer ${v} is beyond the IEEE-754 safe range; JCS cannot represent it`,
        );
      }
      return v.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (v === null) return "null";
  if (v instanceof PyFloat) return num(v.value);
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return ser(toJSON.call(v, key), key, depth);
  if (Array.isArray(v)) return serArray(v, depth);
  return serObject(v as Record<string, unknown>, depth, undefined);
}

function num(n: number): string {
  if (!Number.isFinite(n)) throw new CanonicalJsonError(`${n} is not a JSON number`);
  return String(n);
}

function str(s: string): string {
  if (!isWellFormed(s)) throw new CanonicalJsonError("string holds a lone surrogate");
  return JSON.stringify(s);
}

function serArray(arr: readonly unknown[], depth: number): string {
  if (depth >= MAX_DEPTH) throw new CanonicalJsonError("nesting too deep (or a circular reference)");
  let out = "[";
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ",";
    out += ser(arr[i], String(i), depth + 1) ?? "null";
  }
  return out + "]";
}

function serObject(obj: Record<string, unknown>, depth: number, omitKey: string | undefined): string {
  if (depth >= MAX_DEPTH) throw new CanonicalJsonError("nesting too deep (or a circular reference)");
  const keys = Object.keys(obj).sort();
  let out = "{";
  let first = true;
  for (const k of keys) {
    if (k === omitKey) continue;
    const s = ser(obj[k], k, depth + 1);
    if (s === undefined) continue;
    out += (first ? "" : ",") + str(k) + ":" + s;
    first = false;
  }
  return out + "}";
}
