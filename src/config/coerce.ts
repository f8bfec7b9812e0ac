/**
 * Field types with the coercions 0.9.0's pydantic models accepted ("lax mode"), so that every
 * file 0.9.0 loaded loads here with the same values:
 * - integers accept `"10"`, `" 10 "`, `10.0` and booleans, but not `10.5` or `"1e1"`;
 * - floats accept integers, booleans and numeric strings (`"1e3"`, `"inf"`);
 * - booleans accept 0/1 and yes/no/on/off/true/false/y/n/t/f/1/0 strings (any case);
 * - strings accept only strings (a YAML `8080` or `1.0` is an error, not silently a string).
 */
import * as z from "zod";
import { PyFloat } from "../core/pyvalue.js";

const INT_TEXT = /^\s*[+-]?[0-9]+\s*$/;
const FLOAT_TEXT = /^\s*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)\s*$/i;
const TRUE_TEXT = new Set(["yes", "on", "true", "1", "y", "t"]);
const FALSE_TEXT = new Set(["no", "off", "false", "0", "n", "f"]);

/** Returns the coerced value, or the input unchanged so that the target schema reports it. */
export function coerceInt(v: unknown): unknown {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (typeof v === "string" && INT_TEXT.test(v)) {
    const n = Number(v.trim());
    return Number.isSafeInteger(n) ? n : v;
  }
  return v;
}

export function coerceFloat(v: unknown): unknown {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && FLOAT_TEXT.test(v)) {
    const t = v.trim().toLowerCase();
    const sign = t.startsWith("-") ? -1 : 1;
    const body = t.replace(/^[+-]/, "");
    if (body === "inf" || body === "infinity") return sign * Number.POSITIVE_INFINITY;
    if (body === "nan") return Number.NaN;
    return Number(t);
  }
  return v;
}

export function coerceBool(v: unknown): unknown {
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") {
    const t = v.trim().toLowerCase();
    if (TRUE_TEXT.has(t)) return true;
    if (FALSE_TEXT.has(t)) return false;
  }
  return v;
}

/** The message our integer fields give zod, so errors can say "an integer" for any input. */
export const INTEGER_EXPECTED = "expected an integer";

export function laxInt(bounds: { min?: number; max?: number } = {}) {
  let schema = z.int({ error: INTEGER_EXPECTED });
  if (bounds.min !== undefined) schema = schema.min(bounds.min);
  if (bounds.max !== undefined) schema = schema.max(bounds.max);
  return z.preprocess(coerceInt, schema);
}
export const laxFloat = () => z.preprocess(coerceFloat, z.number().or(z.nan()));
export const laxBool = () => z.preprocess(coerceBool, z.boolean());
export const str = () => z.string();
export const strList = () => z.array(z.string());

export function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values);
}
