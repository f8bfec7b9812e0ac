/** `audit show-state` and `audit state-coverage`, through the lookup index (or a scan without it). */
import { existsSync } from "node:fs";
import { AuditError } from "../../audit/errors.js";
import { AuditIndex } from "../../audit/index-db.js";
import { parseEvent, readLinesSync } from "../../audit/reader.js";
import { expandLogPaths } from "../../audit/segments.js";
import { EXIT, print, printErr, printJson } from "../common.js";
import { type AuditFlags, auditProject, logPathOf, reportAuditError, wantsJson } from "./common.js";

async function existingLog(log: string | undefined, flags: AuditFlags): Promise<string> {
  const path = logPathOf(log, flags, await auditProject(flags));
  for (const s of expandLogPaths([path]))
    if (!existsSync(s)) throw new AuditError("NOT_FOUND", `Audit log not found: ${s}`);
  return path;
}

/** Every event, for when the index cannot be used. */
function* scan(path: string): Generator<Record<string, unknown>> {
  for (const seg of expandLogPaths([path])) {
    for (const l of readLinesSync(seg)) {
      if (l.torn || l.end === l.start) continue;
      try {
        yield parseEvent(l.buf.toString("utf8", l.start, l.end));
      } catch {
        // verify reports bad lines
      }
    }
  }
}

const ctxOf = (ev: Record<string, unknown>) => (ev.context ?? {}) as Record<string, unknown>;

export async function runAuditShowState(auditId: string, flags: AuditFlags): Promise<void> {
  try {
    const path = await existingLog(undefined, flags);
    const index = await AuditIndex.open(path);
    let captures: Record<string, unknown>[];
    if (index !== null) {
      captures = index.byOriginalAuditId(auditId, "state_capture").map((e) => e.event);
      index.close();
    } else {
      captures = [...scan(path)].filter(
        (e) => e.event_type === "state_capture" && ctxOf(e).original_audit_id === auditId,
      );
    }
    const ev = captures.at(-1);
    if (ev === undefined) {
      if (wantsJson(flags))
        printJson({
          ok: false,
          error: { code: "NOT_FOUND", message: `No state capture found for audit_id: ${auditId}` },
        });
      else printErr(`No state capture found for audit_id: ${auditId}`);
      process.exitCode = EXIT.FAILED;
      return;
    }
    const ctx = ctxOf(ev);
    if (wantsJson(flags)) {
      printJson({
        audit_id: auditId,
        event_id: ev.event_id,
        action: ev.action,
        target: ev.target,
        caller: ev.caller,
        captured_at: ev.timestamp,
        ...ctx,
      });
    } else {
      print(`State Capture for ${auditId}`);
      print(`  action:   ${ev.action}`);
      print(`  target:   ${ev.target}`);
      print(`  caller:   ${ev.caller}`);
      print(`  captured: ${ev.timestamp}`);
      const ms = Number(ctx.capture_duration_ms);
      if (Number.isFinite(ms)) print(`  duration: ${ms.toFixed(1)}ms`);
      print("\n  Before:");
      print(indent(JSON.stringify(ctx.before_state ?? {}, null, 4)));
      print("\n  After:");
      print(indent(JSON.stringify(ctx.after_state ?? {}, null, 4)));
      const diff = (ctx.diff ?? {}) as Record<string, Record<string, unknown>>;
      const changed = Object.entries(diff.changed ?? {});
      if (changed.length > 0) {
        print("\n  Changes:");
        for (const [k, v] of changed) {
          const c = v as { old?: unknown; new?: unknown };
          print(`    ${k}: ${JSON.stringify(c.old)} -> ${JSON.stringify(c.new)}`);
        }
      }
      for (const [label, key] of [
        ["Added", "added"],
        ["Removed", "removed"],
      ] as const) {
        const entries = Object.entries(diff[key] ?? {});
        if (entries.length === 0) continue;
        print(`\n  ${label}:`);
        for (const [k, v] of entries) print(`    ${k}: ${JSON.stringify(v)}`);
      }
    }
    process.exitCode = EXIT.OK;
  } catch (err) {
    reportAuditError(err, flags);
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

export async function runAuditStateCoverage(log: string | undefined, flags: AuditFlags): Promise<void> {
  try {
    const path = await existingLog(log, flags);
    const index = await AuditIndex.open(path);
    let total: number;
    let covered: number;
    if (index !== null) {
      ({ total, covered } = index.stateCoverage());
      index.close();
    } else {
      const decisions: string[] = [];
      const captured = new Set<string>();
      for (const e of scan(path)) {
        const type = e.event_type ?? "decision";
        if (type === "decision" && typeof e.event_id === "string") decisions.push(e.event_id);
        if (type === "state_capture" && typeof ctxOf(e).original_audit_id === "string")
          captured.add(ctxOf(e).original_audit_id as string);
      }
      total = decisions.length;
      covered = decisions.filter((d) => captured.has(d)).length;
    }
    const percent = total === 0 ? 0 : Math.round((covered / total) * 1000) / 10;
    if (wantsJson(flags)) {
      printJson({
        total_decisions: total,
        with_state_capture: covered,
        without_state_capture: total - covered,
        coverage_percent: percent,
      });
    } else {
      print(`State capture coverage: ${covered}/${total} (${percent.toFixed(1)}%)`);
      print(`  decisions:             ${total}`);
      print(`  with state capture:    ${covered}`);
      print(`  without state capture: ${total - covered}`);
    }
    process.exitCode = EXIT.OK;
  } catch (err) {
    reportAuditError(err, flags);
  }
}
