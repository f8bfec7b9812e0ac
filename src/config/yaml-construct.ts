/**
 * PyYAML's composer and SafeConstructor over the `yaml` package's node tree: anchors and aliases
 * (duplicate anchors and undefined aliases are errors, recursion and alias bombs are refused),
 * explicit tags, merge keys, duplicate keys (last wins, first position kept) and non-string keys.
 */
import {
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
  type Node as YNode,
} from "yaml";
import { pyRepr } from "../core/pyformat.js";
import { type PyObject, type PyScalar, type PyValue, rememberKeyOrder, setOwn } from "../core/pyvalue.js";
import type { Fail } from "./yaml-parse.js";
import {
  constructScalarTag,
  describeKey,
  type ImplicitTag,
  keyIdentity,
  resolveImplicit,
  ScalarError,
} from "./yaml-scalars.js";

/**
 * Non-enumerable property of a loaded mapping whose source had non-string keys (`on: 1`, `1: x`,
 * `~: x`): maps the key as it appears in the object (Python `str()` of the key) to its Python type
 * name (`bool`, `int`, `float`, `NoneType`, `date`, `datetime`).
 */
export const PY_NON_STRING_KEYS: unique symbol = Symbol.for("agent-safe.pyNonStringKeys");

/** Nodes that aliases (and merges of aliases) may add on top of the literal document. */
const MAX_ALIAS_EXPANSION = 100_000;
/**
 * Collections nested deeper are refused. PyYAML's own limit is Python's recursion limit, which it
 * reaches at 491 (block) to 494 (flow) levels; this also keeps the `yaml` package off its stack limit.
 */
const MAX_DEPTH = 491;

const TAG = "tag:yaml.org,2002:";
const SCALAR_TAGS: Record<string, "bool" | "float" | "int" | "null" | "timestamp"> = {
  [`${TAG}bool`]: "bool",
  [`${TAG}float`]: "float",
  [`${TAG}int`]: "int",
  [`${TAG}null`]: "null",
  [`${TAG}timestamp`]: "timestamp",
};
const ANCHOR_NAME = /^[0-9A-Za-z_-]+$/;

/** One mapping entry, with the offsets `locate` / `locateKey` report. */
export interface Entry {
  id: string;
  key: PyScalar;
  value: PyValue;
  size: number;
  keyOffset: number;
  valueOffset: number;
}

function kindOf(node: YNode): string {
  return isMap(node) ? "mapping" : isSeq(node) ? "sequence" : "scalar";
}

export class Loader {
  private readonly anchors = new Map<string, YNode>();
  private readonly aliasTargets = new Map<Alias, YNode>();
  private readonly cache = new Map<YNode, [PyValue, number]>();
  private readonly inProgress = new Set<YNode>();
  private expansion = 0;
  readonly dicts = new WeakMap<object, Map<string, Entry>>();
  readonly lists = new WeakMap<object, number[]>();

  /** `text` is the (normalized) source the nodes' offsets refer to. */
  constructor(
    private readonly text: string,
    private readonly fail: Fail,
  ) {}

  /** PyYAML's composer pass: anchors, aliases, and their errors, in document order. */
  compose(node: YNode | null, depth = 0): void {
    if (node === null) return;
    if (isAlias(node)) {
      const target = this.anchors.get(node.source);
      if (target === undefined)
        this.fail(this.offset(node, 0), `found undefined alias ${pyRepr(node.source)}`);
      this.checkName(node.source, this.offset(node, 0), "alias");
      this.aliasTargets.set(node, target);
      return;
    }
    if (node.anchor !== undefined) {
      const offset = this.propsStart(node);
      this.checkName(node.anchor, offset, "anchor");
      if (this.anchors.has(node.anchor)) this.fail(offset, `found duplicate anchor ${pyRepr(node.anchor)}`);
      this.anchors.set(node.anchor, node);
    }
    if (!isMap(node) && !isSeq(node)) return;
    if (depth >= MAX_DEPTH)
      this.fail(this.offset(node, 0), `collections nested deeper than ${MAX_DEPTH} levels`);
    if (isMap(node)) {
      for (const pair of node.items) {
        this.compose(pair.key as YNode | null, depth + 1);
        this.compose(pair.value as YNode | null, depth + 1);
      }
    } else {
      for (const item of node.items) this.compose(item as YNode | null, depth + 1);
    }
  }

