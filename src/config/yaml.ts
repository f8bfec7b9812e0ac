/**
 * YAML loading with PyYAML 6 `yaml.safe_load` semantics (YAML 1.1), as the reference implementation
 * read our files. The `yaml` package parses (with the failsafe schema, so every scalar arrives as
 * text); this module re-implements PyYAML's composer and SafeConstructor on top of that tree:
 * implicit resolution of plain scalars, explicit tags, merge keys, duplicate keys (last wins),
 * non-string keys, anchors and aliases. Where the two parsers disagree on what is valid YAML
 * (tabs, non-printable characters, anchor names, directives, a leading `...`, key-less `: x`, ...)
 * it follows PyYAML.
 *
 * Known divergences (each has a vector in test/config/yaml.test.ts), all of them errors here:
 * `!!binary` and `!!set`; keys whose Python `str()` collide (`1` and `'1'`); recursive aliases;
 * `*alias:` / `&anchor:` without a space; quoted scalars and flow collections whose continuation
 * lines are not indented past the enclosing block; a block scalar header in column 0 as a mapping
 * value; `?` inside a plain scalar in a flow collection (`[?x]` is `[{x: None}]` for PyYAML); `-`
 * alone in a flow sequence; raw U+2028 / U+2029. Also `|2` block scalars made only of blank lines
 * lose their spaces, and `!!omap` / `!!pairs` give arrays of [key, value] arrays (Python tuples).
 */
import type { PyValue } from "../core/pyvalue.js";
import { Loader, PY_NON_STRING_KEYS } from "./yaml-construct.js";
import { type Fail, LineIndex, parseSingle, readText } from "./yaml-parse.js";

export { PY_NON_STRING_KEYS } from "./yaml-construct.js";

export interface YamlPosition {
  line: number;
  column: number;
}

export class YamlError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
    this.name = "YamlError";
  }
}

export interface YamlDocument {
  /** the loaded value; null for an empty file (PyYAML loads an empty file as None) */
  value: PyValue;
  /** Position of the node at `path` (keys and sequence indexes). If the exact path does not exist, the position of the deepest existing ancestor. Path [] = document root. */
  locate(path: readonly (string | number)[]): YamlPosition;
  /** Position of the KEY node for a mapping entry at `path` (last element is the key), falling back to locate(path). Used to point at unknown keys. */
  locateKey(path: readonly (string | number)[]): YamlPosition;
}

/** The non-string keys of a loaded mapping (see `PY_NON_STRING_KEYS`), if it had any. */
export function nonStringKeys(obj: object): Map<string, string> | undefined {
  return (obj as { [PY_NON_STRING_KEYS]?: Map<string, string> })[PY_NON_STRING_KEYS];
}

export function loadYaml(text: string, file: string): YamlDocument {
  // The `yaml` package mis-indents a block collection after a byte order mark; PyYAML skips the
  // mark and does not count it as a column.
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  const lines = new LineIndex(body);
  const fail: Fail = (offset, detail) => {
    const { line, column } = lines.position(offset);
    throw new YamlError(file, line, column, detail);
  };
  const source = readText(body, fail);
  const loader = new Loader(source, fail);
  let root: ReturnType<typeof parseSingle>;
  let value: PyValue;
  try {
    root = parseSingle(source, fail);
    loader.compose(root);
    [value] = loader.construct(root);
  } catch (e) {
    // Nesting deep enough to exhaust the stack inside the `yaml` package itself.
    if (e instanceof RangeError) fail(0, `document too deeply nested (${e.message})`);
    throw e;
  }
  const rootOffset = root?.range?.[0] ?? 0;

  /** Offset of the value at `path` (or of its key), stopping at the deepest existing node. */
  const find = (path: readonly (string | number)[], wantKey: boolean): number => {
    let current: PyValue = value;
    let offset = rootOffset;
    for (let i = 0; i < path.length; i++) {
      const step = path[i]!;
      if (current === null || typeof current !== "object") break;
      if (Array.isArray(current)) {
        const index = typeof step === "number" ? step : /^[0-9]+$/.test(step) ? Number(step) : -1;
        const at = loader.lists.get(current)?.[index];
        if (at === undefined) break;
        offset = at;
        current = current[index] as PyValue;
      } else {
        const entry = loader.dicts.get(current)?.get(String(step));
        if (entry === undefined) break;
        if (wantKey && i === path.length - 1) return entry.keyOffset;
        offset = entry.valueOffset;
        current = entry.value;
      }
    }
    return offset;
  };
  return {
    value,
    locate: (path) => lines.position(find(path, false)),
    locateKey: (path) => lines.position(find(path, true)),
  };
}
