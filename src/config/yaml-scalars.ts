/**
 * PyYAML 6 (YAML 1.1) scalar semantics: the implicit resolver applied to plain scalars and the
 * `SafeConstructor` scalar constructors, down to the quirks of Python's `int()` / `float()` that
 * explicit tags (`!!int " 12 "`) expose. Everything here is pure string → value.
 */
import { pyStr, pyStrRepr } from "../core/pyformat.js";
import { PyDate, PyDateTime, PyFloat, type PyScalar, pyTypeName } from "../core/pyvalue.js";

/** A scalar that its tag's constructor rejects; the caller adds the position. */
export class ScalarError extends Error {}

export type ImplicitTag =
  | "bool"
  | "float"
  | "int"
  | "merge"
  | "null"
  | "timestamp"
  | "value"
  | "yaml"
  | "str";

// PyYAML's resolver table (resolver.py), in registration order, with the first characters each is
// registered for. Python's `$` also matches before one trailing newline; `pyMatch` emulates that.
const RESOLVERS: readonly (readonly [ImplicitTag, RegExp, string])[] = [
  ["bool", /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/, "yYnNtTfFoO"],
  [
    "float",
    /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    "-+0123456789.",
  ],
  [
    "int",
    /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
    "-+0123456789",
  ],
  ["merge", /^(?:<<)$/, "<"],
  ["null", /^(?:~|null|Null|NULL|)$/, "~nN"],
  [
    "timestamp",
    /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?)$/,
    "0123456789",
  ],
  ["value", /^(?:=)$/, "="],
  ["yaml", /^(?:!|&|\*)$/, "!&*"],
];

function pyMatch(re: RegExp, value: string): boolean {
  return re.test(value) || (value.endsWith("\n") && re.test(value.slice(0, -1)));
}

/** The tag PyYAML's implicit resolver gives a plain (or `!`-tagged) scalar. */
export function resolveImplicit(value: string): ImplicitTag {
  if (value === "") return "null";
  const first = value[0]!;
  for (const [tag, re, firsts] of RESOLVERS) {
    if (firsts.includes(first) && pyMatch(re, value)) return tag;
  }
  return "str";
}

// ---- Python int() / float() on strings

// Characters Python's str.strip() / int() / float() treat as whitespace.
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

function pyStrip(s: string): string {
  return s.replace(PY_STRIP, "");
}

const INT_DIGITS: Record<number, RegExp> = {
  2: /^[01]+$/,
  8: /^[0-7]+$/,
  10: /^[0-9]+$/,
  16: /^[0-9a-fA-F]+$/,
};
const INT_PREFIX: Record<number, string> = { 2: "0b", 8: "0o", 16: "0x" };

/** Python `int(s, base)` for underscore-free text (ASCII digits only). */
function pyIntParse(s: string, base: 2 | 8 | 10 | 16): bigint {
  const t = pyStrip(s);
  let body = t;
  let negative = false;
  if (body.startsWith("+") || body.startsWith("-")) {
    negative = body[0] === "-";
    body = body.slice(1);
  }
  const prefix = INT_PREFIX[base];
  if (prefix !== undefined && body.slice(0, 2).toLowerCase() === prefix) body = body.slice(2);
  if (!INT_DIGITS[base]!.test(body)) {
    throw new ScalarError(`invalid literal for int() with base ${base}: ${pyStrRepr(s)}`);
  }
  const n = BigInt(prefix === undefined ? body : `${prefix}${body}`);
  return negative ? -n : n;
}

const FLOAT_TEXT = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity|nan)$/i;

/** Python `float(s)` for underscore-free text (ASCII digits only). */
function pyFloatParse(s: string): number {
  const t = pyStrip(s);
  if (!FLOAT_TEXT.test(t)) throw new ScalarError(`could not convert string to float: ${pyStrRepr(s)}`);
  const lower = t.toLowerCase();
  const negative = lower.startsWith("-");
  const body = lower.replace(/^[+-]/, "");
  if (body === "inf" || body === "infinity") return negative ? -Infinity : Infinity;
  if (body === "nan") return Number.NaN;
  return Number(t);
}

