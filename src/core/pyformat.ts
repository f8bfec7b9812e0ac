/**
 * Python's `str()` / `repr()` renderings, as they appear inside reference reason strings
 * (`value 101 exceeds maximum 100.0`, `not in allowed values ['a', 'b']`).
 */
import { isPlainObject, PyDate, PyDateTime, PyFloat, pyKeys } from "./pyvalue.js";

/** Python `repr(float)`: shortest round-trip digits, `.0` on integral values, `1e-05` / `1e+16`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac === "" ? "0" : frac}`;
  }
  const mant = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const expSign = exp < 0 ? "-" : "+";
  const expAbs = String(Math.abs(exp)).padStart(2, "0");
  return `${sign}${mant}e${expSign}${expAbs}`;
}

/** Python `f"{x:.0f}"`: round half to even on the exact binary value. */
export function pyFormatFixed0(x: number): string {
  if (!Number.isFinite(x)) return pyFloatRepr(x);
  const floor = Math.floor(x);
  const frac = x - floor;
  let n: number;
  if (frac > 0.5) n = floor + 1;
  else if (frac < 0.5) n = floor;
  else n = floor % 2 === 0 ? floor : floor + 1;
  if (n === 0 && (x < 0 || Object.is(x, -0))) return "-0";
  // Beyond 2^53 String() would print shortest digits or exponents; Python prints the exact value.
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

// Python's str.isprintable(): everything except categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
// (the ASCII space excepted).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Python `repr(str)`: single quotes unless the text has `'` and no `"`. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f) out += ch;
    else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      if (cp <= 0xff) out += `\\x${hex(cp, 2)}`;
      else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
      else out += `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + quote;
}

function pyDateRepr(d: PyDate): string {
  const [y, m, day] = d.iso.split("-").map(Number) as [number, number, number];
  return `datetime.date(${y}, ${m}, ${day})`;
}

/** Python `str(value)`. */
export function pyStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof PyDate) return v.iso;
  if (v instanceof PyDateTime) return v.text;
  return pyRepr(v);
}

/** Python `repr(value)`. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return pyStrRepr(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isInteger(v) ? integerText(v) : pyFloatRepr(v);
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (v instanceof PyDate) return pyDateRepr(v);
  if (v instanceof PyDateTime) return `datetime.datetime(${v.text})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (isPlainObject(v)) {
    const parts = pyKeys(v).map((k) => `${pyStrRepr(k)}: ${pyRepr(v[k])}`);
    return `{${parts.join(", ")}}`;
  }
  return String(v);
}

function integerText(v: number): string {
  // Integral numbers beyond 2^53 only arise from callers handing us JS numbers; print them in full.
  return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
}

/** Python's repr of a list of strings: `['a', 'b']`. */
export function pyListRepr(items: readonly string[]): string {
  return `[${items.map(pyStrRepr).join(", ")}]`;
}
