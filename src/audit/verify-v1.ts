/**
 * Verification of 0.9.0 (v1) logs, exactly as 0.9.0's `verify_log` (REFERENCE.md §4.4): each
 * non-blank line is parsed like Python's `json.loads`, its `entry_hash` removed, and the rest
 * re-serialised like Python's `json.dumps(sort_keys=True)` (`pyJsonDumps`) and hashed. Messages
 * and line numbers (non-blank lines, from 1) are the reference's.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { JsonParseError, parseJsonPy } from "../codec/json-parse.js";
import { pyJsonDumps } from "../codec/python-json.js";
import { isPlainObject, type PyObject, type PyValue, pyKeys, setOwn } from "../core/pyvalue.js";
import { GENESIS_HASH } from "./types.js";
import { short } from "./verify-range.js";

export interface V1Result {
  events: number;
  errors: { line: number; message: string }[];
  lastHash: string;
}

/** The hash 0.9.0 stores for an event: sha256 of its canonical JSON without `entry_hash`. */
export function v1EntryHash(event: PyObject): string {
  const copy: PyObject = {};
  for (const k of pyKeys(event)) if (k !== "entry_hash") setOwn(copy, k, event[k] as PyValue);
  return createHash("sha256")
    .update(pyJsonDumps(copy, { sortKeys: true }), "utf8")
    .digest("hex");
}

export function verifyV1Text(text: string, startHash: string = GENESIS_HASH): V1Result {
  const errors: V1Result["errors"] = [];
  let expected = startHash;
  let n = 0;
  let events = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    n++;
    let value: PyValue;
    try {
      value = parseJsonPy(line);
    } catch (err) {
      if (!(err instanceof JsonParseError)) throw err;
      errors.push({ line: n, message: `Line ${n}: invalid JSON: ${err.message}` });
      continue;
    }
    if (!isPlainObject(value)) {
      errors.push({ line: n, message: `Line ${n}: invalid JSON: not an object` });
      continue;
    }
    events++;
    const prev = typeof value.prev_hash === "string" ? value.prev_hash : "";
    if (prev !== expected) {
      errors.push({
        line: n,
        message: `Line ${n}: chain broken — expected prev_hash ${short(expected)}, got ${short(prev)}`,
      });
    }
    const stored = typeof value.entry_hash === "string" ? value.entry_hash : "";
    const computed = v1EntryHash(value);
    if (computed !== stored) {
      errors.push({
        line: n,
        message: `Line ${n}: hash mismatch — stored ${short(stored)}, computed ${short(computed)}`,
      });
    }
    expected = stored;
  }
  return { events, errors, lastHash: expected };
}

export function verifyV1Files(paths: readonly string[]): V1Result {
  let hash = GENESIS_HASH;
  const out: V1Result = { events: 0, errors: [], lastHash: hash };
  for (const p of paths) {
    const r = verifyV1Text(readFileSync(p, "utf8"), hash);
    out.events += r.events;
    out.errors.push(...r.errors);
    hash = r.lastHash;
  }
  out.lastHash = hash;
  return out;
}
