/**
 * Python `re` patterns (CPython 3.11 syntax) translated to JavaScript RegExps with `re.fullmatch`
 * semantics, for the `pattern` constraint of action parameters.
 *
 * `pyregex-parser.ts` ports `re._parser` (same tokeniser, checks, error texts and positions; the
 * `re._compiler` look-behind checks are below), producing an AST that is emitted here as a JS
 * regex with the `u` flag. (Not `v`: V8 11.x, i.e. Node 20, mis-matches some `v`-mode classes.)
 * - every literal is written as `\u{...}`, so nothing is misread by JS syntax; lengths and
 *   quantifiers count code points;
 * - `\d` = `\p{Nd}` (Python: `str.isdecimal()`); `\w` = `[\p{L}\p{N}_]` (Python: `str.isalnum()`
 *   or `_`); `\s` = Python's `str.isspace()` set (includes U+001C–U+001F, excludes U+FEFF). These
 *   equal CPython's sets on every code point assigned in CPython 3.11's Unicode 14 (tested); code
 *   points assigned later (V8 knows a newer Unicode) may differ. `\b`/`\B` are lookarounds over
 *   that `\w` (`\B` never matches the empty string, as in 3.11). Under `(?a)` all are ASCII;
 * - `.` is `[^\n]` (any code point under `(?s)`); `^`, `$`, `\A`, `\Z` follow Python, including
 *   `$` matching before a final `\n` and MULTILINE forms that only know `\n` as a line break;
 * - `(?x)` verbose patterns, scoped `(?s:...)`, `(?m:...)`, `(?x:...)`, `(?a:...)`, named groups and
 *   backreferences, lookarounds, `(?#...)`, lazy quantifiers and `{,n}` are supported.
 *
 * Python-valid patterns rejected with an "unsupported" PyRegexError (raised only when Python
 * itself accepts the pattern; invalid patterns get Python's error): possessive quantifiers, atomic
 * groups, conditionals `(?(1)a|b)`, `\N{...}`, the `(?t)` flag, an IGNORECASE flag that is scoped
 * (`(?i:...)`, `(?-i:...)`) rather than global, and backreferences to a group that might not
 * participate (inside an alternative, an optional repeat or a negative lookaround), where JS
 * matches the empty string and Python fails. A global `(?i)` uses JS `iu` (simple case folding),
 * which can differ from Python on rare characters (`(?ai)` still folds the Kelvin sign; U+0345
 * counts as `\w` under `(?i)`).
 */
import { parsePattern } from "./pyregex-parser.js";
import {
  F_A,
  F_I,
  F_M,
  F_S,
  MAXREPEAT,
  type Node,
  PyRegexError,
  type SetItem,
  type Source,
  type State,
  TYPE_FLAGS,
  width,
} from "./pyregex-syntax.js";

export { PyRegexError } from "./pyregex-syntax.js";

const SPACE =
  "\\t\\n\\v\\f\\r\\u{1c}-\\u{20}\\u{85}\\u{a0}\\u{1680}\\u{2000}-\\u{200a}\\u{2028}\\u{2029}\\u{202f}\\u{205f}\\u{3000}";
/** Class-body fragments for `\d`, `\w`, `\s`: [unicode, ascii]. */
const CATS: Record<string, [string, string]> = {
  d: ["\\p{Nd}", "0-9"],
  w: ["\\p{L}\\p{N}_", "a-zA-Z0-9_"],
  s: [SPACE, "\\t\\n\\v\\f\\r "],
};
const lit = (cp: number): string => `\\u{${cp.toString(16)}}`;

/**
 * A Python set as JS `u`-mode syntax, which has no nested classes: a negated category (`\D`, `\W`,
 * `\S`) inside a set becomes an alternative, and a negated set holding one becomes `(?!...)[^]`.
 */
function emitSet(items: readonly SetItem[], neg: boolean, ascii: boolean): string {
  let pos = "";
  const alts: string[] = [];
  for (const it of items) {
    if (it.t === "lit") pos += lit(it.cp);
    else if (it.t === "range") pos += `${lit(it.lo)}-${lit(it.hi)}`;
    else {
      const body = CATS[it.c.toLowerCase()]![ascii ? 1 : 0];
      if (it.c === it.c.toLowerCase()) pos += body;
      else alts.push(`[^${body}]`);
    }
  }
  if (alts.length === 0) return `[${neg ? "^" : ""}${pos}]`;
  if (pos !== "") alts.unshift(`[${pos}]`);
  const union = alts.length === 1 ? alts[0]! : `(?:${alts.join("|")})`;
  return neg ? `(?!${union})[^]` : union;
}

interface Emitter {
  readonly st: State;
  readonly src: Source;
  readonly ignoreCase: boolean;
  readonly optional: Set<number>;
}

