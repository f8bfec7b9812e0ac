/**
 * A faithful port of CPython 3.11 `fnmatch.fnmatchcase` (POSIX: case-sensitive, whole string).
 *
 * The pattern goes through the same steps as `fnmatch._translate`: `*` runs collapse, `?` is one
 * code point, `[...]` sets are cut into hyphen "chunks" whose empty/reversed ranges are dropped,
 * and the resulting set body is read with the rules of Python's `re` set parser. Anything CPython
 * could raise on (an `IndexError` in the chunk merging, `re.error` "bad character range") becomes
 * a {@link GlobError}; with 3.11's chunk logic none of these is reachable (fuzzing found no glob
 * that CPython rejects), so in practice every pattern compiles.
 *
 * The result is a JavaScript RegExp with the `u` and `s` flags. Every literal code point is
 * written as `\u{...}`, so no pattern character is ever interpreted by the JS regex syntax.
 * CPython's `(?>.*?fixed)` atomic groups are written as `(?=(.*?fixed))\N`, which is atomic in
 * JavaScript too (a lookahead never backtracks into), so matching stays linear-ish as in CPython.
 */

export class GlobError extends Error {
  override name = "GlobError";
}

type Elem =
  | { readonly k: "star" }
  | { readonly k: "any" }
  | { readonly k: "never" }
  | { readonly k: "lit"; readonly cp: number }
  | { readonly k: "set"; readonly neg: boolean; readonly items: readonly (readonly [number, number])[] };

const STAR: Elem = { k: "star" };

function cpOf(ch: string): number {
  return ch.codePointAt(0)!;
}

function find(arr: readonly string[], ch: string, start: number, end: number): number {
  for (let x = start; x < end; x++) if (arr[x] === ch) return x;
  return -1;
}

function escapeChunk(chunk: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of chunk) {
    if (c === "\\") out.push("\\", "\\");
    else if (c === "-") out.push("\\", "-");
    else out.push(c);
  }
  return out;
}

/** The bracket body `pat[i:j]` as the code points of the Python regex set body `fnmatch` emits. */
function setBody(pat: readonly string[], start: number, j: number): string[] {
  let i = start;
  const region = pat.slice(i, j);
  let stuff: string[];
  if (!region.includes("-")) {
    stuff = escapeChunk(region); // no hyphen: only backslashes get escaped
  } else {
    const chunks: string[][] = [];
    let k = pat[i] === "!" ? i + 2 : i + 1;
    for (;;) {
      k = find(pat, "-", k, j);
      if (k < 0) break;
      chunks.push(pat.slice(i, k));
      i = k + 1;
      k = k + 3;
    }
    const chunk = pat.slice(i, j);
    if (chunk.length > 0) chunks.push(chunk);
    else {
      const last = chunks[chunks.length - 1];
      if (last === undefined) throw new GlobError("IndexError: list index out of range");
      last.push("-");
    }
    // Remove empty ranges -- invalid in RE (CPython's loop, IndexError included).
    for (let m = chunks.length - 1; m > 0; m--) {
      const prev = chunks[m - 1]!;
      const cur = chunks[m]!;
      const a = prev[prev.length - 1];
      const b = cur[0];
      if (a === undefined || b === undefined) {
        throw new GlobError("IndexError: string index out of range (empty range chunk in glob set)");
      }
      if (cpOf(a) > cpOf(b)) {
        chunks[m - 1] = [...prev.slice(0, -1), ...cur.slice(1)];
        chunks.splice(m, 1);
      }
    }
    stuff = [];
    chunks.forEach((c, idx) => {
      if (idx > 0) stuff.push("-");
      stuff.push(...escapeChunk(c));
    });
  }
  // Escape set operations (&&, ~~ and ||).
  const out: string[] = [];
  for (const c of stuff) {
    if (c === "&" || c === "~" || c === "|") out.push("\\");
    out.push(c);
  }
  return out;
}

