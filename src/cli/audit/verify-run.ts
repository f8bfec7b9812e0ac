/** `audit verify`: see commands/audit.ts. */
import { existsSync } from "node:fs";
import { groupByChain } from "../../audit/chains.js";
import { readPublicKeys } from "../../audit/checkpoint.js";
import { AuditError } from "../../audit/errors.js";
import { repairLog } from "../../audit/ops.js";
import { checkpointsPath, expandLogPaths } from "../../audit/segments.js";
import { auditSettingsFromProject, projectAuditPublicKeys } from "../../audit/settings.js";
import { formatIssue, type VerifyReport, verifyLog } from "../../audit/verify.js";
import { EXIT, print, printJson, UsageError } from "../common.js";
import {
  type AuditFlags,
  auditProject,
  logPathOf,
  reportAuditError,
  wantsJson,
  wholeNumber,
} from "./common.js";

interface VerifyFlags extends AuditFlags {
  checkpoints?: string[];
  publicKey?: string;
  repair?: boolean;
  requireSigned?: boolean;
  workers?: string;
}

export async function runAuditVerify(logs: string[], flags: VerifyFlags): Promise<void> {
  try {
    await verifyAll(logs, flags);
  } catch (err) {
    reportAuditError(err, flags);
  }
}

async function verifyAll(logs: string[], flags: VerifyFlags): Promise<void> {
  const project = await auditProject(flags);
  const paths =
    logs.length > 0 ? logs.map((l) => logPathOf(l, {}, project)) : [logPathOf(undefined, flags, project)];
  if (logs.length > 0 && (flags.auditLog !== undefined || flags.logFile !== undefined)) {
    throw new UsageError("give the log either as an argument or with --audit-log, not both");
  }
  const workers = wholeNumber(flags.workers, "--workers", 1);
  const json = wantsJson(flags);
  const repairs: unknown[] = [];
  if (flags.repair === true) {
    const settings = auditSettingsFromProject(project, { withoutShippers: true });
    for (const path of paths) {
      if (!existsSync(path)) throw new AuditError("NOT_FOUND", `Audit log not found: ${path}`);
      const info = await repairLog({
        ...settings,
        path,
        chainId: undefined,
        checkpointsFile: checkpointsPath(path),
      });
      repairs.push({ log: path, repaired: info });
      if (!json) {
        print(
          info === null
            ? `Nothing to repair: ${path} ends with a complete line.`
            : `REPAIRED — removed a torn line of ${info.bytes} byte(s) at offset ${info.offset} from ${path} (recorded as a repair event)`,
        );
      }
    }
  }
  const publicKeys =
    flags.publicKey !== undefined ? readPublicKeys(flags.publicKey) : projectAuditPublicKeys(project);
  // Several replicas' logs: one set per chain, each verified on its own.
  const chains = groupByChain(paths);
  const results: ChainResult[] = [];
  for (const logs of chains) {
    let checkpoints = flags.checkpoints;
    if (checkpoints === undefined && logs.length === 1) {
      const side = checkpointsPath(logs[0]!);
      if (existsSync(side)) checkpoints = [side];
    }
    const report = await verifyLog(logs, {
      publicKeys,
      ...(checkpoints ? { checkpoints } : {}),
      ...(workers ? { workers } : {}),
    });
    if (flags.requireSigned === true && report.signing.status !== "signed") {
      report.ok = false;
      report.issues.push({
        segment: "",
        line: null,
        seq: null,
        code: "unsigned",
        message: `the log is ${report.signing.status}, and --require-signed was given`,
      });
    }
    results.push({ logs, report, checkpoints: checkpoints ?? [] });
  }
  const ok = results.every((r) => r.report.ok);
  if (results.length === 1) {
    const { report, checkpoints, logs } = results[0]!;
    if (json) printJson({ ...report, ...(flags.repair ? { repairs } : {}), checkpoint_files: checkpoints });
    else printReport(report, logs, checkpoints);
  } else if (json) {
    printJson({
      ok,
      chains: results.map((r) => ({ logs: r.logs, ...r.report, checkpoint_files: r.checkpoints })),
      ...(flags.repair ? { repairs } : {}),
    });
  } else {
    for (const r of results) {
      printReport(r.report, r.logs, r.checkpoints);
      print();
    }
    const bad = results.filter((r) => !r.report.ok).length;
    print(
      bad === 0 ? `${results.length} chains, each intact.` : `${bad} of ${results.length} chains INVALID.`,
    );
  }
  process.exitCode = ok ? EXIT.OK : EXIT.FAILED;
}

interface ChainResult {
  logs: string[];
  report: VerifyReport;
  checkpoints: string[];
}

function printReport(r: VerifyReport, paths: string[], checkpointFiles: string[]): void {
  const shown = paths.length === 1 ? paths[0]! : paths.join(", ");
  if (r.ok) print(`VALID — audit log chain is intact (${shown})`);
  else {
    print(`INVALID — ${r.issues.length} error(s) found:`);
    const multi = expandLogPaths(paths).length > 1;
    for (const issue of r.issues) print(`  - ${formatIssue(issue, multi)}`);
  }
  if (r.format === "v1") {
    print(`  format: 0.9.0 (v1), ${r.events} event(s)`);
    return;
  }
  const range = r.lastSeq === null ? "none" : `seq 1–${r.lastSeq}`;
  print(`  events: ${r.events} (${range}), segments: ${r.segments.length}, chain: ${r.chainId ?? "-"}`);
  const s = r.signing;
  const sig =
    s.status === "unsigned"
      ? "unsigned (no checkpoints)"
      : `${s.status} — ${s.checkpoints} checkpoint(s)${s.status === "signed" ? " verified" : ""}, newest at seq ${s.newestSeq ?? "-"}`;
  print(`  signatures: ${sig}`);
  if (checkpointFiles.length > 0)
    print(`  shipped checkpoints: ${s.external} checked (${checkpointFiles.join(", ")})`);
  for (const note of r.notes) print(`  note: ${note}`);
}
