/**
 * A port of CPython 3.11 `re._parser` (`_parse_sub`, `_parse`, `_escape`, `_class_escape`,
 * `_parse_flags`): same checks, same order, same error texts and positions. Constructs the
 * translation cannot express faithfully in JavaScript raise "unsupported" PyRegexErrors.
 */
import { pyStrRepr } from "./pyformat.js";
import {
  cpLen,
  ESCAPES,
  F_A,
  F_T,
  F_U,
  F_X,
  flagOf,
  IDENT,
  isDigit,
  isHex,
  isOct,
  MAXGROUPS,
  MAXREPEAT,
  type Node,
  PyRegexError,
  type SetItem,
  Source,
  SPECIAL,
  State,
  TYPE_FLAGS,
  width,
} from "./pyregex-syntax.js";

/** `_class_escape` (inside a set) and `_escape` (elsewhere). */
function parseEscape(src: Source, esc: string, st: State, inClass: boolean): Node | SetItem {
  const c = esc.slice(1);
  if ("dDsSwW".includes(c))
    return inClass ? { t: "cat", c } : { t: "in", neg: false, items: [{ t: "cat", c }] };
  if (!inClass && "AbBZ".includes(c)) return { t: "at", at: c };
  const simple = ESCAPES[c];
  if (simple !== undefined) return { t: "lit", cp: simple };
  const hexDigits = c === "x" ? 2 : c === "u" ? 4 : c === "U" ? 8 : 0;
  if (hexDigits > 0) {
    const full = esc + src.getwhile(hexDigits, isHex);
    if (full.length !== hexDigits + 2) throw src.error(`incomplete escape ${full}`, full.length);
    const cp = Number.parseInt(full.slice(2), 16);
    if (cp > 0x10ffff) throw src.error(`bad escape ${full}`, full.length);
    return { t: "lit", cp };
  }
  if (c === "N") {
    if (!src.match("{")) throw src.error("missing {");
    const start = src.tell();
    const name = src.getuntil("}", "character name");
    if (!/^[A-Za-z0-9 -]+$/.test(name)) {
      throw src.error(`undefined character name ${pyStrRepr(name)}`, cpLen(name) + 4);
    }
    st.defer(new PyRegexError(UNSUPPORTED + "named escapes \\N{...}", src.pattern, start - 3));
    return { t: "lit", cp: 0xfffd };
  }
  if (inClass && isOct(c)) {
    const full = esc + src.getwhile(2, isOct);
    const cp = Number.parseInt(full.slice(1), 8);
    if (cp > 0o377) throw src.error(`octal escape value ${full} outside of range 0-0o377`, full.length);
    return { t: "lit", cp };
  }
  if (!inClass && c === "0")
    return { t: "lit", cp: Number.parseInt((esc + src.getwhile(2, isOct)).slice(1), 8) };
  if (!inClass && isDigit(c)) {
    let full = esc;
    if (isDigit(src.next)) {
      full += src.get();
      if (isOct(full[1]!) && isOct(full[2]!) && isOct(src.next)) {
        full += src.get();
        const cp = Number.parseInt(full.slice(1), 8);
        if (cp > 0o377) throw src.error(`octal escape value ${full} outside of range 0-0o377`, full.length);
        return { t: "lit", cp };
      }
    }
    const gid = Number.parseInt(full.slice(1), 10);
    if (gid < st.widths.length) {
      if (!st.checkgroup(gid)) throw src.error("cannot refer to an open group", full.length);
      st.checkLookbehind(gid, src);
      return { t: "ref", gid };
    }
    throw src.error(`invalid group reference ${gid}`, full.length - 1);
  }
  if (cpLen(esc) === 2 && !/^[0-9A-Za-z]$/.test(c)) return { t: "lit", cp: c.codePointAt(0)! };
  throw src.error(`bad escape ${esc}`, cpLen(esc));
}

function parseSub(src: Source, st: State, verbose: boolean, nested: number): Node[] {
  const items: Node[][] = [];
  for (;;) {
    items.push(parse(src, st, verbose, nested + 1, nested === 0 && items.length === 0));
    if (!src.match("|")) break;
    if (nested === 0) verbose = (st.flags & F_X) !== 0;
  }
  return items.length === 1 ? items[0]! : [{ t: "branch", alts: items }];
}

