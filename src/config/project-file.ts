/** Reads and validates `agent-safe.yaml` (loads yaml and zod: keep off the cached start-up path). */
import { readFileSync } from "node:fs";
import { isPlainObject } from "../core/pyvalue.js";
import { ConfigError } from "./errors.js";
import { parseYaml } from "./files.js";
import type { ProjectSettings } from "./project.js";
import { projectSchema } from "./project-schema.js";
import { issueAt, validateNode } from "./validate.js";

/**
 * `${NAME}` references are kept verbatim here and expanded where the value is used
 * (`expandEnv`), so settings can be cached without ever holding a secret.
 */
export function readProjectFile(file: string | null): ProjectSettings {
  if (file === null) return { settings: projectSchema.parse({}), explicitKeys: [], warnings: [] };
  const doc = parseYaml(readFileSync(file, "utf8"), file);
  const raw = doc.value ?? {};
  if (!isPlainObject(raw)) throw new ConfigError(issueAt(doc, file, [], "the config file must be a mapping"));
  const result = validateNode(doc, raw, projectSchema, projectSchema, { file, at: [], unknownKeys: "error" });
  if (result.value === undefined) throw new ConfigError(result.issues);
  return { settings: result.value, explicitKeys: Object.keys(raw), warnings: result.issues };
}
