/** Typed configuration errors that always say where: file, line, column and field. */

export type Severity = "error" | "warning";

export interface ConfigIssue {
  severity: Severity;
  file: string;
  /** 1-based; 0 when the problem is the file as a whole (missing, unreadable). */
  line: number;
  column: number;
  /** The field path inside the file, e.g. `rules[2].match.targets.environments[0]`; "" for the file. */
  field: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where =
    issue.line > 0
      ? `${issue.file}:${issue.line}:${issue.column}: `
      : issue.file === ""
        ? ""
        : `${issue.file}: `;
  const field = issue.field === "" ? "" : `${issue.field}: `;
  const prefix = issue.severity === "warning" ? "warning: " : "";
  return `${prefix}${where}${field}${issue.message}`;
}

/** One or more problems in configuration. `message` is the first; `issues` has them all. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[] | ConfigIssue | string) {
    const list =
      typeof issues === "string"
        ? [plainIssue(issues)]
        : Array.isArray(issues)
          ? issues
          : [issues as ConfigIssue];
    const first = list[0] ?? plainIssue("invalid configuration");
    const more = list.length > 1 ? ` (and ${list.length - 1} more problem${list.length > 2 ? "s" : ""})` : "";
    super(formatIssue(first) + more);
    this.issues = list;
  }

  /** Every issue, one line each. */
  lines(): string[] {
    return this.issues.map(formatIssue);
  }
}

function plainIssue(message: string): ConfigIssue {
  return { severity: "error", file: "", line: 0, column: 0, field: "", message };
}

/** An error about a whole file or directory (not found, unreadable). */
export function fileError(file: string, message: string): ConfigError {
  return new ConfigError({ severity: "error", file, line: 0, column: 0, field: "", message });
}

/** Renders a path like `["rules", 2, "match"]` as `rules[2].match`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