function parseSet(src: Source): Node {
  const here = src.tell() - 1;
  const items: SetItem[] = [];
  const neg = src.match("^");
  const item = (tok: string): SetItem =>
    tok[0] === "\\"
      ? (parseEscape(src, tok, new State(), true) as SetItem)
      : { t: "lit", cp: tok.codePointAt(0)! };
  for (;;) {
    const thisTok = src.get();
    if (thisTok === null) throw src.error("unterminated character set", src.tell() - here);
    if (thisTok === "]" && items.length > 0) break;
    const code1 = item(thisTok);
    if (!src.match("-")) {
      items.push(code1);
      continue;
    }
    const that = src.get();
    if (that === null) throw src.error("unterminated character set", src.tell() - here);
    if (that === "]") {
      items.push(code1, { t: "lit", cp: 0x2d });
      break;
    }
    const code2 = item(that);
    const bad = `bad character range ${thisTok}-${that}`;
    if (code1.t !== "lit" || code2.t !== "lit" || code2.cp < code1.cp) {
      throw src.error(bad, cpLen(thisTok) + 1 + cpLen(that));
    }
    items.push({ t: "range", lo: code1.cp, hi: code2.cp });
  }
  return { t: "in", neg, items };
}

function parseRepeat(src: Source, st: State, sub: Node[], thisTok: string): boolean {
  const here = src.tell();
  let min = 0;
  let max = MAXREPEAT;
  if (thisTok === "?") max = 1;
  else if (thisTok === "+") min = 1;
  else if (thisTok === "{") {
    if (src.next === "}") return false;
    let lo = "";
    let hi = "";
    while (isDigit(src.next)) lo += src.get();
    if (src.match(",")) while (isDigit(src.next)) hi += src.get();
    else hi = lo;
    if (!src.match("}")) {
      src.seek(here);
      return false;
    }
    if (lo) min = Number(lo);
    if (hi) max = Number(hi);
    if (min >= MAXREPEAT || (hi && max >= MAXREPEAT)) {
      throw new PyRegexError("the repetition number is too large", src.pattern);
    }
    if (hi && max < min) throw src.error("min repeat greater than max repeat", src.tell() - here);
  }
  const last = sub[sub.length - 1];
  if (last === undefined || last.t === "at")
    throw src.error("nothing to repeat", src.tell() - here + thisTok.length);
  if (last.t === "rep") throw src.error("multiple repeat", src.tell() - here + thisTok.length);
  const body = last.t === "group" && last.gid === null && !last.add && !last.del ? last.body : [last];
  const lazy = src.match("?");
  if (!lazy && src.match("+")) st.defer(src.unsupported("possessive quantifiers"));
  sub[sub.length - 1] = { t: "rep", min, max, lazy, body };
  return true;
}

function parseFlags(src: Source, st: State, first: string): [number, number] | null {
  let add = 0;
  let del = 0;
  let ch: string | null = first;
  if (ch !== "-") {
    for (;;) {
      const flag = flagOf(ch)!;
      if (ch === "L") throw src.error("bad inline flags: cannot use 'L' flag with a str pattern");
      add |= flag;
      if (flag & TYPE_FLAGS && (add & TYPE_FLAGS) !== flag) {
        throw src.error("bad inline flags: flags 'a', 'u' and 'L' are incompatible");
      }
      ch = src.get();
      if (ch === null) throw src.error("missing -, : or )");
      if (ch === ")" || ch === "-" || ch === ":") break;
      if (flagOf(ch) === undefined)
        throw src.error(/^\p{L}+$/u.test(ch) ? "unknown flag" : "missing -, : or )", cpLen(ch));
    }
  }
  if (ch === ")") {
    st.flags |= add;
    return null;
  }
  if (add & F_T) throw src.error("bad inline flags: cannot turn on global flag", 1);
  if (ch === "-") {
    ch = src.get();
    if (ch === null) throw src.error("missing flag");
    if (flagOf(ch) === undefined)
      throw src.error(/^\p{L}+$/u.test(ch) ? "unknown flag" : "missing flag", cpLen(ch));
    for (;;) {
      const flag = flagOf(ch)!;
      if (flag & TYPE_FLAGS) throw src.error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'");
      del |= flag;
      ch = src.get();
      if (ch === null) throw src.error("missing :");
      if (ch === ":") break;
      if (flagOf(ch) === undefined)
        throw src.error(/^\p{L}+$/u.test(ch) ? "unknown flag" : "missing :", cpLen(ch));
    }
  }
  if (del & F_T) throw src.error("bad inline flags: cannot turn off global flag", 1);
  if (add & del) throw src.error("bad inline flags: flag turned on and off", 1);
  return [add, del];
}