  private checkName(name: string, offset: number, what: string): void {
    if (!ANCHOR_NAME.test(name)) {
      this.fail(offset, `invalid ${what} name ${pyRepr(name)}: expected alphabetic or numeric characters`);
    }
  }

  private deref(node: YNode): YNode {
    return isAlias(node) ? this.aliasTargets.get(node)! : node;
  }

  /** The value of `node` and its size when fully expanded (for the alias-bomb guard). */
  construct(node: YNode | null): [PyValue, number] {
    if (node === null) return [null, 1];
    if (isAlias(node)) {
      const target = this.aliasTargets.get(node)!;
      if (this.inProgress.has(target)) {
        this.fail(
          this.offset(node, 0),
          `recursive alias ${pyRepr(node.source)} (a node that contains itself) is not supported`,
        );
      }
      const result = this.construct(target);
      this.expansion += result[1];
      if (this.expansion > MAX_ALIAS_EXPANSION) {
        this.fail(this.offset(node, 0), `aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes`);
      }
      return result;
    }
    const cached = this.cache.get(node);
    if (cached !== undefined) return cached;
    this.inProgress.add(node);
    let result: [PyValue, number];
    if (isMap(node)) result = this.constructMap(node as YAMLMap<YNode | null, YNode | null>);
    else if (isSeq(node)) result = this.constructSeq(node as YAMLSeq<YNode | null>);
    else result = [this.constructScalar(node as Scalar), 1];
    this.inProgress.delete(node);
    if (node.anchor !== undefined) this.cache.set(node, result);
    return result;
  }

  private offset(node: YNode | null, fallback: number): number {
    return node?.range?.[0] ?? fallback;
  }

  /**
   * Where a node's properties (`!tag`, `&anchor`) begin, which is where PyYAML's marks put a node:
   * tag and anchor errors point there. Scans back over whitespace from the node's content.
   */
  private propsStart(node: YNode): number {
    const text = this.text;
    let start = this.offset(node, 0);
    for (;;) {
      let end = start;
      while (end > 0 && " \t\r\n".includes(text[end - 1]!)) end--;
      let begin = end;
      while (begin > 0 && !" \t\r\n[]{},".includes(text[begin - 1]!)) begin--;
      if (begin === end || (text[begin] !== "!" && text[begin] !== "&")) return start;
      // a word in a comment is no property
      if (text.slice(text.lastIndexOf("\n", begin - 1) + 1, begin).includes("#")) return start;
      start = begin;
    }
  }

  private undefinedTag(node: YNode, tag: string): never {
    this.fail(this.propsStart(node), `could not determine a constructor for the tag ${pyRepr(tag)}`);
  }

  private scalarFromTag(
    node: YNode,
    tag: ImplicitTag | "bool" | "float" | "int" | "null" | "timestamp",
    text: string,
  ) {
    if (tag === "str") return text;
    if (tag === "merge" || tag === "value" || tag === "yaml") this.undefinedTag(node, `${TAG}${tag}`);
    try {
      return constructScalarTag(tag, text);
    } catch (e) {
      if (e instanceof ScalarError) this.fail(this.propsStart(node), e.message);
      throw e;
    }
  }

