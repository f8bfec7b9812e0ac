/**
 * A lexeme-aware JSON reader equivalent to Python's `json.loads` (CPython 3.11 C scanner, defaults).
 *
 * `JSON.parse` loses what the Python implementation could see: `5.0` vs `5`, integers beyond
 * 2^53, and the source order of integer-like object keys. This parser keeps them, in the shapes of
 * the shared value model (`core/pyvalue.ts`):
 *
 * - a number lexeme with `.`, `e` or `E` is a float: `PyFloat` when its value is integral
 *   (including `-0.0`), otherwise a plain number (`1e400` is `Infinity`, as Python gives `inf`);
 * - an integer lexeme is a number when safe, otherwise a `bigint` (`-0` is `0`);
 * - the constants `NaN`, `Infinity` and `-Infinity` are accepted;
 * - duplicate keys: the last value wins at the first key's position (dict semantics);
 * - objects are built with `setOwn` (a `__proto__` key is data) and `rememberKeyOrder`.
 *
 * Everything Python rejects is rejected with Python's message and position (code points, as
 * `JSONDecodeError` reports them). Deviations: nesting deeper than `MAX_JSON_DEPTH` throws a
 * `JsonParseError` where CPython raises `RecursionError` (at ~1000, depending on its stack), and
 * integers longer than 4300 digits are accepted (CPython 3.11+ raises `ValueError`).
 *
 * `parseJson` (json-fast.ts) uses the platform's `JSON.parse` when the text shows that it would
 * give the same result, and this parser otherwise.
 */
import {
  isIntegerLikeKey,
  PyFloat,
  type PyObject,
  type PyValue,
  rememberKeyOrder,
  setOwn,
} from "../core/pyvalue.js";

/** Containers nested deeper than this are rejected (CPython hits its recursion limit near here). */
export const MAX_JSON_DEPTH = 1000;

/** Python's `json.JSONDecodeError`: `message` is `str(err)`, positions count code points. */
export class JsonParseError extends SyntaxError {
  /** The bare message (`Expecting value`), Python's `err.msg`. */
  readonly msg: string;
  /** Offset in code points, Python's `err.pos`. */
  readonly pos: number;
  /** 1-based line, Python's `err.lineno`. */
  readonly lineno: number;
  /** 1-based column in code points, Python's `err.colno`. */
  readonly colno: number;
  /** Offset in UTF-16 code units into the JavaScript string. */
  readonly index: number;

  constructor(msg: string, text: string, index: number) {
    const { pos, lineno, colno } = pythonPosition(text, index);
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
    this.name = "JsonParseError";
    this.msg = msg;
    this.pos = pos;
    this.lineno = lineno;
    this.colno = colno;
    this.index = index;
  }
}

/** Converts a UTF-16 offset to Python's code-point `pos`, `lineno` and `colno`. */
function pythonPosition(text: string, index: number): { pos: number; lineno: number; colno: number } {
  let pos = 0;
  let lineno = 1;
  let lineStart = 0; // code-point offset just after the last newline
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue; // second half of a pair: same code point
    }
    pos++;
    if (c === 10) {
      lineno++;
      lineStart = pos;
    }
  }
  return { pos, lineno, colno: pos - lineStart + 1 };
}

// Parser state. Parsing is synchronous and never re-entered, so module-level state is safe and
// lets V8 keep the hot loops tight.
let src = "";
let at = 0;
let depth = 0;

function fail(msg: string, index: number): never {
  throw new JsonParseError(msg, src, index);
}

/** Python's `json.loads(text)` with default arguments. */
export function parseJsonPy(text: string): PyValue {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new JsonParseError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0);
  }
  src = text;
  at = 0;
  depth = 0;
  try {
    skipWs();
    const value = parseValue();
    skipWs();
    if (at !== text.length) fail("Extra data", at);
    return value;
  } finally {
    src = "";
  }
}

