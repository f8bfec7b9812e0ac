/**
 * The value model shared by every format Agent-Safe reads.
 *
 * Policy semantics were defined by a Python implementation, and some of its decisions depend on
 * distinctions that plain JavaScript values lose: `5` and `5.0` are different types in Python
 * (`integer` rejects `5.0`), integers are unbounded, JSON object keys keep insertion order, and
 * YAML dates are their own type. Parsers (YAML, JSON) produce these wrappers only where the
 * distinction would otherwise be lost, so ordinary values stay ordinary JavaScript values:
 *
 * - a float whose value is integral (`5.0`, `1e+16`) is a `PyFloat`; other floats are `number`;
 * - an integer outside the safe range is a `bigint`;
 * - a YAML date / timestamp is a `PyDate` / `PyDateTime`;
 * - an object whose key order JavaScript would change (integer-like keys) carries its real
 *   order under the `PY_KEY_ORDER` symbol.
 */

export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}

/** A YAML 1.1 date (`2024-01-01`), which PyYAML loads as `datetime.date`. */
export class PyDate {
  constructor(readonly iso: string) {}
  toJSON(): string {
    return this.iso;
  }
}

/** A YAML 1.1 timestamp, which PyYAML loads as `datetime.datetime`; `text` is Python's `str()`. */
export class PyDateTime {
  constructor(
    readonly text: string,
    readonly epochMs: number,
  ) {}
  toJSON(): string {
    return this.text;
  }
}

export const PY_KEY_ORDER: unique symbol = Symbol.for("agent-safe.pyKeyOrder");

export type PyScalar = null | boolean | number | bigint | string | PyFloat | PyDate | PyDateTime;
export type PyValue = PyScalar | PyValue[] | PyObject;
export interface PyObject {
  [key: string]: PyValue;
}

export function isPlainObject(v: unknown): v is PyObject {
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v) || v instanceof PyFloat || v instanceof PyDate || v instanceof PyDateTime)
    return false;
  return true;
}

/** Keys of an object in the order its source gave them. */
export function pyKeys(obj: object): string[] {
  const order = (obj as { [PY_KEY_ORDER]?: string[] })[PY_KEY_ORDER];
  return order ?? Object.keys(obj);
}

const INTEGER_LIKE_KEY = /^(?:0|[1-9][0-9]{0,9})$/;

/** True when JavaScript would enumerate `key` before string keys (array-index-like keys). */
export function isIntegerLikeKey(key: string): boolean {
  return INTEGER_LIKE_KEY.test(key) && Number(key) < 4294967295;
}

/**
 * Records `order` on `obj` when JavaScript's own enumeration order would differ from it.
 * The property is non-enumerable, so it never leaks into JSON or spreads.
 */
export function rememberKeyOrder(obj: object, order: string[]): void {
  let needed = false;
  for (const k of order) {
    if (isIntegerLikeKey(k)) {
      needed = true;
      break;
    }
  }
  if (!needed) return;
  Object.defineProperty(obj, PY_KEY_ORDER, { value: order, enumerable: false });
}

/** Defines a property without ever touching the prototype (`__proto__` is data, not a setter). */
export function setOwn(obj: PyObject, key: string, value: PyValue): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

export function isPyInt(v: unknown): v is number | bigint {
  return typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
}

export function isPyFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === "number" && !Number.isInteger(v));
}

/** The numeric value of an int or float (not bool); `undefined` for anything else. */
export function numericValue(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

/** Python's `type(v).__name__` for the values our formats can produce. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "str";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (v instanceof PyFloat) return "float";
  if (v instanceof PyDate) return "date";
  if (v instanceof PyDateTime) return "datetime";
  if (Array.isArray(v)) return "list";
  return "dict";
}