function markOptional(nodes: readonly Node[], optional: boolean, out: Set<number>): void {
  for (const n of nodes) {
    if (n.t === "rep") markOptional(n.body, optional || n.min === 0, out);
    else if (n.t === "branch") for (const a of n.alts) markOptional(a, true, out);
    else if (n.t === "assert") markOptional(n.body, optional || n.neg, out);
    else if (n.t === "group") {
      if (n.gid !== null && optional) out.add(n.gid);
      markOptional(n.body, optional, out);
    }
  }
}

/** The errors `re._compiler` raises (in its depth-first order): look-behinds must be fixed width. */
function checkLookbehinds(nodes: readonly Node[], st: State, pattern: string): void {
  for (const n of nodes) {
    if (n.t === "assert" && n.behind) {
      const [lo, hi] = width(n.body, st);
      if (lo > 0xffffffff) throw new PyRegexError("looks too much behind", pattern);
      if (lo !== hi) throw new PyRegexError("look-behind requires fixed-width pattern", pattern);
    }
    if (n.t === "branch") for (const a of n.alts) checkLookbehinds(a, st, pattern);
    else if (n.t === "rep" || n.t === "group" || n.t === "assert") checkLookbehinds(n.body, st, pattern);
  }
}

function emit(e: Emitter, nodes: readonly Node[], flags: number): string {
  let out = "";
  const ascii = (flags & F_A) !== 0;
  const word = `[${CATS["w"]![ascii ? 1 : 0]}]`;
  for (const n of nodes) {
    switch (n.t) {
      case "lit":
        out += lit(n.cp);
        break;
      case "any":
        out += flags & F_S ? "[^]" : "[^\\n]";
        break;
      case "in": {
        out += emitSet(n.items, n.neg, ascii);
        break;
      }
      case "at": {
        const multi = (flags & F_M) !== 0;
        const table: Record<string, string> = {
          "^": multi ? "(?<![^\\n])" : "^",
          $: multi ? "(?=\\n|$)" : "(?=\\n?$)",
          A: "^",
          Z: "$",
          b: `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))`,
          B: `(?!^$)(?:(?<=${word})(?=${word})|(?<!${word})(?!${word}))`,
        };
        out += table[n.at]!;
        break;
      }
      case "rep": {
        const q =
          n.max === MAXREPEAT
            ? n.min === 0
              ? "*"
              : n.min === 1
                ? "+"
                : `{${n.min},}`
            : n.min === n.max
              ? `{${n.min}}`
              : n.min === 0 && n.max === 1
                ? "?"
                : `{${n.min},${n.max}}`;
        const body = emit(e, n.body, flags);
        const atom =
          n.body.length === 1 && ["lit", "in", "any"].includes(n.body[0]!.t) && !body.startsWith("(?!");
        out += `${atom ? body : `(?:${body})`}${q}${n.lazy ? "?" : ""}`;
        break;
      }
      case "group": {
        let f = flags;
        if (n.add & TYPE_FLAGS) f &= ~TYPE_FLAGS;
        f = (f | n.add) & ~n.del;
        if (((f & F_I) !== 0) !== e.ignoreCase) throw e.src.unsupported("a scoped IGNORECASE flag");
        out += `(${n.gid === null ? "?:" : ""}${emit(e, n.body, f)})`;
        break;
      }
      case "branch":
        out += `(?:${n.alts.map((a) => emit(e, a, flags)).join("|")})`;
        break;
      case "assert": {
        out += `(?${n.behind ? "<" : ""}${n.neg ? "!" : "="}${emit(e, n.body, flags)})`;
        break;
      }
      case "ref":
        if (e.optional.has(n.gid)) throw e.src.unsupported(`a backreference to optional group ${n.gid}`);
        out += `(?:\\${n.gid})`;
        break;
    }
  }
  return out;
}

export interface PyRegex {
  /** The Python pattern. */
  readonly pattern: string;
  /** The JavaScript regex source (anchored for `re.fullmatch`). */
  readonly source: string;
  /** The JavaScript regex flags (`u`, plus `i` for a global `(?i)`). */
  readonly flags: string;
  /** Python `re.fullmatch(pattern, value) is not None`. */
  test(value: string): boolean;
}

function translate(pattern: string): PyRegex {
  const { tree, st, src } = parsePattern(pattern);
  checkLookbehinds(tree, st, pattern);
  if (st.unsupported !== null) throw st.unsupported;
  const optional = new Set<number>();
  markOptional(tree, false, optional);
  const ignoreCase = (st.flags & F_I) !== 0;
  const source = `^(?:${emit({ st, src, ignoreCase, optional }, tree, st.flags)})$`;
  const flags = ignoreCase ? "iu" : "u";
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch (err) {
    throw new PyRegexError(`internal translation error: ${(err as Error).message}`, pattern);
  }
  return { pattern, source, flags, test: (value: string) => re.test(value) };
}

const CACHE_LIMIT = 512;
const cache = new Map<string, PyRegex>();

/** Compiles a Python `re` pattern for `re.fullmatch` tests. Throws {@link PyRegexError}. */
export function compilePythonRegex(pattern: string): PyRegex {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const compiled = translate(pattern);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(pattern, compiled);
  return compiled;
}