function skipWs(): void {
  let c = src.charCodeAt(at);
  while (c === 32 || c === 10 || c === 13 || c === 9) c = src.charCodeAt(++at);
}

function parseValue(): PyValue {
  switch (src.charCodeAt(at)) {
    case 34: // "
      return parseString();
    case 123: // {
      return parseObject();
    case 91: // [
      return parseArray();
    case 110: // n
      if (src.startsWith("null", at)) {
        at += 4;
        return null;
      }
      break;
    case 116: // t
      if (src.startsWith("true", at)) {
        at += 4;
        return true;
      }
      break;
    case 102: // f
      if (src.startsWith("false", at)) {
        at += 5;
        return false;
      }
      break;
    case 78: // N
      if (src.startsWith("NaN", at)) {
        at += 3;
        return Number.NaN;
      }
      break;
    case 73: // I
      if (src.startsWith("Infinity", at)) {
        at += 8;
        return Number.POSITIVE_INFINITY;
      }
      break;
    case 45: // -
      if (src.startsWith("-Infinity", at)) {
        at += 9;
        return Number.NEGATIVE_INFINITY;
      }
      break;
  }
  return parseNumber();
}

function parseNumber(): PyValue {
  const s = src;
  const start = at;
  let i = at;
  let c = s.charCodeAt(i);
  const negative = c === 45;
  if (negative) c = s.charCodeAt(++i);
  let value = 0;
  if (c === 48) {
    c = s.charCodeAt(++i);
  } else if (c >= 49 && c <= 57) {
    do {
      value = value * 10 + (c - 48);
      c = s.charCodeAt(++i);
    } while (c >= 48 && c <= 57);
  } else {
    return fail("Expecting value", start);
  }
  const intEnd = i;
  let isFloat = false;
  if (c === 46) {
    const d = s.charCodeAt(i + 1);
    if (d >= 48 && d <= 57) {
      isFloat = true;
      i += 2;
      c = s.charCodeAt(i);
      while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
    }
  }
  if (c === 101 || c === 69) {
    let j = i + 1;
    let d = s.charCodeAt(j);
    if (d === 43 || d === 45) d = s.charCodeAt(++j);
    if (d >= 48 && d <= 57) {
      isFloat = true;
      do d = s.charCodeAt(++j);
      while (d >= 48 && d <= 57);
      i = j;
    }
  }
  at = i;
  if (isFloat) {
    const f = Number(s.slice(start, i));
    return Number.isInteger(f) ? new PyFloat(f) : f;
  }
  const digits = intEnd - start - (negative ? 1 : 0);
  if (digits <= 15) return negative ? 0 - value : value; // exact; `0 - 0` keeps `-0` out
  const lexeme = s.slice(start, intEnd);
  const n = Number(lexeme);
  return Number.isSafeInteger(n) ? n : BigInt(lexeme);
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** `\"  \\  \/  \b  \f  \n  \r  \t` by the character after the backslash. */
const NAMED_ESCAPES: (string | undefined)[] = [];
for (const [ch, value] of Object.entries({
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
})) {
  NAMED_ESCAPES[ch.charCodeAt(0)] = value;
}

function parseString(): string {
  const s = src;
  const len = s.length;
  const quote = at;
  let i = at + 1;
  let chunk = i;
  let out = "";
  for (;;) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 34 && c !== 92) {
      i++;
      continue;
    }
    if (c === 34) {
      at = i + 1;
      return chunk === quote + 1 ? s.slice(chunk, i) : out + s.slice(chunk, i);
    }
    if (c !== 92) {
      // end of input (NaN) or a raw control character
      return i >= len
        ? fail("Unterminated string starting at", quote)
        : fail("Invalid control character at", i);
    }
    out += s.slice(chunk, i);
    if (i + 1 >= len) return fail("Unterminated string starting at", quote);
    const e = s.charCodeAt(i + 1);
    if (e === 117) {
      // \uXXXX. Surrogates are kept as UTF-16 units: a high+low pair becomes the astral
      // character Python would join, and a lone one stays lone, as Python allows.
      if (i + 6 >= len) return fail("Invalid \\uXXXX escape", i + 1);
      const h1 = hexDigit(s.charCodeAt(i + 2));
      const h2 = hexDigit(s.charCodeAt(i + 3));
      const h3 = hexDigit(s.charCodeAt(i + 4));
      const h4 = hexDigit(s.charCodeAt(i + 5));
      if ((h1 | h2 | h3 | h4) < 0) return fail("Invalid \\uXXXX escape", i + 1);
      out += String.fromCharCode((h1 << 12) | (h2 << 8) | (h3 << 4) | h4);
      i += 6;
      chunk = i;
      continue;
    }
    const named = e < 128 ? NAMED_ESCAPES[e] : undefined;
    if (named === undefined) return fail("Invalid \\escape", i);
    out += named;
    i += 2;
    chunk = i;
  }
}

