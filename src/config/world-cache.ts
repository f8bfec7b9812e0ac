/**
 * A cache of the parsed, validated configuration, keyed by the content hash of every file it was
 * built from, so that a CLI start-up skips YAML parsing and schema validation (and never imports
 * either library) when nothing changed. A cache entry is only a faster way to the same result: any
 * mismatch, corruption or I/O error is a miss. It never holds a secret (`${ENV}` stays unexpanded).
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { decodeTagged, encodeTagged } from "../codec/tagged-json.js";
import type { WorldInput } from "../core/world.js";
import type { ConfigIssue } from "./errors.js";
import type { ProjectSettings } from "./project.js";

const FORMAT = 1;

export interface CachedProject {
  settings: ProjectSettings;
  input: WorldInput;
  warnings: ConfigIssue[];
  /** The files the entry was built from and their SHA-256, to revalidate on every hit. */
  files: { path: string; sha256: string }[];
  /** The YAML file names present in each directory when the entry was built. */
  dirs: { path: string; names: string[] }[];
}

interface Entry extends CachedProject {
  format: number;
  key: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function cacheKey(parts: readonly string[]): string {
  return sha256Hex(JSON.stringify([FORMAT, ...parts]));
}

/** Returns the entry if every file it was built from is unchanged, else `undefined`. */
export function readCache(dir: string, key: string): CachedProject | undefined {
  let entry: Entry;
  try {
    entry = decodeTagged<Entry>(readFileSync(join(dir, `${key}.json`), "utf8"));
  } catch {
    return undefined;
  }
  if (entry.format !== FORMAT || entry.key !== key) return undefined;
  for (const d of entry.dirs) {
    if (!sameNames(yamlNames(d.path), d.names)) return undefined;
  }
  for (const f of entry.files) {
    if (f.sha256 === "absent") {
      if (existsSync(f.path)) return undefined;
      continue;
    }
    try {
      if (sha256Hex(readFileSync(f.path)) !== f.sha256) return undefined;
    } catch {
      return undefined;
    }
  }
  return entry;
}

/** Best effort: a cache that cannot be written only costs speed. Keeps the newest few entries. */
export function writeCache(dir: string, key: string, project: CachedProject): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${key}.${process.pid}.tmp`);
    writeFileSync(tmp, encodeTagged({ ...project, format: FORMAT, key } satisfies Entry), { mode: 0o600 });
    renameSync(tmp, join(dir, `${key}.json`));
    prune(dir, 8);
  } catch {
    // Read-only project or full disk: run uncached.
  }
}

export function yamlNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith(".yaml") || n.endsWith(".yml"))
      .sort();
  } catch {
    return [];
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function prune(dir: string, keep: number): void {
  const entries = readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { n } of entries.slice(keep)) unlinkSync(join(dir, n));
}
