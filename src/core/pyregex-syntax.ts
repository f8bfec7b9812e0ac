/**
 * Building blocks of the CPython 3.11 `re` parser port used by `pyregex.ts`: the error type, the
 * tokeniser (`re._parser.Tokenizer`), the parse state and the AST with `SubPattern.getwidth()`.
 */
import { pyStrRepr } from "./pyformat.js";

export class PyRegexError extends Error {
  override name = "PyRegexError";
  constructor(
    readonly msg: string,
    readonly pattern: string,
    readonly pos: number | null = null,
  ) {
    let text = msg;
    if (pos !== null) {
      text = `${msg} at position ${pos}`;
      const cps = Array.from(pattern);
      if (cps.includes("\n")) {
        const before = cps.slice(0, pos);
        const line = before.filter((c) => c === "\n").length + 1;
        const col = pos - before.lastIndexOf("\n");
        text = `${text} (line ${line}, column ${col})`;
      }
    }
    super(text);
  }
}

export const F_T = 1;
export const F_I = 2;
export const F_L = 4;
export const F_M = 8;
export const F_S = 16;
export const F_U = 32;
export const F_X = 64;
export const F_A = 256;
export const FLAG_TABLE = new Map([
  ["i", F_I],
  ["L", F_L],
  ["m", F_M],
  ["s", F_S],
  ["x", F_X],
  ["a", F_A],
  ["t", F_T],
  ["u", F_U],
]);
export const flagOf = (c: string | null): number | undefined => (c === null ? undefined : FLAG_TABLE.get(c));
export const TYPE_FLAGS = F_A | F_L | F_U;
export const MAXREPEAT = 4294967295;
export const MAXGROUPS = 1073741823;
export const MAXWIDTH = 2 ** 64;
export const SPECIAL = ".\\[{()*+?^$|";
export const ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92 };
export const isDigit = (c: string | null): boolean => c !== null && c.length === 1 && c >= "0" && c <= "9";
export const isOct = (c: string | null): boolean => c !== null && c.length === 1 && c >= "0" && c <= "7";
export const isHex = (c: string | null): boolean => c !== null && /^[0-9a-fA-F]$/.test(c);
export const cpLen = (s: string): number => Array.from(s).length;
export const IDENT = /^[\p{XID_Start}_]\p{XID_Continue}*$/u;

export type SetItem =
  | { t: "lit"; cp: number }
  | { t: "range"; lo: number; hi: number }
  | { t: "cat"; c: string };
export type Node =
  | { t: "lit"; cp: number }
  | { t: "in"; neg: boolean; items: SetItem[] }
  | { t: "any" }
  | { t: "at"; at: string }
  | { t: "rep"; min: number; max: number; lazy: boolean; body: Node[] }
  | { t: "group"; gid: number | null; add: number; del: number; body: Node[] }
  | { t: "branch"; alts: Node[][] }
  | { t: "assert"; neg: boolean; behind: boolean; body: Node[] }
  | { t: "ref"; gid: number };

/** `re._parser.Tokenizer`: a token is one code point, or a backslash and the code point after it. */
export class Source {
  private readonly cps: string[];
  private index = 0;
  next: string | null = null;
  private nextLen = 0;
  constructor(readonly pattern: string) {
    this.cps = Array.from(pattern);
    this.advance();
  }
  private advance(): void {
    let index = this.index;
    const ch = this.cps[index];
    if (ch === undefined) {
      this.next = null;
      this.nextLen = 0;
      return;
    }
    let tok = ch;
    if (ch === "\\") {
      const c2 = this.cps[++index];
      if (c2 === undefined)
        throw new PyRegexError("bad escape (end of pattern)", this.pattern, this.cps.length - 1);
      tok += c2;
    }
    this.index = index + 1;
    this.next = tok;
    this.nextLen = tok === ch ? 1 : 2;
  }
  match(c: string): boolean {
    if (c !== this.next) return false;
    this.advance();
    return true;
  }
  get(): string | null {
    const t = this.next;
    this.advance();
    return t;
  }
  getwhile(n: number, ok: (c: string | null) => boolean): string {
    let r = "";
    for (let k = 0; k < n && ok(this.next); k++) r += this.get();
    return r;
  }
  getuntil(term: string, name: string): string {
    let r = "";
    for (;;) {
      const c = this.get();
      if (c === null) {
        if (r === "") throw this.error(`missing ${name}`);
        throw this.error(`missing ${term}, unterminated name`, cpLen(r));
      }
      if (c === term) {
        if (r === "") throw this.error(`missing ${name}`, 1);
        return r;
      }
      r += c;
    }
  }
  tell(): number {
    return this.index - this.nextLen;
  }
  seek(i: number): void {
    this.index = i;
    this.advance();
  }
  error(msg: string, offset = 0): PyRegexError {
    return new PyRegexError(msg, this.pattern, this.tell() - offset);
  }
  /** An "unsupported" error at the current position (raised only if Python accepts the pattern). */
  unsupported(what: string): PyRegexError {
    return new PyRegexError(
      `unsupported in this Python-regex translation: ${what}`,
      this.pattern,
      this.tell(),
    );
  }
  checkName(name: string, offset: number): void {
    if (!IDENT.test(name))
      throw this.error(`bad character in group name ${pyStrRepr(name)}`, cpLen(name) + offset);
  }
}

export class State {
  flags = 0;
  readonly names = new Map<string, number>();
  readonly widths: ([number, number] | null)[] = [null];
  lookbehind: number | null = null;
  /** Conditional group references, checked once the whole pattern is parsed. */
  readonly condRefs = new Map<number, number>();
  /**
   * The first construct Python accepts but the translation cannot express. Parsing goes on as
   * Python's does, so an invalid pattern still gets Python's own error; this one is raised last.
   */
  unsupported: PyRegexError | null = null;
  defer(err: PyRegexError): void {
    this.unsupported ??= err;
  }
  checkgroup(gid: number): boolean {
    return gid < this.widths.length && this.widths[gid] !== null && this.widths[gid] !== undefined;
  }
  checkLookbehind(gid: number, src: Source): void {
    if (this.lookbehind === null) return;
    if (!this.checkgroup(gid)) throw src.error("cannot refer to an open group");
    if (gid >= this.lookbehind)
      throw src.error("cannot refer to group defined in the same lookbehind subpattern");
  }
}

export function width(nodes: readonly Node[], st: State): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const n of nodes) {
    if (n.t === "branch") {
      let i = MAXWIDTH;
      let j = 0;
      for (const a of n.alts) {
        const [l, h] = width(a, st);
        i = Math.min(i, l);
        j = Math.max(j, h);
      }
      lo += i;
      hi += j;
    } else if (n.t === "group") {
      const [i, j] = width(n.body, st);
      lo += i;
      hi += j;
    } else if (n.t === "rep") {
      const [i, j] = width(n.body, st);
      lo += i * n.min;
      hi = n.max === MAXREPEAT && j ? MAXWIDTH : hi + j * n.max;
    } else if (n.t === "lit" || n.t === "in" || n.t === "any") {
      lo++;
      hi++;
    } else if (n.t === "ref") {
      const [i, j] = st.widths[n.gid] ?? [0, 0];
      lo += i;
      hi += j;
    }
  }
  return [Math.min(lo, MAXWIDTH), Math.min(hi, MAXWIDTH)];
}
