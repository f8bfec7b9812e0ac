/**
 * `parseJson`: Python's `json.loads` semantics at `JSON.parse` speed. A quick scan of the text
 * decides whether `JSON.parse` is exact for it: it is unless the text holds a float lexeme (`5.0`
 * must stay a float), an integer of 16 or more digits (beyond 2^53), or an integer-like object key
 * (JavaScript would reorder it). Only then, or when `JSON.parse` rejects the text (so the error
 * reads like Python's), does the lexeme-aware parser run.
 */

import { isIntegerLikeKey, type PyValue } from "../core/pyvalue.js";
import { parseJsonPy } from "./json-parse.js";

export function parseJson(text: string): PyValue {
  if (isJsonParseExact(text)) {
    try {
      return JSON.parse(text) as PyValue;
    } catch {
      // Fall through: parseJsonPy throws the same failure with Python's message and position.
    }
  }
  return parseJsonPy(text);
}

/**
 * True when `JSON.parse(text)` and `parseJsonPy(text)` are sure to agree (for valid JSON).
 * Conservative: any float lexeme, any long integer and any key starting with a digit say no.
 */
export function isJsonParseExact(text: string): boolean {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A string: jump to its closing quote (one not escaped by an odd run of backslashes).
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return true; // unterminated: JSON.parse will reject it
      if (isKey(text, end)) {
        // An integer-like key, possibly spelled with escapes (`"1\u0030"` is "10"): play safe.
        // (Checked in place: most keys are neither, and need no string of their own.)
        const first = text.charCodeAt(i + 1);
        if (first >= 48 && first <= 57 && isIntegerLikeKey(text.slice(i + 1, end))) return false;
        for (let j = i + 1; j < end; j++) if (text.charCodeAt(j) === 92) return false;
      }
      i = end + 1;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      let d = c;
      while (d === 45 || (d >= 48 && d <= 57)) d = text.charCodeAt(++i);
      if (d === 46 || d === 101 || d === 69) return false; // float lexeme
      if (i - start >= 16) return false; // may be beyond 2^53
      if (c === 45 && i - start === 2 && text.charCodeAt(start + 1) === 48) return false; // -0 is int 0 in Python
      continue;
    }
    i++;
  }
  return true;
}

/** Whether the string closed at `quote` is an object key (a `:` follows). */
function isKey(text: string, quote: number): boolean {
  let j = quote + 1;
  let c = text.charCodeAt(j);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++j);
  return c === 58;
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let j = quote - 1; text.charCodeAt(j) === 92; j--) backslashes++;
  return backslashes % 2 === 1;
}