  private constructScalar(node: Scalar): PyScalar {
    let text = node.value === null || node.value === undefined ? "" : String(node.value);
    if (
      (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") &&
      node.range?.[1] === this.text.length &&
      !/[\r\n]$/.test(this.text) &&
      text.endsWith("\n")
    ) {
      // A block scalar whose last line ends the file without a line break: PyYAML has no final
      // line break to keep (`|` or `|+`), the `yaml` package adds one.
      text = text.slice(0, -1);
    }
    const tag = node.tag;
    if (tag === "!" || (tag === undefined && node.type === "PLAIN")) {
      return this.scalarFromTag(node, resolveImplicit(text), text);
    }
    if (tag === undefined || tag === `${TAG}str`) return text;
    const scalarTag = SCALAR_TAGS[tag];
    if (scalarTag !== undefined) return this.scalarFromTag(node, scalarTag, text);
    return this.wrongKind(node, tag);
  }

  /** Errors for a collection tag on the wrong kind of node, or an unknown tag. */
  private wrongKind(node: YNode, tag: string): never {
    const found = kindOf(node);
    const offset = this.propsStart(node);
    if (tag === `${TAG}seq`) this.fail(offset, `expected a sequence node, but found ${found}`);
    if (tag === `${TAG}map`) this.fail(offset, `expected a mapping node, but found ${found}`);
    if (tag === `${TAG}omap` || tag === `${TAG}pairs`)
      this.fail(offset, `expected a sequence, but found ${found}`);
    if (tag === `${TAG}str` || SCALAR_TAGS[tag] !== undefined) {
      this.fail(offset, `expected a scalar node, but found ${found}`);
    }
    if (tag === `${TAG}set` || tag === `${TAG}binary`) {
      this.fail(
        offset,
        `the tag ${pyRepr(tag)} is not supported (PyYAML would load a Python ${tag.slice(TAG.length)})`,
      );
    }
    return this.undefinedTag(node, tag);
  }

  /** PyYAML `construct_scalar` on a mapping: the value of its `=` key, if any. */
  private scalarText(node: YNode | null, depth = 0): string {
    if (node === null) return "";
    const n = this.deref(node);
    if (isScalar(n)) return n.value === null || n.value === undefined ? "" : String(n.value);
    if (isMap(n) && depth < MAX_DEPTH) {
      for (const pair of (n as YAMLMap<YNode | null, YNode | null>).items) {
        if (this.keyTag(pair.key) === "value") return this.scalarText(pair.value, depth + 1);
      }
    }
    return this.fail(this.offset(n, 0), `expected a scalar node, but found ${kindOf(n)}`);
  }

  private constructSeq(node: YAMLSeq<YNode | null>): [PyValue, number] {
    const tag = node.tag;
    const offsets: number[] = [];
    const out: PyValue[] = [];
    let size = 1;
    if (tag === undefined || tag === "!" || tag === `${TAG}seq`) {
      for (const item of node.items) {
        const [v, n] = this.construct(item);
        out.push(v);
        offsets.push(this.offset(item, this.offset(node, 0)));
        size += n;
      }
    } else if (tag === `${TAG}omap` || tag === `${TAG}pairs`) {
      // A list of (key, value) pairs; Python tuples become two-element arrays.
      for (const item of node.items) {
        const sub = item === null ? null : this.deref(item);
        if (sub === null || !isMap(sub)) {
          this.fail(
            this.offset(item, this.offset(node, 0)),
            `expected a mapping of length 1, but found ${sub ? kindOf(sub) : "scalar"}`,
          );
        }
        const pairs = (sub as YAMLMap<YNode | null, YNode | null>).items;
        const pair = pairs[0];
        if (pairs.length !== 1 || pair === undefined) {
          this.fail(this.offset(sub, 0), `expected a single mapping item, but found ${pairs.length} items`);
        }
        const [k, kn] = this.construct(pair.key);
        const [v, vn] = this.construct(pair.value);
        out.push([k, v]);
        offsets.push(this.offset(item, this.offset(node, 0)));
        size += 1 + kn + vn;
      }
    } else {
      return this.wrongKind(node, tag);
    }
    this.lists.set(out, offsets);
    return [out, size];
  }

  /** The implicit or explicit tag that matters for a mapping key: merge (`<<`), value (`=`), or other. */
  private keyTag(key: YNode | null): "merge" | "value" | undefined {
    if (key === null || !isScalar(key)) return undefined;
    const tag = key.tag;
    if (tag === `${TAG}merge`) return "merge";
    if (tag === `${TAG}value`) return "value";
    if (tag === "!" || (tag === undefined && key.type === "PLAIN")) {
      const resolved = resolveImplicit(
        key.value === null || key.value === undefined ? "" : String(key.value),
      );
      if (resolved === "merge" || resolved === "value") return resolved;
    }
    return undefined;
  }

  private constructMap(node: YAMLMap<YNode | null, YNode | null>): [PyValue, number] {
    const tag = node.tag;
    if (tag !== undefined && tag !== "!" && tag !== `${TAG}map`) {
      const scalarTag = tag === `${TAG}str` ? "str" : SCALAR_TAGS[tag];
      if (scalarTag !== undefined) {
        return [this.scalarFromTag(node, scalarTag, this.scalarText(node)), 1];
      }
      return this.wrongKind(node, tag);
    }
    const mapOffset = this.offset(node, 0);
    const entries = new Map<string, Entry>();
    const add = (e: Entry): void => {
      const prev = entries.get(e.id);
      if (prev === undefined) entries.set(e.id, e);
      else entries.set(e.id, { ...e, key: prev.key });
    };
    const mergeFrom = (source: YNode | null): void => {
      const [dict] = this.construct(source);
      const sourceEntries = dict !== null && typeof dict === "object" ? this.dicts.get(dict) : undefined;
      if (sourceEntries === undefined) {
        this.fail(this.offset(source, mapOffset), "expected a mapping for merging, but found scalar");
      }
      for (const e of sourceEntries.values()) add(e);
    };
    // PyYAML's flatten_mapping: merged entries first (a list merges its last mapping first), then
    // the mapping's own entries; later entries override earlier ones, keys keep their first place.
    for (const pair of node.items) {
      if (this.keyTag(pair.key) !== "merge") continue;
      const value = pair.value === null ? null : this.deref(pair.value);
      if (value !== null && isMap(value)) mergeFrom(pair.value);
      else if (value !== null && isSeq(value)) {
        const items = (value as YAMLSeq<YNode | null>).items;
        for (const item of items) {
          const sub = item === null ? null : this.deref(item);
          if (sub === null || !isMap(sub)) {
            this.fail(
              this.offset(item, this.offset(value, 0)),
              `expected a mapping for merging, but found ${sub ? kindOf(sub) : "scalar"}`,
            );
          }
        }
        for (const item of [...items].reverse()) mergeFrom(item);
      } else {
        this.fail(
          this.offset(pair.value, this.offset(pair.key, mapOffset)),
          `expected a mapping or list of mappings for merging, but found ${value ? kindOf(value) : "scalar"}`,
        );
      }
    }
    for (const pair of node.items) {
      const keyTag = this.keyTag(pair.key);
      if (keyTag === "merge") continue;
      const keyOffset = this.offset(pair.key, mapOffset);
      let key: PyValue;
      if (keyTag === "value") key = this.scalarText(pair.key);
      else [key] = this.construct(pair.key);
      if (key !== null && typeof key === "object" && (Array.isArray(key) || this.dicts.has(key))) {
        this.fail(keyOffset, "found unhashable key");
      }
      const [value, size] = this.construct(pair.value);
      const valueOffset = this.offset(pair.value, pair.key?.range?.[1] ?? keyOffset);
      add({ id: keyIdentity(key as PyScalar), key: key as PyScalar, value, size, keyOffset, valueOffset });
    }
    return this.finishMap(entries);
  }

  private finishMap(entries: Map<string, Entry>): [PyValue, number] {
    const obj: PyObject = {};
    const byText = new Map<string, Entry>();
    const order: string[] = [];
    let nonString: Map<string, string> | undefined;
    let size = 1;
    for (const e of entries.values()) {
      const { text, type } = describeKey(e.key);
      const clash = byText.get(text);
      if (clash !== undefined) {
        this.fail(
          e.keyOffset,
          `mapping keys ${pyRepr(clash.key)} and ${pyRepr(e.key)} would both be ${pyRepr(text)}`,
        );
      }
      byText.set(text, e);
      order.push(text);
      setOwn(obj, text, e.value);
      if (type !== "str") {
        nonString ??= new Map();
        nonString.set(text, type);
      }
      size += e.size;
    }
    rememberKeyOrder(obj, order);
    if (nonString !== undefined)
      Object.defineProperty(obj, PY_NON_STRING_KEYS, { value: nonString, enumerable: false });
    this.dicts.set(obj, byText);
    return [obj, size];
  }
}
