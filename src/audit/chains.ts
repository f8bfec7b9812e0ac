/**
 * Several replicas each write their own chain (`chain_id`). Given several logs, `audit verify`
 * groups them by the chain their first event names and verifies each chain on its own; logs of
 * one chain (a log and its rotated segments) stay one set. A log without a chain id (a 0.9.0 log,
 * an empty file) joins the set of the log given before it, as segments always have.
 */
import { existsSync } from "node:fs";
import { parseEvent } from "./reader.js";
import { expandLogPaths } from "./segments.js";
import { readFirstLine } from "./tail.js";

/** The chain id of a log's first event, or null (missing file, empty, unreadable, 0.9.0). */
export function chainIdOf(path: string): string | null {
  const first = expandLogPaths([path])[0];
  if (first === undefined || !existsSync(first)) return null;
  try {
    const line = readFirstLine(first);
    if (line === null) return null;
    const id = parseEvent(line.toString("utf8")).chain_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** The given logs, grouped by chain, each group in the order given. */
export function groupByChain(paths: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  let last: string[] | null = null;
  for (const p of paths) {
    const id = chainIdOf(p);
    if (id === null && last !== null) {
      last.push(p);
      continue;
    }
    const key = id ?? `unnamed:${p}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(p);
    last = group;
  }
  return [...groups.values()];
}
