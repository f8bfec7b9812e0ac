/** File discovery and reading, with 0.9.0's rules for which files count. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "./errors.js";
import { loadYaml, type YamlDocument, YamlError } from "./yaml.js";

/** Code-point order, as Python sorts strings (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/**
 * The YAML files of a directory, as 0.9.0 found them: `*.yaml` and `*.yml` (case-sensitive),
 * not recursive, dot-files included, sorted by code point. `what` names the directory in errors
 * ("Actions", "Policies").
 */
export function listYamlFiles(dir: string, what: string): string[] {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new ConfigError(`${what} directory not found: ${dir}`);
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml") || name.endsWith(".yml"))
    .sort(compareCodePoints)
    .map((name) => join(dir, name));
}

export interface LoadedFile {
  path: string;
  text: string;
  doc: YamlDocument;
}

/** Reads and parses one YAML file; every failure is a `ConfigError` naming the file. */
export function readYamlFile(path: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { path, text, doc: parseYaml(text, path) };
}

export function parseYaml(text: string, path: string): YamlDocument {
  try {
    return loadYaml(text, path);
  } catch (err) {
    if (err instanceof YamlError) {
      throw new ConfigError({
        severity: "error",
        file: path,
        line: err.line,
        column: err.column,
        field: "",
        message: `invalid YAML: ${err.detail}`,
      });
    }
    throw err;
  }
}
