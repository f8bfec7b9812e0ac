/**
 * The before/after state diff (REFERENCE.md §11.1): top-level keys only, every list sorted by
 * key, equality as Python's `==` (nested values compared deeply; 1 == 1.0 == True).
 */
import { isPlainObject, PyFloat } from "../core/pyvalue.js";

export interface StateDiff {
  added: Record<string, unknown>;
  removed: Record<string, unknown>;
  changed: Record<string, { old: unknown; new: unknown }>;
  unchanged: string[];
}

export function diffState(before: Record<string, unknown>, after: Record<string, unknown>): StateDiff {
  const diff: StateDiff = { added: {}, removed: {}, changed: {}, unchanged: [] };
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const inBefore = Object.hasOwn(before, key);
    const inAfter = Object.hasOwn(after, key);
    if (!inBefore) diff.added[key] = after[key];
    else if (!inAfter) diff.removed[key] = before[key];
    else if (pyEquals(before[key], after[key])) diff.unchanged.push(key);
    else diff.changed[key] = { old: before[key], new: after[key] };
  }
  return diff;
}

/** Python `==` over the JSON-like values state holds. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined)
    return typeof na === typeof nb ? na === nb : Number(na) === Number(nb);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i]))
    );
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && pyEquals(a[k], b[k]));
}

function numeric(v: unknown): number | bigint | undefined {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (v instanceof PyFloat) return v.value;
  return undefined;
}
