/**
 * Parsing for src/config/yaml.ts: the `yaml` package's parser and composer (failsafe schema, so
 * every scalar stays text), plus the checks that make it reject what PyYAML's reader, scanner and
 * parser reject and it would accept: non-printable characters, tabs between tokens, a key-less
 * `: x`, `|#c`, `%YAML 2.0`, a stream opening with `...`, more than one document.
 */
import { Composer, type Document, Parser, type Node as YNode } from "yaml";

/** Throws the caller's error for a problem at `offset` in the text. */
export type Fail = (offset: number, detail: string) => never;

// PyYAML's Reader rejects these outright.
const NON_PRINTABLE = /[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// PyYAML reads a lone CR and NEL exactly like LF; the `yaml` package (YAML 1.2) does not, so they
// are replaced (same length, so offsets hold). It keeps LS / PS in the text as line breaks: refused.
const LONE_CR_OR_NEL = /\r(?!\n)|\x85/g;
const ODD_LINE_BREAK = /[\u2028\u2029]/;
const YAML_DIRECTIVE = /^%YAML(?![^ \t])/;
// What PyYAML's scanner accepts as a directive line (the comment is a separate CST token).
const DIRECTIVE_NAME = /^%[0-9A-Za-z_-]+(?![^ ])/;
const YAML_DIRECTIVE_VALUE = /^%YAML +([0-9]+)\.[0-9]+ *$/;
const TAG_DIRECTIVE_VALUE = /^%TAG +!(?:[0-9A-Za-z_-]*!)? +[0-9A-Za-z\-;/?:@&=+$,_.!~*'()[\]%]+ *$/;
const SINGLE_QUOTED = /^'(?:[^']|'')*'$/;
const DOUBLE_QUOTED = /^"(?:[^"\\]|\\[\s\S])*"$/;

/** 1-based line and column (in code points, as PyYAML counts) of offsets into a text. */
export class LineIndex {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}

  position(offset: number): { line: number; column: number } {
    if (this.starts === undefined) {
      const starts = [0];
      const re = /\r\n|\r|\n|\x85/g;
      for (let m = re.exec(this.text); m !== null; m = re.exec(this.text)) starts.push(m.index + m[0].length);
      this.starts = starts;
    }
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const lineText = this.text.slice(starts[lo]!, Math.max(offset, starts[lo]!));
    let column = 1;
    for (const _ of lineText) column++;
    return { line: lo + 1, column };
  }
}

