/**
 * The strict-profile contract (DESIGN.md §4): for the same request, strict is never more permissive
 * than reference (DENY < REQUIRE_APPROVAL < ALLOW), and a decision may differ only because of
 * items 1–4 — parameters validated even when empty, the target type, a parameter bound by a
 * target label.
 */
const RANK: Record<string, number> = { deny: 0, require_approval: 1, allow: 2 };

export interface StrictnessReport {
  differences: number;
  byCode: Record<string, number>;
  violations: string[];
}

type Row = Record<string, unknown>;

export function checkStrictAgainstReference(
  requestsJsonl: string,
  reference: Map<string, Row>,
  strict: Map<string, Row>,
): StrictnessReport {
  const report: StrictnessReport = { differences: 0, byCode: {}, violations: [] };
  for (const line of requestsJsonl.split("\n")) {
    if (line.trim() === "") continue;
    const req = JSON.parse(line) as { id: string; params: Record<string, unknown> | null };
    const ref = reference.get(req.id);
    const str = strict.get(req.id);
    if (ref === undefined || str === undefined) {
      report.violations.push(`${req.id}: missing decision`);
      continue;
    }
    if (RANK[str.result as string]! > RANK[ref.result as string]!) {
      report.violations.push(
        `${req.id}: strict ${str.result} is more permissive than reference ${ref.result}`,
      );
    }
    const same =
      str.result === ref.result && str.reason === ref.reason && str.policy_matched === ref.policy_matched;
    if (same) continue;
    report.differences++;
    const code = str.code as string;
    report.byCode[code] = (report.byCode[code] ?? 0) + 1;
    const emptyParams = req.params === null || Object.keys(req.params).length === 0;
    const explained =
      str.result === "deny" &&
      (code === "target_type" || code === "param_binding" || (code === "invalid_params" && emptyParams));
    if (!explained)
      report.violations.push(
        `${req.id}: unexplained difference: strict ${JSON.stringify(str)} vs reference ${JSON.stringify(ref)}`,
      );
  }
  return report;
}
