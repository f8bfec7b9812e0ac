/**
 * JSON that round-trips the Python value model (PyFloat, bigint, dates, key order, non-finite
 * numbers), for caches and messages between threads. Not an interchange format.
 */
import {
  isPlainObject,
  PY_KEY_ORDER,
  PyDate,
  PyDateTime,
  PyFloat,
  type PyObject,
  type PyValue,
  rememberKeyOrder,
  setOwn,
} from "../core/pyvalue.js";

const TAG = "$py";

export function encodeTagged(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, _converted: unknown) {
    return tag(this[key]);
  });
}

function tag(v: unknown): unknown {
  if (v instanceof PyFloat) return { [TAG]: "float", v: numberText(v.value) };
  if (typeof v === "number" && !Number.isFinite(v)) return { [TAG]: "float", v: numberText(v) };
  if (typeof v === "bigint") return { [TAG]: "int", v: v.toString() };
  if (v instanceof PyDate) return { [TAG]: "date", v: v.iso };
  if (v instanceof PyDateTime) return { [TAG]: "datetime", t: v.text, ms: v.epochMs };
  if (
    isPlainObject(v) &&
    ((v as { [PY_KEY_ORDER]?: string[] })[PY_KEY_ORDER] !== undefined || Object.hasOwn(v, TAG))
  ) {
    const keys = (v as { [PY_KEY_ORDER]?: string[] })[PY_KEY_ORDER] ?? Object.keys(v);
    return { [TAG]: "dict", items: keys.map((k) => [k, v[k]]) };
  }
  return v;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Number.POSITIVE_INFINITY) return "inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  return Object.is(n, -0) ? "-0" : String(n);
}

export function decodeTagged<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) => untag(value)) as T;
}

function untag(v: unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  if (!Object.hasOwn(o, TAG)) return v;
  switch (o[TAG]) {
    case "float": {
      const n = parseNumber(o.v as string);
      return Number.isInteger(n) ? new PyFloat(n) : n;
    }
    case "int":
      return BigInt(o.v as string);
    case "date":
      return new PyDate(o.v as string);
    case "datetime":
      return new PyDateTime(o.t as string, o.ms as number);
    case "dict": {
      const out: PyObject = {};
      const items = o.items as [string, PyValue][];
      for (const [k, val] of items) setOwn(out, k, val);
      rememberKeyOrder(
        out,
        items.map(([k]) => k),
      );
      return out;
    }
    default:
      return v;
  }
}

function parseNumber(text: string): number {
  if (text === "nan") return Number.NaN;
  if (text === "inf") return Number.POSITIVE_INFINITY;
  if (text === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}
