/** The target inventory loader: one YAML file with a `targets` list. */
import { existsSync } from "node:fs";
import { isPlainObject } from "../core/pyvalue.js";
import type { Target } from "../core/types.js";
import { ConfigError, type ConfigIssue, type Severity } from "./errors.js";
import { type LoadedFile, readYamlFile } from "./files.js";
import type { LoadOptions } from "./options.js";
import { targetSchema } from "./schemas.js";
import { issueAt, validateNode } from "./validate.js";

export interface LoadedInventory {
  targets: Target[];
  file: LoadedFile;
  warnings: ConfigIssue[];
}

let schemas:
  | { strict: ReturnType<typeof targetSchema>; lenient: ReturnType<typeof targetSchema> }
  | undefined;

export function loadInventory(path: string, options: LoadOptions): LoadedInventory {
  schemas ??= { strict: targetSchema("strict"), lenient: targetSchema("lenient") };
  if (!existsSync(path)) throw new ConfigError(`Inventory file not found: ${path}`);
  const file = readYamlFile(path);
  const { doc } = file;
  const root = doc.value;
  const unknownKeys: Severity = options.strictKeys ? "error" : "warning";
  if (!isPlainObject(root) || !Object.hasOwn(root, "targets")) {
    throw new ConfigError(issueAt(doc, path, [], "Inventory file must have a top-level 'targets' key"));
  }
  if (!Array.isArray(root.targets)) {
    throw new ConfigError(issueAt(doc, path, ["targets"], "'targets' must be a list"));
  }
  const issues: ConfigIssue[] = [];
  const targets: Target[] = [];
  const seen = new Map<string, number>();
  root.targets.forEach((raw, index) => {
    const at = ["targets", index];
    const result = validateNode(doc, raw, schemas!.strict, schemas!.lenient, { file: path, at, unknownKeys });
    issues.push(...result.issues);
    if (result.value === undefined) return;
    const target = result.value as Target;
    const first = seen.get(target.id);
    if (first !== undefined) {
      const line = doc.locate(["targets", first, "id"]).line;
      issues.push(
        issueAt(
          doc,
          path,
          [...at, "id"],
          `Duplicate target ID: ${target.id} (first defined on line ${line})`,
        ),
      );
      return;
    }
    seen.set(target.id, index);
    targets.push(target);
  });
  const errors = issues.filter((i) => i.severity === "error");
  if (errors.length > 0) throw new ConfigError(errors);
  return { targets, file, warnings: issues };
}
