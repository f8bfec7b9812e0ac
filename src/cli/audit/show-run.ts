/** `audit show`: the newest events, read from the end of the log. */
import { existsSync } from "node:fs";
import { AuditError } from "../../audit/errors.js";
import { parseEvent, readLinesBackward } from "../../audit/reader.js";
import { expandLogPaths } from "../../audit/segments.js";
import { EVENT_TYPE_PATTERN } from "../../audit/types.js";
import { EXIT, print, printErr, printJson, UsageError } from "../common.js";
import {
  type AuditFlags,
  auditProject,
  logPathOf,
  reportAuditError,
  wantsJson,
  wholeNumber,
} from "./common.js";

interface ShowFlags extends AuditFlags {
  last?: string;
  all?: boolean;
  eventType?: string;
  caller?: string;
  action?: string;
  since?: string;
}

export async function runAuditShow(log: string | undefined, flags: ShowFlags): Promise<void> {
  try {
    await show(log, flags);
  } catch (err) {
    reportAuditError(err, flags);
  }
}

async function show(log: string | undefined, flags: ShowFlags): Promise<void> {
  const last = flags.all === true ? Number.POSITIVE_INFINITY : (wholeNumber(flags.last, "--last") ?? 20);
  if (flags.all === true && flags.last !== undefined) throw new UsageError("give --last or --all, not both");
  if (flags.eventType !== undefined && !EVENT_TYPE_PATTERN.test(flags.eventType)) {
    throw new UsageError(
      `--event-type must be an event type such as decision or state_capture, got '${flags.eventType}'`,
    );
  }
  const sinceMs = flags.since === undefined ? null : parseSince(flags.since);
  const project = await auditProject(flags);
  const path = logPathOf(log, flags, project);
  const segments = expandLogPaths([path]);
  for (const s of segments)
    if (!existsSync(s)) throw new AuditError("NOT_FOUND", `Audit log not found: ${s}`);
  const picked: Record<string, unknown>[] = [];
  outer: for (let i = segments.length - 1; i >= 0 && picked.length < last; i--) {
    for (const { text, torn } of readLinesBackward(segments[i]!)) {
      if (picked.length >= last) break outer;
      if (text.trim() === "") continue;
      let ev: Record<string, unknown>;
      try {
        ev = parseEvent(text);
      } catch {
        printErr(
          `warning: ${torn ? "a torn last line" : "a line that is not JSON"} in ${segments[i]} was skipped (run: agent-safe audit verify)`,
        );
        continue;
      }
      if (matches(ev, flags, sinceMs)) picked.push(ev);
    }
  }
  picked.reverse();
  if (wantsJson(flags)) printJson(picked);
  else if (picked.length === 0) print(last === 0 ? "0 event(s) shown." : "No audit entries found.");
  else {
    for (const ev of picked) print(formatLine(ev));
    print(`\n${picked.length} event(s) shown.`);
  }
  process.exitCode = EXIT.OK;
}

function matches(ev: Record<string, unknown>, flags: ShowFlags, sinceMs: number | null): boolean {
  const type = typeof ev.event_type === "string" ? ev.event_type : "decision";
  if (flags.eventType !== undefined && type !== flags.eventType) return false;
  if (flags.caller !== undefined && ev.caller !== flags.caller) return false;
  if (flags.action !== undefined && ev.action !== flags.action) return false;
  if (sinceMs !== null) {
    const ms = typeof ev.timestamp === "string" ? Date.parse(ev.timestamp) : Number.NaN;
    if (!(ms >= sinceMs)) return false;
  }
  return true;
}

/** ISO-8601, or a duration back from now: `90s`, `30m`, `2h`, `7d`. */
export function parseSince(text: string, now = Date.now()): number {
  const rel = /^([0-9]+)\s*([smhd])$/.exec(text.trim());
  if (rel !== null) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as "s" | "m" | "h" | "d"];
    return now - Number(rel[1]) * unit;
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    throw new UsageError(`--since must be an ISO-8601 time or a duration like 30m, 2h, 7d; got '${text}'`);
  }
  return ms;
}

function str(v: unknown): string {
  return v === null || v === undefined ? "" : String(v);
}

/** 0.9.0's line layout: `  <ts[:19]>  <LABEL:<17> <action:<25> target=<t>  caller=<c>`. */
export function formatLine(ev: Record<string, unknown>): string {
  const type = typeof ev.event_type === "string" ? ev.event_type : "decision";
  const ts = str(ev.timestamp).slice(0, 19);
  const action = str(ev.action).padEnd(25);
  if (type === "state_capture") {
    const ctx = (ev.context ?? {}) as Record<string, unknown>;
    return `  ${ts}  ${"STATE_CAPTURE".padEnd(17)} ${action} target=${str(ev.target)}  audit_id=${str(ctx.original_audit_id)}`;
  }
  if (type === "decision" || type === "execution" || type === "approval") {
    return `  ${ts}  ${str(ev.decision).toUpperCase().padEnd(17)} ${action} target=${str(ev.target)}  caller=${str(ev.caller)}`;
  }
  return `  ${ts}  ${type.toUpperCase().padEnd(17)} ${action} ${str(ev.reason)}`;
}