// Recently seen object keys. Reusing the same (already internalized) string for a repeated key
// saves the slice and V8's string-table lookup on every property store.
const KEY_CACHE_SIZE = 1024;
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);

/** Like `parseString` for an object key, returning a cached string for keys without escapes. */
function parseKey(): string {
  const s = src;
  const start = at + 1;
  let i = start;
  let c = s.charCodeAt(i);
  while (c >= 0x20 && c !== 34 && c !== 92) c = s.charCodeAt(++i);
  const len = i - start;
  if (c !== 34 || len > 32) return parseString();
  const slot = (len * 31 + s.charCodeAt(start) * 7 + s.charCodeAt(i - 1)) & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  at = i + 1;
  if (cached !== undefined && cached.length === len && s.startsWith(cached, start)) return cached;
  const key = s.slice(start, i);
  keyCache[slot] = key;
  return key;
}

function parseArray(): PyValue[] {
  const open = at;
  if (++depth > MAX_JSON_DEPTH) fail("Maximum nesting depth exceeded", open);
  at++;
  const arr: PyValue[] = [];
  skipWs();
  if (src.charCodeAt(at) === 93) {
    at++;
    depth--;
    return arr;
  }
  for (;;) {
    arr.push(parseValue());
    skipWs();
    const c = src.charCodeAt(at);
    if (c === 93) {
      at++;
      depth--;
      return arr;
    }
    if (c !== 44) fail("Expecting ',' delimiter", at);
    at++;
    skipWs();
  }
}

function parseObject(): PyObject {
  const open = at;
  if (++depth > MAX_JSON_DEPTH) fail("Maximum nesting depth exceeded", open);
  at++;
  const obj: PyObject = {};
  skipWs();
  if (src.charCodeAt(at) === 125) {
    at++;
    depth--;
    return obj;
  }
  // Source key order, tracked only once an integer-like key shows up: before that, JavaScript's
  // own enumeration order is the insertion order.
  let order: string[] | undefined;
  for (;;) {
    if (src.charCodeAt(at) !== 34) fail("Expecting property name enclosed in double quotes", at);
    const key = parseKey();
    skipWs();
    if (src.charCodeAt(at) !== 58) fail("Expecting ':' delimiter", at);
    at++;
    skipWs();
    const value = parseValue();
    if (order !== undefined) {
      if (!Object.hasOwn(obj, key)) order.push(key);
    } else {
      const k0 = key.charCodeAt(0);
      if (k0 >= 48 && k0 <= 57 && isIntegerLikeKey(key)) {
        order = Object.keys(obj);
        order.push(key);
      }
    }
    if (key === "__proto__") setOwn(obj, key, value);
    else obj[key] = value;
    skipWs();
    const c = src.charCodeAt(at);
    if (c === 125) {
      at++;
      break;
    }
    if (c !== 44) fail("Expecting ',' delimiter", at);
    at++;
    skipWs();
  }
  if (order !== undefined) rememberKeyOrder(obj, order);
  depth--;
  return obj;
}
