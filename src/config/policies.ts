/** The policy loader: `policies/*.yaml`, each a mapping with a `rules` list. */
import { compileGlob, GlobError } from "../core/fnmatch.js";
import { isPlainObject } from "../core/pyvalue.js";
import type { PolicyRule } from "../core/types.js";
import { ConfigError, type ConfigIssue, type Severity } from "./errors.js";
import { type LoadedFile, listYamlFiles, readYamlFile } from "./files.js";
import type { LoadOptions } from "./options.js";
import { ruleSchema } from "./schemas.js";
import { issueAt, validateNode } from "./validate.js";

export interface LoadedPolicies {
  /** In load order: files sorted by name, then in-file order. The world sorts by priority. */
  rules: PolicyRule[];
  files: LoadedFile[];
  warnings: ConfigIssue[];
}

let schemas: { strict: ReturnType<typeof ruleSchema>; lenient: ReturnType<typeof ruleSchema> } | undefined;

export function loadPolicies(dir: string, options: LoadOptions): LoadedPolicies {
  schemas ??= { strict: ruleSchema("strict"), lenient: ruleSchema("lenient") };
  // A typo'd key in a policy must never silently widen a rule, so strict rejects unknown keys.
  const unknownKeys: Severity = options.profile === "strict" || options.strictKeys ? "error" : "warning";
  const issues: ConfigIssue[] = [];
  const files: LoadedFile[] = [];
  const rules: PolicyRule[] = [];
  for (const path of listYamlFiles(dir, "Policies")) {
    const file = readYamlFile(path);
    files.push(file);
    const { doc } = file;
    const root = doc.value;
    if (!isPlainObject(root) || !Object.hasOwn(root, "rules")) {
      issues.push(issueAt(doc, path, [], "Policy file must have a 'rules' key"));
      continue;
    }
    for (const key of Object.keys(root)) {
      if (key !== "rules") {
        issues.push(
          issueAt(
            doc,
            path,
            [key],
            `unknown top-level key '${key}' (a policy file has only 'rules')`,
            unknownKeys,
          ),
        );
      }
    }
    const list = root.rules;
    if (!Array.isArray(list)) {
      issues.push(issueAt(doc, path, ["rules"], "'rules' must be a list"));
      continue;
    }
    list.forEach((raw, index) => {
      const result = validateNode(doc, raw, schemas!.strict, schemas!.lenient, {
        file: path,
        at: ["rules", index],
        unknownKeys,
      });
      issues.push(...result.issues);
      if (result.value === undefined) return;
      const pos = doc.locate(["rules", index]);
      const rule: PolicyRule = {
        ...(result.value as Omit<PolicyRule, "source">),
        source: { file: path, ...pos },
      };
      issues.push(
        ...checkRule(rule, (p, message, severity) =>
          issueAt(doc, path, ["rules", index, ...p], message, severity),
        ),
      );
      rules.push(rule);
    });
  }
  const names = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const first = names.get(rule.name);
    if (first?.source && rule.source) {
      const { file, line, column } = rule.source;
      const message = `rule name '${rule.name}' is also used at ${first.source.file}:${first.source.line}`;
      issues.push({ severity: "warning", file, line, column, field: "name", message });
    } else names.set(rule.name, rule);
  }
  const errors = issues.filter((i) => i.severity === "error");
  if (errors.length > 0) throw new ConfigError(errors);
  return { rules, files, warnings: issues };
}

type Report = (path: (string | number)[], message: string, severity?: Severity) => ConfigIssue;

/** Mistakes 0.9.0 accepted silently or crashed on later. */
function checkRule(rule: PolicyRule, report: Report): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  rule.match.actions.forEach((pattern, i) => {
    try {
      compileGlob(pattern);
    } catch (err) {
      if (!(err instanceof GlobError)) throw err;
      issues.push(report(["match", "actions", i], `invalid action pattern: ${err.message}`));
    }
  });
  rule.match.time_windows?.forEach((w, i) => {
    w.days?.forEach((day, j) => {
      if (day < 0 || day > 6) {
        const message = `day ${day} never matches (0 = Monday … 6 = Sunday)`;
        issues.push(report(["match", "time_windows", i, "days", j], message, "warning"));
      }
    });
  });
  if (rule.approval !== null && rule.decision !== "require_approval") {
    issues.push(report(["approval"], "'approval' only applies to require_approval rules", "warning"));
  }
  return issues;
}