/** Reads a Python regex set body (as `re._parser` does) into a negation flag and code point ranges. */
function parseSet(body: readonly string[], pattern: string): Elem {
  // Tokenise as re._parser.Tokenizer does: a backslash and the next character form one token.
  const toks: string[] = [];
  for (let x = 0; x < body.length; x++) {
    const c = body[x]!;
    if (c === "\\") {
      const nxt = body[x + 1];
      if (nxt === undefined)
        throw new GlobError(`bad escape (end of pattern) in glob ${JSON.stringify(pattern)}`);
      toks.push(c + nxt);
      x++;
    } else toks.push(c);
  }
  toks.push("]"); // the closing bracket the translation appends
  let p = 0;
  const neg = toks[0] === "^";
  if (neg) p++;
  const items: [number, number][] = [];
  const code = (tok: string): number => cpOf(tok.length > 1 && tok[0] === "\\" ? tok.slice(1) : tok);
  for (;;) {
    const thisTok = toks[p++];
    if (thisTok === undefined)
      throw new GlobError(`unterminated character set in glob ${JSON.stringify(pattern)}`);
    if (thisTok === "]" && items.length > 0) {
      if (p !== toks.length) throw new GlobError(`glob set parsed ambiguously: ${JSON.stringify(pattern)}`);
      break;
    }
    const lo = code(thisTok);
    if (toks[p] === "-") {
      p++;
      const that = toks[p++];
      if (that === undefined)
        throw new GlobError(`unterminated character set in glob ${JSON.stringify(pattern)}`);
      if (that === "]") {
        if (p !== toks.length) throw new GlobError(`glob set parsed ambiguously: ${JSON.stringify(pattern)}`);
        items.push([lo, lo], [0x2d, 0x2d]);
        break;
      }
      const hi = code(that);
      if (hi < lo) {
        throw new GlobError(
          `bad character range ${thisTok}-${that} in glob ${JSON.stringify(pattern)} (CPython raises re.error)`,
        );
      }
      items.push([lo, hi]);
    } else items.push([lo, lo]);
  }
  return { k: "set", neg, items };
}

function translate(pattern: string): Elem[] {
  const pat = Array.from(pattern);
  const n = pat.length;
  const res: Elem[] = [];
  let i = 0;
  while (i < n) {
    const c = pat[i]!;
    i++;
    if (c === "*") {
      if (res.length === 0 || res[res.length - 1] !== STAR) res.push(STAR);
    } else if (c === "?") {
      res.push({ k: "any" });
    } else if (c === "[") {
      let j = i;
      if (j < n && pat[j] === "!") j++;
      if (j < n && pat[j] === "]") j++;
      while (j < n && pat[j] !== "]") j++;
      if (j >= n) {
        res.push({ k: "lit", cp: 0x5b });
        continue;
      }
      const stuff = setBody(pat, i, j);
      i = j + 1;
      if (stuff.length === 0) res.push({ k: "never" });
      else if (stuff.length === 1 && stuff[0] === "!") res.push({ k: "any" });
      else {
        if (stuff[0] === "!") stuff[0] = "^";
        else if (stuff[0] === "^" || stuff[0] === "[") stuff.unshift("\\");
        res.push(parseSet(stuff, pattern));
      }
    } else {
      res.push({ k: "lit", cp: cpOf(c) });
    }
  }
  return res;
}

function lit(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function emit(e: Elem): string {
  switch (e.k) {
    case "any":
      return ".";
    case "never":
      return "[]";
    case "lit":
      return lit(e.cp);
    case "set": {
      const body = e.items.map(([lo, hi]) => (lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`)).join("");
      return `[${e.neg ? "^" : ""}${body}]`;
    }
    case "star":
      return ".*";
  }
}

/** The JavaScript regex source (flags `su`) equivalent to CPython's `fnmatch.translate(pattern)`. */
export function globToRegExpSource(pattern: string): string {
  const inp = translate(pattern);
  let out = "^";
  let i = 0;
  const n = inp.length;
  while (i < n && inp[i] !== STAR) out += emit(inp[i++]!);
  let group = 0;
  while (i < n) {
    i++; // the STAR
    if (i === n) {
      out += ".*";
      break;
    }
    let fixed = "";
    while (i < n && inp[i] !== STAR) fixed += emit(inp[i++]!);
    if (i === n) out += `.*${fixed}`;
    else {
      group++;
      out += `(?=(.*?${fixed}))\\${group}`;
    }
  }
  return `${out}$`;
}

const CACHE_LIMIT = 1024;
const cache = new Map<string, (name: string) => boolean>();

/** Compiles a glob into a predicate with `fnmatch.fnmatchcase` semantics. Throws {@link GlobError}. */
export function compileGlob(pattern: string): (name: string) => boolean {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const re = new RegExp(globToRegExpSource(pattern), "su");
  const fn = (name: string): boolean => re.test(name);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(pattern, fn);
  return fn;
}

/** Python `fnmatch.fnmatch(name, pattern)` on POSIX (identical to `fnmatchcase`). */
export function fnmatch(name: string, pattern: string): boolean {
  return compileGlob(pattern)(name);
}

/** True when `p` contains a glob metacharacter (`*`, `?` or `[`). */
export function isGlobPattern(p: string): boolean {
  return p.includes("*") || p.includes("?") || p.includes("[");
}
