/**
 * Reading IAM-style policy documents: the S3 bucket policy checks (`policy-parses`,
 * `no-public-grant`) and the IAM `escalation-review`. Pure functions, no I/O.
 */

export interface Statement {
  /** `Sid`, or `#<index>` when it has none. */
  label: string;
  effect: string;
  raw: Record<string, unknown>;
}

export type ParsedPolicy = { ok: true; statements: Statement[] } | { ok: false; reason: string };

/** A JSON object whose `Statement` is a non-empty list of objects with `Effect` Allow or Deny. */
export function parsePolicy(text: string): ParsedPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const at = err instanceof Error ? /position (\d+)/.exec(err.message)?.[1] : undefined;
    return { ok: false, reason: `not valid JSON${at !== undefined ? ` (error at position ${at})` : ""}` };
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return { ok: false, reason: "not a JSON object" };
  }
  const stmt = (doc as Record<string, unknown>)["Statement"];
  // IAM also accepts a single statement object; the action asks for a list, both are read.
  const list = Array.isArray(stmt) ? stmt : stmt !== null && typeof stmt === "object" ? [stmt] : null;
  if (list === null || list.length === 0) return { ok: false, reason: "no Statement list" };
  const statements: Statement[] = [];
  for (const [i, s] of list.entries()) {
    if (s === null || typeof s !== "object" || Array.isArray(s)) {
      return { ok: false, reason: `statement #${i} is not an object` };
    }
    const raw = s as Record<string, unknown>;
    const effect = raw["Effect"];
    if (effect !== "Allow" && effect !== "Deny") {
      return { ok: false, reason: `statement #${i} has no Effect Allow or Deny` };
    }
    const sid = raw["Sid"];
    statements.push({ label: typeof sid === "string" && sid !== "" ? sid : `#${i}`, effect, raw });
  }
  return { ok: true, statements };
}

function values(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

/** `"*"`, `{"AWS": "*"}`, `{"AWS": ["…", "*"]}`, or any other principal key with `"*"`. */
function isEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  if (principal === null || typeof principal !== "object" || Array.isArray(principal)) return false;
  return Object.values(principal as Record<string, unknown>).some((v) => values(v).includes("*"));
}

function hasCondition(raw: Record<string, unknown>): boolean {
  const c = raw["Condition"];
  return c !== null && typeof c === "object" && !Array.isArray(c) && Object.keys(c).length > 0;
}

/**
 * The statements that make a bucket public: `Allow` to everyone (Principal `*`, or a NotPrincipal,
 * which allows everyone but the listed) without a non-empty Condition.
 */
export function publicGrants(statements: readonly Statement[]): string[] {
  return statements
    .filter((s) => s.effect === "Allow" && !hasCondition(s.raw))
    .filter((s) => isEveryone(s.raw["Principal"]) || s.raw["NotPrincipal"] !== undefined)
    .map((s) => s.label);
}

const ESCALATING = new Set(["*", "*:*", "iam:*", "sts:*", "sts:assumerole"]);

/** Allow statements granting `*`, `iam:*`, `sts:*` or `sts:AssumeRole`, or any `NotAction`. */
export function escalations(statements: readonly Statement[]): string[] {
  const found: string[] = [];
  for (const s of statements) {
    if (s.effect !== "Allow") continue;
    if (s.raw["NotAction"] !== undefined) {
      found.push(`${s.label}: NotAction (allows everything else)`);
      continue;
    }
    const hits = values(s.raw["Action"]).filter(
      (a): a is string => typeof a === "string" && ESCALATING.has(a.toLowerCase()),
    );
    if (hits.length > 0) found.push(`${s.label}: ${hits.join(", ")}`);
  }
  return found;
}

/** IAM returns policy documents URL-encoded; moto returns them plain. */
export function decodePolicyDocument(doc: string): string {
  if (doc.trimStart().startsWith("{")) return doc;
  try {
    return decodeURIComponent(doc);
  } catch {
    return doc;
  }
}