const UNSUPPORTED = "unsupported in this Python-regex translation: ";

const ND = /^\p{Nd}$/u;

/** Python's `int(text)` for a conditional group reference; null when Python raises ValueError. */
function pyInt(text: string): number | null {
  const m = /^[\s\x1c-\x1f]*([+-]?)(\p{Nd}+(?:_\p{Nd}+)*)[\s\x1c-\x1f]*$/u.exec(text);
  if (m === null) return null;
  let n = 0;
  for (const d of m[2]!.replaceAll("_", "")) {
    // Decimal digits come in runs of ten starting at a zero.
    const cp = d.codePointAt(0)!;
    let k = 0;
    while (ND.test(String.fromCodePoint(cp - k - 1))) k++;
    n = n * 10 + (k % 10);
  }
  return m[1] === "-" ? -n : n;
}

/** `(?(id/name)yes|no)`, parsed as Python does; the translation itself rejects it. */
function parseConditional(src: Source, st: State, verbose: boolean, nested: number, start: number): Node {
  const here = src.tell() - 2;
  const condname = src.getuntil(")", "group name");
  let gid: number | undefined;
  if (IDENT.test(condname)) {
    gid = st.names.get(condname);
    if (gid === undefined) throw src.error(`unknown group name ${pyStrRepr(condname)}`, cpLen(condname) + 1);
  } else {
    const n = pyInt(condname);
    if (n === null || n < 0) {
      throw src.error(`bad character in group name ${pyStrRepr(condname)}`, cpLen(condname) + 1);
    }
    if (n === 0) throw src.error("bad group number", cpLen(condname) + 1);
    if (n >= MAXGROUPS) throw src.error(`invalid group reference ${n}`, cpLen(condname) + 1);
    if (!st.condRefs.has(n)) st.condRefs.set(n, src.tell() - cpLen(condname) - 1);
    gid = n;
  }
  st.checkLookbehind(gid, src);
  st.defer(new PyRegexError(`${UNSUPPORTED}conditional groups (?(...)...)`, src.pattern, here));
  const yes = parse(src, st, verbose, nested + 1, false);
  let no: Node[] = [];
  if (src.match("|")) {
    no = parse(src, st, verbose, nested + 1, false);
    if (src.next === "|") throw src.error("conditional backref with more than two branches");
  }
  if (!src.match(")")) throw src.error("missing ), unterminated subpattern", src.tell() - start);
  return { t: "group", gid: null, add: 0, del: 0, body: [{ t: "branch", alts: [yes, no] }] };
}

