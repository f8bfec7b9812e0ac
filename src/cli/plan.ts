/** Reads a plan file for `check --plan`: a list of steps, or a mapping with a `steps` list. */
import { readFileSync } from "node:fs";
import { ConfigError, type ConfigIssue } from "../config/errors.js";
import { parseYaml } from "../config/files.js";
import { issueAt } from "../config/validate.js";
import { isPlainObject } from "../core/pyvalue.js";
import type { CheckRequest } from "../pdp/request.js";
import { UsageError } from "./common.js";

const STEP_KEYS = new Set(["action", "target", "caller", "params", "ticket_id"]);

export function readPlan(path: string): CheckRequest[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`--plan: cannot read ${path}`);
  }
  const doc = parseYaml(text, path);
  const root = doc.value;
  const list = isPlainObject(root) && Array.isArray(root.steps) ? root.steps : root;
  const at: (string | number)[] = isPlainObject(root) ? ["steps"] : [];
  if (!Array.isArray(list))
    throw new ConfigError(
      issueAt(doc, path, [], "a plan must be a list of steps (or a mapping with 'steps')"),
    );
  const issues: ConfigIssue[] = [];
  const steps = list.map((step, i): CheckRequest => {
    const where = [...at, i];
    if (!isPlainObject(step)) {
      issues.push(issueAt(doc, path, where, "each step must be a mapping with at least 'action'"));
      return { action: "" };
    }
    for (const key of Object.keys(step)) {
      if (!STEP_KEYS.has(key))
        issues.push(
          issueAt(
            doc,
            path,
            [...where, key],
            `unknown key '${key}' (expected action, target, caller, params, ticket_id)`,
          ),
        );
    }
    if (typeof step.action !== "string" || step.action === "")
      issues.push(issueAt(doc, path, [...where, "action"], "'action' must be a non-empty string"));
    return {
      action: step.action as string,
      target: step.target as CheckRequest["target"],
      caller: step.caller as CheckRequest["caller"],
      params: step.params as CheckRequest["params"],
      ticketId: step.ticket_id as CheckRequest["ticketId"],
    };
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return steps;
}