/** A Python int as the value model holds it: `number` when safe, `bigint` beyond. */
export function toPyInt(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** A Python float as the value model holds it: integral values are wrapped in `PyFloat`. */
export function toPyFloat(x: number): number | PyFloat {
  return Number.isInteger(x) ? new PyFloat(x) : x;
}

// ---- SafeConstructor scalar constructors (constructor.py)

const BOOL_VALUES: Record<string, boolean> = {
  yes: true,
  no: false,
  true: true,
  false: false,
  on: true,
  off: false,
};

export function constructBool(value: string): boolean {
  const lower = value.toLowerCase();
  if (!Object.hasOwn(BOOL_VALUES, lower)) throw new ScalarError(`invalid boolean ${pyStrRepr(value)}`);
  return BOOL_VALUES[lower]!;
}

function splitSign(text: string): [number, string] {
  if (text === "") throw new ScalarError("cannot construct a number from an empty string");
  const sign = text[0] === "-" ? -1 : 1;
  return [sign, text[0] === "-" || text[0] === "+" ? text.slice(1) : text];
}

export function constructInt(value: string): number | bigint {
  const [sign, v] = splitSign(value.replaceAll("_", ""));
  let n: bigint;
  if (v === "0") return 0;
  if (v.startsWith("0b")) n = pyIntParse(v.slice(2), 2);
  else if (v.startsWith("0x")) n = pyIntParse(v.slice(2), 16);
  else if (v.startsWith("0")) n = pyIntParse(v, 8);
  else if (v.includes(":")) {
    n = 0n;
    let base = 1n;
    for (const part of v.split(":").reverse()) {
      n += pyIntParse(part, 10) * base;
      base *= 60n;
    }
  } else n = pyIntParse(v, 10);
  return toPyInt(sign < 0 ? -n : n);
}

export function constructFloat(value: string): number | PyFloat {
  const [sign, v] = splitSign(value.replaceAll("_", "").toLowerCase());
  let x: number;
  if (v === ".inf") x = sign * Infinity;
  else if (v === ".nan") x = Number.NaN;
  else if (v.includes(":")) {
    x = 0;
    let base = 1;
    for (const part of v.split(":").reverse()) {
      x += pyFloatParse(part) * base;
      base *= 60;
    }
    x *= sign;
  } else x = sign * pyFloatParse(v);
  return toPyFloat(x);
}

const TIMESTAMP =
  /^([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9]{2}))?))?)?$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function check(ok: boolean, detail: string): void {
  if (!ok) throw new ScalarError(detail);
}

/** `datetime.date` → `PyDate`; `datetime.datetime` → `PyDateTime` (naive instants are taken as UTC). */
export function constructTimestamp(value: string): PyDate | PyDateTime {
  const m = TIMESTAMP.exec(value) ?? (value.endsWith("\n") ? TIMESTAMP.exec(value.slice(0, -1)) : null);
  if (m === null) throw new ScalarError(`invalid timestamp ${pyStrRepr(value)}`);
  const num = (i: number): number => Number(m[i] ?? "0");
  const [year, month, day] = [num(1), num(2), num(3)];
  let offsetMin: number | undefined;
  if (m[9] !== undefined) {
    offsetMin = (num(10) * 60 + num(11)) * (m[9] === "-" ? -1 : 1);
    check(Math.abs(offsetMin) < 24 * 60, "offset must be a timedelta strictly between -24 and 24 hours");
  } else if (m[8] !== undefined) offsetMin = 0;
  check(year >= 1, `year ${year} is out of range`);
  check(month >= 1 && month <= 12, "month must be in 1..12");
  check(day >= 1 && day <= daysInMonth(year, month), "day is out of range for month");
  const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  if (m[4] === undefined) return new PyDate(date);
  const [hour, minute, second] = [num(4), num(5), num(6)];
  check(hour <= 23, "hour must be in 0..23");
  check(minute <= 59, "minute must be in 0..59");
  check(second <= 59, "second must be in 0..59");
  const micro = m[7] ? Number(m[7].slice(0, 6).padEnd(6, "0")) : 0;
  let text = `${date} ${pad(hour)}:${pad(minute)}:${pad(second)}`;
  if (micro !== 0) text += `.${pad(micro, 6)}`;
  if (offsetMin !== undefined) {
    const abs = Math.abs(offsetMin);
    text += `${offsetMin < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return new PyDateTime(text, (seconds - (offsetMin ?? 0) * 60) * 1000 + micro / 1000);
}

/** Constructs the value of a scalar whose (resolved) tag is one of PyYAML's scalar tags. */
export function constructScalarTag(
  tag: "bool" | "float" | "int" | "null" | "timestamp",
  value: string,
): PyScalar {
  switch (tag) {
    case "null":
      return null;
    case "bool":
      return constructBool(value);
    case "int":
      return constructInt(value);
    case "float":
      return constructFloat(value);
    case "timestamp":
      return constructTimestamp(value);
  }
}

// ---- mapping keys

const AWARE = /[+-]\d\d:\d\d$/;

/**
 * Python dict identity of a key: two keys share an identity exactly when Python considers them the
 * same dict key (`1 == 1.0 == True`, equal instants of aware datetimes, the shared `.nan` object).
 */
export function keyIdentity(k: PyScalar): string {
  if (k === null) return "None";
  if (typeof k === "string") return `s${k}`;
  if (typeof k === "boolean") return k ? "#1" : "#0";
  if (typeof k === "bigint") return `#${k}`;
  if (typeof k === "number" || k instanceof PyFloat) {
    const x = typeof k === "number" ? k : k.value;
    if (Number.isNaN(x)) return "nan";
    return Number.isInteger(x) ? `#${BigInt(x)}` : `f${x}`;
  }
  if (k instanceof PyDate) return `d${k.iso}`;
  return AWARE.test(k.text) ? `t${k.epochMs}` : `n${k.text}`;
}

/** Python `str(key)` and `type(key).__name__`. */
export function describeKey(k: PyScalar): { text: string; type: string } {
  return { text: pyStr(k), type: pyTypeName(k) };
}
