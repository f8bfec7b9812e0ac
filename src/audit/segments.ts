/**
 * Where a log's pieces live. For a log at `<log>` (e.g. `audit.jsonl`):
 *
 * | file | what |
 * |---|---|
 * | `<log>` | the active segment, the only one ever appended to |
 * | `<log>.000001`, `<log>.000002`, … | rotated segments, oldest first (six digits or more) |
 * | `<log>.lock` | the writer's lock (SQLite; holds the writer's pid) |
 * | `<log>.checkpoints.jsonl` | every signed checkpoint, one JSON object a line |
 * | `<log>.index` | the lookup index (SQLite; a cache, rebuilt from the log when stale) |
 * | `<log>.cursors/` | one cursor file (and lock) per shipper destination |
 *
 * On rotation the active segment is renamed to the next number and a new `<log>` is started; its
 * first event chains to the last event of the segment before it, so the segment set read in order
 * (numbered segments ascending, then `<log>`) is one unbroken chain.
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";

export const SEGMENT_DIGITS = 6;

export function segmentPath(base: string, n: number): string {
  return `${base}.${String(n).padStart(SEGMENT_DIGITS, "0")}`;
}

export function lockPath(base: string): string {
  return `${base}.lock`;
}

export function checkpointsPath(base: string): string {
  return `${base}.checkpoints.jsonl`;
}

export function indexPath(base: string): string {
  return `${base}.index`;
}

export function cursorsDir(base: string): string {
  return `${base}.cursors`;
}

/** The numbers of the rotated segments of `base`, ascending. */
export function rotatedNumbers(base: string): number[] {
  const dir = dirname(resolve(base));
  const prefix = `${basename(base)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (rest.length >= SEGMENT_DIGITS && /^[0-9]+$/.test(rest)) out.push(Number(rest));
  }
  return out.sort((a, b) => a - b);
}

/** True when `path` is itself a rotated segment name (`….000123`). */
export function isSegmentName(path: string): boolean {
  return new RegExp(`\\.[0-9]{${SEGMENT_DIGITS},}$`).test(path);
}

/**
 * The segment set of `base`, oldest first: its rotated segments, then `base` itself when it
 * exists. Empty when neither exists.
 */
export function listSegments(base: string): string[] {
  const abs = resolve(base);
  const out = rotatedNumbers(abs).map((n) => segmentPath(abs, n));
  if (existsSync(abs)) out.push(abs);
  return out;
}

/**
 * Expands the paths given to a reader: a base log becomes its whole segment set; a path that is a
 * rotated segment (or has no rotated siblings) stays itself. Missing paths are kept, so the reader
 * can report them.
 */
export function expandLogPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (isSegmentName(abs)) {
      out.push(abs);
      continue;
    }
    const set = listSegments(abs);
    if (set.length === 0) out.push(abs);
    else out.push(...set);
  }
  return [...new Set(out)];
}