function parseGroup(
  src: Source,
  st: State,
  sub: Node[],
  verbose: boolean,
  nested: number,
  first: boolean,
): boolean {
  const start = src.tell() - 1;
  let capture = true;
  let name: string | null = null;
  let flags: [number, number] = [0, 0];
  const close = (): void => {
    if (!src.match(")")) throw src.error("missing ), unterminated subpattern", src.tell() - start);
  };
  if (src.match("?")) {
    const ch = src.get();
    if (ch === null) throw src.error("unexpected end of pattern");
    if (ch === "P") {
      if (src.match("<")) {
        name = src.getuntil(">", "group name");
        src.checkName(name, 1);
      } else if (src.match("=")) {
        const ref = src.getuntil(")", "group name");
        src.checkName(ref, 1);
        const gid = st.names.get(ref);
        if (gid === undefined) throw src.error(`unknown group name ${pyStrRepr(ref)}`, cpLen(ref) + 1);
        if (!st.checkgroup(gid)) throw src.error("cannot refer to an open group", cpLen(ref) + 1);
        st.checkLookbehind(gid, src);
        sub.push({ t: "ref", gid });
        return true;
      } else {
        const c2 = src.get();
        if (c2 === null) throw src.error("unexpected end of pattern");
        throw src.error(`unknown extension ?P${c2}`, cpLen(c2) + 2);
      }
    } else if (ch === ":") capture = false;
    else if (ch === "#") {
      for (;;) {
        if (src.next === null) throw src.error("missing ), unterminated comment", src.tell() - start);
        if (src.get() === ")") return true;
      }
    } else if (ch === "=" || ch === "!" || ch === "<") {
      let kind = ch;
      const saved = st.lookbehind;
      if (ch === "<") {
        const c2 = src.get();
        if (c2 === null) throw src.error("unexpected end of pattern");
        if (c2 !== "=" && c2 !== "!") throw src.error(`unknown extension ?<${c2}`, cpLen(c2) + 2);
        kind = c2;
        if (saved === null) st.lookbehind = st.widths.length;
      }
      const body = parseSub(src, st, verbose, nested + 1);
      if (ch === "<" && saved === null) st.lookbehind = null;
      close();
      sub.push({ t: "assert", neg: kind === "!", behind: ch === "<", body });
      return true;
    } else if (ch === "(") {
      sub.push(parseConditional(src, st, verbose, nested, start));
      return true;
    } else if (ch === ">") {
      st.defer(src.unsupported("atomic groups (?>...)"));
      capture = false;
    } else if (flagOf(ch) !== undefined || ch === "-") {
      const f = parseFlags(src, st, ch);
      if (f === null) {
        if (!first || sub.length > 0) {
          throw src.error("global flags not at the start of the expression", src.tell() - start);
        }
        return false; // verbose may have changed: the caller re-reads it
      }
      flags = f;
      capture = false;
    } else throw src.error(`unknown extension ?${ch}`, cpLen(ch) + 1);
  }
  let gid: number | null = null;
  if (capture) {
    gid = st.widths.length;
    st.widths.push(null);
    if (name !== null) {
      const old = st.names.get(name);
      if (old !== undefined) {
        throw src.error(
          `redefinition of group name ${pyStrRepr(name)} as group ${gid}; was group ${old}`,
          cpLen(name) + 1,
        );
      }
      st.names.set(name, gid);
    }
  }
  const subVerbose = (verbose || (flags[0] & F_X) !== 0) && !(flags[1] & F_X);
  const body = parseSub(src, st, subVerbose, nested + 1);
  close();
  if (gid !== null) st.widths[gid] = width(body, st);
  sub.push({ t: "group", gid, add: flags[0], del: flags[1], body });
  return true;
}

function parse(src: Source, st: State, verbose: boolean, nested: number, first: boolean): Node[] {
  const sub: Node[] = [];
  for (;;) {
    const thisTok = src.next;
    if (thisTok === null || thisTok === "|" || thisTok === ")") break;
    src.get();
    if (verbose) {
      if (" \t\n\r\v\f".includes(thisTok)) continue;
      if (thisTok === "#") {
        for (let c = src.get(); c !== null && c !== "\n"; c = src.get());
        continue;
      }
    }
    if (thisTok[0] === "\\") sub.push(parseEscape(src, thisTok, st, false) as Node);
    else if (!SPECIAL.includes(thisTok)) sub.push({ t: "lit", cp: thisTok.codePointAt(0)! });
    else if (thisTok === "[") sub.push(parseSet(src));
    else if ("*+?{".includes(thisTok)) {
      if (!parseRepeat(src, st, sub, thisTok)) sub.push({ t: "lit", cp: 0x7b });
    } else if (thisTok === ".") sub.push({ t: "any" });
    else if (thisTok === "(") {
      if (!parseGroup(src, st, sub, verbose, nested, first)) verbose = (st.flags & F_X) !== 0;
    } else sub.push({ t: "at", at: thisTok });
  }
  return sub;
}

/** Parses a pattern as `re._parser.parse(pattern)` does (a `str` pattern, no flags argument). */
export function parsePattern(pattern: string): { tree: Node[]; st: State; src: Source } {
  const src = new Source(pattern);
  const st = new State();
  const tree = parseSub(src, st, false, 0);
  if (st.flags & F_A && st.flags & F_U)
    throw new PyRegexError("ASCII and UNICODE flags are incompatible", pattern);
  if (src.next !== null) throw src.error("unbalanced parenthesis");
  for (const [gid, pos] of st.condRefs) {
    if (gid >= st.widths.length) throw new PyRegexError(`invalid group reference ${gid}`, pattern, pos);
  }
  if (st.flags & F_T) st.defer(src.unsupported("the TEMPLATE flag"));
  return { tree, st, src }; // the caller raises st.unsupported after re._compiler's own checks
}
