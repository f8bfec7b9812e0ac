/** The action registry loader: `actions/*.yaml`, one action per file. */

import { compilePythonRegex, PyRegexError } from "../core/pyregex.js";
import { isPlainObject, pyTypeName } from "../core/pyvalue.js";
import type { ActionDef, ParameterDef } from "../core/types.js";
import { ConfigError, type ConfigIssue, type Severity } from "./errors.js";
import { type LoadedFile, listYamlFiles, readYamlFile } from "./files.js";
import type { LoadOptions } from "./options.js";
import { actionSchema } from "./schemas.js";
import { issueAt, validateNode } from "./validate.js";
import type { YamlDocument } from "./yaml.js";

export interface LoadedRegistry {
  actions: ActionDef[];
  files: LoadedFile[];
  warnings: ConfigIssue[];
}

let schemas:
  | { strict: ReturnType<typeof actionSchema>; lenient: ReturnType<typeof actionSchema> }
  | undefined;

export function loadActions(dir: string, options: LoadOptions): LoadedRegistry {
  schemas ??= { strict: actionSchema("strict"), lenient: actionSchema("lenient") };
  const issues: ConfigIssue[] = [];
  const files: LoadedFile[] = [];
  const actions: ActionDef[] = [];
  const seen = new Map<string, { def: ActionDef; file: string; doc: YamlDocument }>();
  for (const path of listYamlFiles(dir, "Actions")) {
    const file = readYamlFile(path);
    files.push(file);
    const { doc } = file;
    if (!isPlainObject(doc.value)) {
      issues.push(
        issueAt(doc, path, [], `Action file must contain a YAML mapping, got ${pyTypeName(doc.value)}`),
      );
      continue;
    }
    const unknownKeys: Severity = options.strictKeys ? "error" : "warning";
    const result = validateNode(doc, doc.value, schemas.strict, schemas.lenient, {
      file: path,
      at: [],
      unknownKeys,
    });
    issues.push(...result.issues);
    if (result.value === undefined) continue;
    const def = result.value as ActionDef;
    issues.push(...checkAction(def, doc, path, options));
    const previous = seen.get(def.name);
    if (previous !== undefined) {
      const first = `${previous.def.name}@${previous.def.version} in ${previous.file}`;
      issues.push(
        issueAt(doc, path, ["name"], `Duplicate action name '${def.name}': already registered as ${first}`),
      );
      continue;
    }
    seen.set(def.name, { def, file: path, doc });
    actions.push(def);
  }
  for (const { def, file, doc } of seen.values()) {
    if (def.rollback_action !== null && !seen.has(def.rollback_action)) {
      const message = `rollback action '${def.rollback_action}' is not in the registry`;
      issues.push(issueAt(doc, file, ["rollback_action"], message, "warning"));
    }
  }
  const errors = issues.filter((i) => i.severity === "error");
  if (errors.length > 0) throw new ConfigError(errors);
  return { actions, files, warnings: issues };
}

/** Checks 0.9.0 never made. An invalid regex is always an error: it used to crash `check()`. */
function checkAction(def: ActionDef, doc: YamlDocument, file: string, options: LoadOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const semantic: Severity = options.profile === "strict" || options.strictKeys ? "error" : "warning";
  const names = new Set<string>();
  def.parameters.forEach((p: ParameterDef, i) => {
    const path = ["parameters", i];
    if (names.has(p.name)) {
      issues.push(issueAt(doc, file, [...path, "name"], `duplicate parameter name '${p.name}'`, semantic));
    }
    names.add(p.name);
    const c = p.constraints;
    if (c?.pattern != null) {
      try {
        compilePythonRegex(c.pattern);
      } catch (err) {
        if (!(err instanceof PyRegexError)) throw err;
        const message = `invalid regular expression: ${err.message}`;
        issues.push(issueAt(doc, file, [...path, "constraints", "pattern"], message));
      }
    }
    if (c !== null && c.min_value !== null && c.max_value !== null && c.min_value > c.max_value) {
      const message = "min_value is greater than max_value: no value can pass";
      issues.push(issueAt(doc, file, [...path, "constraints"], message, "warning"));
    }
    if (c !== null && c.min_length !== null && c.max_length !== null && c.min_length > c.max_length) {
      const message = "min_length is greater than max_length: no value can pass";
      issues.push(issueAt(doc, file, [...path, "constraints"], message, "warning"));
    }
    if (p.required && p.default !== null) {
      issues.push(
        issueAt(doc, file, [...path, "default"], "a required parameter's default is never used", "warning"),
      );
    }
  });
  return issues;
}
