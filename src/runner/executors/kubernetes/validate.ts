/**
 * Parameter validation for the Kubernetes executors. Every value that reaches a kubectl argv or an API
 * path is checked here first, against Kubernetes' own rules (DNS-1123 labels and subdomains, ConfigMap
 * keys, label selectors, image references), so an injection attempt (`--kubeconfig=/x`, `; rm -rf /`,
 * `a b`) is refused before any process starts or any request is sent.
 */
import type { ActionDef } from "../../../core/types.js";
import { InvalidParameterError } from "./errors.js";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// Docker reference grammar: [domain[:port]/]path[:tag][@digest]. No whitespace, no leading '-'.
const IMAGE_REF =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

function shown(v: string): string {
  const s = v.length > 80 ? `${v.slice(0, 80)}…` : v;
  return JSON.stringify(s);
}

/** The first concrete reason a string is not a clean name, for the error message. */
function nameDefect(v: string): string | null {
  if (v === "") return "it is empty";
  if (v.startsWith("-")) return "it starts with '-' (it would be read as a command-line flag)";
  if (/\s/.test(v)) return "it contains whitespace";
  if (/[\u0000-\u001f\u007f]/.test(v)) return "it contains a control character";
  if (v.includes("=")) return "it contains '='";
  if (v.includes("/")) return "it contains '/'";
  if (/[;&|`$<>()\\'"*?!{}[\]]/.test(v)) return "it contains a shell or glob metacharacter";
  if (/[A-Z]/.test(v)) return "it contains upper-case letters";
  return null;
}

export function checkDnsLabel(param: string, v: unknown): string {
  if (typeof v !== "string") throw new InvalidParameterError(param, "expected a string");
  const defect = nameDefect(v);
  if (defect !== null || v.length > 63 || !DNS_LABEL.test(v)) {
    throw new InvalidParameterError(
      param,
      `${shown(v)} is not a valid Kubernetes name: ${defect ?? (v.length > 63 ? "longer than 63 characters" : "not a DNS-1123 label")} ` +
        "(a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    );
  }
  return v;
}

export function checkDnsSubdomain(param: string, v: unknown): string {
  if (typeof v !== "string") throw new InvalidParameterError(param, "expected a string");
  const defect = nameDefect(v);
  if (defect !== null || v.length > 253 || !DNS_SUBDOMAIN.test(v)) {
    throw new InvalidParameterError(
      param,
      `${shown(v)} is not a valid Kubernetes name: ${defect ?? (v.length > 253 ? "longer than 253 characters" : "not a DNS-1123 subdomain")} ` +
        "(a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)",
    );
  }
  return v;
}

export function checkConfigMapKey(param: string, v: unknown): string {
  if (typeof v !== "string") throw new InvalidParameterError(param, "expected a string");
  if (v === "" || v.length > 253 || !CONFIGMAP_KEY.test(v) || v === "." || v === ".." || v.startsWith("..")) {
    throw new InvalidParameterError(
      param,
      `${shown(v)} is not a valid ConfigMap key (letters, digits, '-', '_' and '.', at most 253 characters, not '.' or '..')`,
    );
  }
  return v;
}

export function checkImage(param: string, v: unknown): string {
  if (typeof v !== "string") throw new InvalidParameterError(param, "expected a string");
  if (v.length === 0 || v.length > 255 || v.startsWith("-") || !IMAGE_REF.test(v)) {
    throw new InvalidParameterError(
      param,
      `${shown(v)} is not a valid image reference ([registry[:port]/]repository[:tag][@digest], at most 255 characters)`,
    );
  }
  return v;
}

export function checkText(param: string, v: unknown, maxBytes: number): string {
  if (typeof v !== "string") throw new InvalidParameterError(param, "expected a string");
  if (v.includes("\u0000")) throw new InvalidParameterError(param, "it contains a NUL character");
  if (Buffer.byteLength(v) > maxBytes)
    throw new InvalidParameterError(param, `longer than ${maxBytes} bytes`);
  return v;
}

export function checkInt(param: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new InvalidParameterError(param, "expected an integer");
  if (v < min || v > max) throw new InvalidParameterError(param, `${v} is outside ${min}–${max}`);
  return v;
}

export function checkBool(param: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new InvalidParameterError(param, "expected a boolean");
  return v;
}

/** The argv of exec-pod: a non-empty array of strings without NUL bytes, bounded in count and size. */
export function checkCommand(param: string, v: unknown): string[] {
  if (!Array.isArray(v)) {
    throw new InvalidParameterError(
      param,
      "expected an array of strings (one element per argument), not a shell string",
    );
  }
  if (v.length === 0) throw new InvalidParameterError(param, "the command is empty");
  if (v.length > 128) throw new InvalidParameterError(param, "more than 128 arguments");
  let total = 0;
  const out: string[] = [];
  for (const [i, el] of v.entries()) {
    if (typeof el !== "string") throw new InvalidParameterError(param, `element ${i} is not a string`);
    if (el.includes("\u0000"))
      throw new InvalidParameterError(param, `element ${i} contains a NUL character`);
    total += Buffer.byteLength(el);
    out.push(el);
  }
  if (total > 32_768) throw new InvalidParameterError(param, "longer than 32768 bytes in total");
  if (out[0] === "") throw new InvalidParameterError(param, "the program name is empty");
  return out;
}

export interface SelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: SelectorRequirement[];
}

function checkLabelKey(param: string, key: string): string {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const ok =
    name.length > 0 &&
    name.length <= 63 &&
    LABEL_NAME.test(name) &&
    (prefix === null || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
  if (!ok) throw new InvalidParameterError(param, `${shown(key)} is not a valid label key`);
  return key;
}

function checkLabelValue(param: string, value: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw new InvalidParameterError(param, `${shown(value)} is not a valid label value`);
  }
  return value;
}

/**
 * Parses a label selector (`app=web,tier!=db,env in (a,b),release,!canary`) into the structured form
 * of a LabelSelector. An empty selector is refused: it would select every pod of the namespace.
 */
export function parseLabelSelector(param: string, v: unknown): LabelSelector {
  if (typeof v !== "string") throw new InvalidParameterError(param, "expected a string");
  if (v.length > 1024) throw new InvalidParameterError(param, "longer than 1024 characters");
  if (v.trim() === "") {
    throw new InvalidParameterError(param, "an empty selector would select every pod of the namespace");
  }
  const sel: LabelSelector = { matchLabels: {}, matchExpressions: [] };
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of v) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (depth < 0) throw new InvalidParameterError(param, "unbalanced parentheses");
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (depth !== 0) throw new InvalidParameterError(param, "unbalanced parentheses");
  parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    if (p === "") throw new InvalidParameterError(param, `empty requirement in ${shown(v)}`);
    let m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(p);
    if (m) {
      const key = checkLabelKey(param, m[1] ?? "");
      const value = checkLabelValue(param, m[3] ?? "");
      if (m[2] === "!=") sel.matchExpressions.push({ key, operator: "NotIn", values: [value] });
      else if (key in sel.matchLabels && sel.matchLabels[key] !== value) {
        throw new InvalidParameterError(param, `label ${shown(key)} is required to have two values`);
      } else sel.matchLabels[key] = value;
      continue;
    }
    m = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(p);
    if (m) {
      const key = checkLabelKey(param, m[1] ?? "");
      const values = (m[3] ?? "").split(",").map((s) => checkLabelValue(param, s.trim()));
      sel.matchExpressions.push({ key, operator: m[2] === "in" ? "In" : "NotIn", values });
      continue;
    }
    m = /^(!?)([^\s=!(),]+)$/.exec(p);
    if (m) {
      const key = checkLabelKey(param, m[2] ?? "");
      sel.matchExpressions.push({ key, operator: m[1] === "!" ? "DoesNotExist" : "Exists" });
      continue;
    }
    throw new InvalidParameterError(param, `${shown(p)} is not a label selector requirement`);
  }
  return sel;
}

/** Renders a LabelSelector back to the query-string form (`labelSelector=`), e.g. for listing pods. */
export function formatLabelSelector(sel: {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: SelectorRequirement[] | null;
}): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) out.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === "Exists") out.push(e.key);
    else if (e.operator === "DoesNotExist") out.push(`!${e.key}`);
    else out.push(`${e.key} ${e.operator === "In" ? "in" : "notin"} (${(e.values ?? []).join(",")})`);
  }
  return out.join(",");
}

/** Whether a set of labels matches a LabelSelector. */
export function selectorMatches(
  sel: { matchLabels?: Record<string, string> | null; matchExpressions?: SelectorRequirement[] | null },
  labels: Record<string, string>,
): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const val = labels[e.key];
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
    if (e.operator === "In" && !(has && (e.values ?? []).includes(val ?? ""))) return false;
    if (e.operator === "NotIn" && has && (e.values ?? []).includes(val ?? "")) return false;
  }
  return true;
}

/** The declared default of an optional parameter, when the runner did not fill it in. */
export function declaredDefault(def: ActionDef, name: string): unknown {
  const p = def.parameters.find((x) => x.name === name);
  return p?.default ?? undefined;
}

/** The declared integer range of a parameter, narrowed by the executor's own bounds. */
export function declaredRange(def: ActionDef, name: string, min: number, max: number): [number, number] {
  const c = def.parameters.find((x) => x.name === name)?.constraints;
  const lo = c?.min_value ?? min;
  const hi = c?.max_value ?? max;
  return [Math.max(min, lo), Math.min(max, hi)];
}