/** PyYAML's Reader: refuses non-printable characters; returns the text with CR / NEL made LF. */
export function readText(text: string, fail: Fail): string {
  const bad = NON_PRINTABLE.exec(text);
  if (bad !== null) {
    const code = bad[0].codePointAt(0)!.toString(16).padStart(4, "0");
    fail(bad.index, `unacceptable character #x${code}: special characters are not allowed`);
  }
  const odd = ODD_LINE_BREAK.exec(text);
  if (odd !== null) {
    const code = odd[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    fail(odd.index, `unsupported line break character U+${code} (use \\n)`);
  }
  return text.replace(LONE_CR_OR_NEL, "\n");
}

interface CstItem {
  start: { type: string }[];
  key?: unknown;
  value?: unknown;
  sep?: { type: string; offset: number }[];
}

const KEY_PROPS = new Set(["explicit-key-ind", "anchor", "tag"]);

interface Problem {
  offset: number;
  detail: string;
}

/**
 * Finds, in a CST token, what PyYAML's scanner and parser reject but the `yaml` package accepts.
 * `inFlow`: the token is inside a flow collection.
 */
function checkCst(token: unknown, text: string, found: Problem[], inFlow = false): void {
  if (token === null || typeof token !== "object") return;
  if (Array.isArray(token)) {
    for (const t of token) checkCst(t, text, found, inFlow);
    return;
  }
  const t = token as { type?: unknown; source?: unknown; offset?: unknown };
  if (typeof t.type === "string" && typeof t.source === "string" && typeof t.offset === "number") {
    checkSource(t.type, t.source, t.offset, inFlow, text, found);
  }
  const props = (t as { props?: unknown }).props;
  if (t.type === "block-scalar" && Array.isArray(props)) {
    // PyYAML wants a space between a block scalar header and its comment (`|#c` is an error).
    const [header, next] = props as { type: string; offset: number }[];
    if (header?.type === "block-scalar-header" && next?.type === "comment") {
      found.push({
        offset: next.offset,
        detail: "expected chomping or indentation indicators, but found '#'",
      });
    }
  }
  const items = (t as { items?: unknown }).items;
  const flow = t.type === "flow-collection";
  if ((t.type === "block-map" || flow) && Array.isArray(items)) {
    for (const item of items as CstItem[]) checkItem(item, flow, text, found);
  }
  for (const v of Object.values(t)) {
    if (v !== null && typeof v === "object") checkCst(v, text, found, inFlow || flow);
  }
}

function checkSource(
  type: string,
  source: string,
  offset: number,
  inFlow: boolean,
  text: string,
  found: Problem[],
): void {
  if (type === "directive") {
    const detail = checkDirective(source);
    if (detail !== undefined) found.push({ offset, detail });
    return;
  }
  if (type === "single-quoted-scalar" || type === "double-quoted-scalar") {
    // The `yaml` package takes `"a\"` or `'a''` at the end of the input as closed.
    if (!(type === "single-quoted-scalar" ? SINGLE_QUOTED : DOUBLE_QUOTED).test(source)) {
      const end = offset + source.length;
      found.push({
        offset: end,
        detail:
          end >= text.length
            ? "found unexpected end of stream"
            : "unterminated quoted scalar (its continuation lines must be indented more than the enclosing block)",
      });
    }
    return;
  }
  if (type === "block-scalar") {
    // PyYAML indents block scalar content by at least one space, even at the document root.
    const m = /(?:^|\n)[^ \t\r\n]/.exec(source);
    if (m !== null) {
      found.push({ offset: offset + m.index + m[0].length - 1, detail: "expected '<document start>'" });
    }
    return;
  }
  if (type === "comment") return;
  // PyYAML only skips spaces between tokens and ends plain scalars at a tab: a tab outside
  // quoted scalars, block scalar content and comments "cannot start any token".
  const tab = source.indexOf("\t");
  if (tab >= 0)
    found.push({ offset: offset + tab, detail: "found character '\\t' that cannot start any token" });
  if (type === "scalar" && inFlow) {
    // In a flow collection PyYAML ends a plain scalar at `?` (a key indicator there) and reads a
    // leading `:` as a value indicator.
    const at = source.startsWith(":") ? 0 : source.indexOf("?");
    if (at >= 0)
      found.push({ offset: offset + at, detail: `found unexpected '${source[at]}' in a flow collection` });
  }
}

function checkDirective(source: string): string | undefined {
  if (!DIRECTIVE_NAME.test(source)) return "expected alphabetic or numeric character in a directive name";
  if (YAML_DIRECTIVE.test(source)) {
    const m = YAML_DIRECTIVE_VALUE.exec(source);
    if (m === null) return "expected a YAML directive value like 1.1";
    if (m[1] !== "1") return "found incompatible YAML document (version 1.* is required)";
  } else if (/^%TAG(?![^ ])/.test(source) && !TAG_DIRECTIVE_VALUE.test(source)) {
    return "expected a TAG directive value like '!e! tag:example.com,2000:'";
  }
  return undefined;
}

function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

function checkItem(item: CstItem, flow: boolean, text: string, found: Problem[]): void {
  const indicator = item.sep?.find((s) => s.type === "map-value-ind");
  const explicit = item.start.find((s) => s.type === "explicit-key-ind") as { offset: number } | undefined;
  if (indicator === undefined) {
    // `? key` followed by a less indented scalar: the `yaml` package drops that scalar.
    const value = item.value as { offset?: unknown } | undefined;
    if (!flow && typeof value?.offset === "number") {
      found.push({ offset: value.offset, detail: "expected <block end>, but found a node" });
    }
    return;
  }
  if (!flow && explicit !== undefined) {
    // The `:` of an explicit key must sit in the column of its `?`: elsewhere PyYAML reads it as
    // starting a nested mapping without a key (`? : x`, or a more indented `:` line).
    const sameLine = !text.slice(explicit.offset, indicator.offset).includes("\n");
    if (sameLine ? item.key === null : column(text, indicator.offset) !== column(text, explicit.offset)) {
      found.push({ offset: indicator.offset, detail: "expected <block end>, but found ':'" });
    }
    return;
  }
  if (item.key === null) {
    // `: x` has no key at all; the `yaml` package reads a null key, PyYAML refuses it.
    if (explicit === undefined && !item.start.some((s) => KEY_PROPS.has(s.type))) {
      const expected = flow ? "the node content" : "<block end>";
      found.push({ offset: indicator.offset, detail: `expected ${expected}, but found ':'` });
    }
    return;
  }
  const key = item.key as { offset?: unknown } | undefined;
  if (typeof key?.offset !== "number" || explicit !== undefined) return;
  // An implicit key must end, with its `:`, on the line it starts on (and within 1024
  // characters), or PyYAML forgets it is a key.
  if (text.slice(key.offset, indicator.offset).includes("\n") || indicator.offset - key.offset > 1024) {
    found.push({
      offset: indicator.offset,
      detail: flow
        ? "expected ',' or the end of the flow collection, but got ':'"
        : "could not find expected ':'",
    });
  }
}

const COMPOSER_OPTIONS = {
  version: "1.1",
  schema: "failsafe",
  merge: false,
  uniqueKeys: false,
  prettyErrors: false,
  logLevel: "silent",
} as const;

/** Parses the single document PyYAML's `safe_load` requires; `null` for an empty stream. */
export function parseSingle(text: string, fail: Fail): YNode | null {
  const composer = new Composer(COMPOSER_OPTIONS);
  const docs: Document.Parsed[] = [];
  const problems: Problem[] = [];
  let documents = 0;
  let skipDocEnd = false;
  let secondDocument: number | undefined;
  let directive: number | undefined;
  let yamlDirectives = 0;
  for (const token of new Parser().parse(text)) {
    if (token.type === "directive") {
      directive ??= token.offset;
      if (YAML_DIRECTIVE.test(token.source) && ++yamlDirectives > 1) {
        fail(token.offset, "found duplicate YAML directive");
      }
    } else if (token.type === "document") {
      const stray =
        token.value === undefined &&
        token.start.every((s) => s.type === "space" || s.type === "newline" || s.type === "comment");
      if (stray) {
        // Only a `...` makes the parser open a document with neither `---` nor content. PyYAML
        // skips repeated `...` after a document, but a stream may not start with one.
        if (documents === 0) fail(token.offset, "expected the node content, but found '<document end>'");
        skipDocEnd = true;
        continue;
      }
      if (++documents === 2) {
        secondDocument = token.offset;
        break;
      }
    } else if (token.type === "doc-end" && skipDocEnd) {
      skipDocEnd = false;
      continue;
    }
    skipDocEnd = false;
    checkCst(token, text, problems);
    for (const doc of composer.next(token)) docs.push(doc);
  }
  for (const doc of composer.end()) docs.push(doc);
  const first = docs[0];
  // Directives must be followed by a document (`---`).
  if (first === undefined && directive !== undefined) {
    fail(text.length, "expected '<document start>', but found '<stream end>'");
  }
  const candidates = [...problems];
  // PyYAML ends a comment at `#` whether or not a space precedes it (`"a"#c`).
  const error = first?.errors.find((e) => !e.message.startsWith("Comments must be separated"));
  if (error !== undefined) candidates.push({ offset: error.pos[0], detail: error.message });
  if (candidates.length > 0) {
    const earliest = candidates.reduce((a, b) => (b.offset < a.offset ? b : a));
    fail(earliest.offset, earliest.detail);
  }
  if (secondDocument !== undefined) {
    fail(secondDocument, "expected a single document in the stream, but found another document");
  }
  return first?.contents ?? null;
}
