/**
 * `verifyLog`: checks a log (a segment set) end to end.
 *
 * - v2: every line's hash over its raw bytes, the prev_hash chain and seq from genesis across
 *   segments, one chain id, no torn tail, and every checkpoint event's signature; with external
 *   checkpoints (the side file or a shipped copy), that the log still holds each checkpointed
 *   event with the signed hash — so cutting the tail or rewriting the chain after a shipped
 *   checkpoint is detected. Big logs are split by byte ranges over worker threads (plus this one);
 *   the chain link at each seam is checked here.
 * - v1 (0.9.0): the reference's algorithm and messages (verify-v1.ts).
 */
import type { KeyObject } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { checkpointFromContext, readCheckpointFile, verifyCheckpointSignature } from "./checkpoint.js";
import { AuditError } from "./errors.js";
import { emptyFields, scanLine } from "./line.js";
import { readLinesSync } from "./reader.js";
import { expandLogPaths } from "./segments.js";
import { type Checkpoint, GENESIS_HASH } from "./types.js";
import { planChunks, runChunks } from "./verify-parallel.js";
import { type RangeResult, short } from "./verify-range.js";
import { verifyV1Files } from "./verify-v1.js";

export interface VerifyOptions {
  /** Shipped checkpoints: a file (or files) of checkpoint lines, or the checkpoints themselves. */
  checkpoints?: string | readonly string[] | readonly Checkpoint[];
  /** Public keys by kid. Without them, signatures are reported as unverified. */
  publicKeys?: ReadonlyMap<string, KeyObject> | null;
  /** Threads to use (default: one per CPU for logs over 4 MB). */
  workers?: number;
  /** Size of the chunks threads claim (default 4 MB; small values exercise the seams in tests). */
  chunkBytes?: number;
  /** Report at most this many problems (default 1000). */
  maxIssues?: number;
}

export interface VerifyIssue {
  segment: string;
  /** Physical line in the segment (0.9.0 logs: non-blank lines), or null. */
  line: number | null;
  seq: number | null;
  code: string;
  message: string;
}

export type SigningStatus = "signed" | "unsigned" | "unverified" | "invalid";

export interface VerifyReport {
  ok: boolean;
  format: "v2" | "v1" | "empty";
  segments: string[];
  events: number;
  lastSeq: number | null;
  lastHash: string | null;
  chainId: string | null;
  issues: VerifyIssue[];
  notes: string[];
  signing: {
    status: SigningStatus;
    /** Checkpoint events in the log. */
    checkpoints: number;
    verified: number;
    newestSeq: number | null;
    /** Events after the newest checkpoint (not yet covered by a signature). */
    unsignedTail: number;
    /** External checkpoints checked against the log. */
    external: number;
  };
  torn: { segment: string; offset: number; bytes: number; line: number } | null;
}

const PARALLEL_THRESHOLD = 4 * 1024 * 1024;

export async function verifyLog(
  paths: string | readonly string[],
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const segments = expandLogPaths(typeof paths === "string" ? [paths] : paths);
  for (const s of segments)
    if (!existsSync(s)) throw new AuditError("NOT_FOUND", `Audit log not found: ${s}`);
  const external = loadExternal(options.checkpoints);
  const report: VerifyReport = {
    ok: true,
    format: detectFormat(segments),
    segments,
    events: 0,
    lastSeq: null,
    lastHash: null,
    chainId: null,
    issues: [],
    notes: [],
    signing: {
      status: "unsigned",
      checkpoints: 0,
      verified: 0,
      newestSeq: null,
      unsignedTail: 0,
      external: 0,
    },
    torn: null,
  };
  if (report.format === "v1") {
    const v1 = verifyV1Files(segments);
    report.events = v1.events;
    report.lastHash = v1.lastHash;
    report.issues = v1.errors.map((e) => ({
      segment: segments[0]!,
      line: e.line,
      seq: null,
      code: "v1",
      message: e.message,
    }));
    report.notes.push("0.9.0 (v1) log: hash chain only; such logs carry no signatures");
    report.ok = report.issues.length === 0;
    return report;
  }
  const maxIssues = options.maxIssues ?? 1000;
  const lookups = [...new Set(external.checkpoints.map((c) => c.seq))];
  const sizes = segments.reduce((n, seg) => n + statSync(seg).size, 0);
  const threads = Math.max(
    1,
    options.workers ?? (sizes >= PARALLEL_THRESHOLD ? Math.min(availableParallelism(), 8) : 1),
  );
  const results = await runChunks(planChunks(segments, lookups, maxIssues, options.chunkBytes), threads);
  stitch(report, results);
  checkSignatures(report, results, options.publicKeys ?? null);
  checkExternal(report, results, external, options.publicKeys ?? null);
  report.issues.push(
    ...external.problems.map((message) => ({
      segment: "",
      line: null,
      seq: null,
      code: "checkpoints_file",
      message,
    })),
  );
  // In log order; problems without a line (a cut tail, the checkpoints file) after those with one.
  const rank = (i: VerifyIssue) => (i.line === null ? Number.MAX_SAFE_INTEGER : i.line);
  const seg = (i: VerifyIssue) => (i.segment === "" ? segments.length : segments.indexOf(i.segment));
  report.issues.sort((a, b) => seg(a) - seg(b) || rank(a) - rank(b));
  if (report.issues.length > maxIssues) report.issues.length = maxIssues;
  report.ok = report.issues.length === 0;
  return report;
}

/** `Line N (seq S): message`, prefixed with the segment when the set has several. */
export function formatIssue(issue: VerifyIssue, multiSegment: boolean): string {
  if (issue.code === "v1") return issue.message;
  const where =
    issue.line === null
      ? issue.seq === null
        ? ""
        : `Seq ${issue.seq}: `
      : `Line ${issue.line}${issue.seq === null ? "" : ` (seq ${issue.seq})`}: `;
  const seg = multiSegment && issue.segment !== "" ? `${issue.segment} ` : "";
  return `${seg}${seg !== "" ? where.charAt(0).toLowerCase() + where.slice(1) : where}${issue.message}`;
}

function detectFormat(segments: readonly string[]): VerifyReport["format"] {
  const f = emptyFields();
  for (const s of segments) {
    for (const l of readLinesSync(s, { chunkSize: 64 * 1024 })) {
      if (l.buf.subarray(l.start, l.end).toString("latin1").trim() === "") continue;
      scanLine(l.buf, l.start, l.end, f);
      return f.v === null && f.entryHash !== null ? "v1" : "v2";
    }
  }
  return "empty";
}

function loadExternal(source: VerifyOptions["checkpoints"]): {
  checkpoints: Checkpoint[];
  problems: string[];
} {
  if (source === undefined) return { checkpoints: [], problems: [] };
  if (typeof source === "string") return readCheckpointFile(source);
  if (source.length > 0 && typeof source[0] !== "string")
    return { checkpoints: [...(source as Checkpoint[])], problems: [] };
  const out = { checkpoints: [] as Checkpoint[], problems: [] as string[] };
  for (const file of source as readonly string[]) {
    const r = readCheckpointFile(file);
    out.checkpoints.push(...r.checkpoints);
    out.problems.push(...r.problems);
  }
  return out;
}

/** Joins range results in order: line numbers per segment, seq and chain links at the seams. */
function stitch(report: VerifyReport, results: RangeResult[]): void {
  const lineBase = new Map<string, number>();
  let prev: { seq: number; entryHash: string } | null = null;
  for (const r of results) {
    const base = lineBase.get(r.path) ?? 0;
    lineBase.set(r.path, base + r.lines);
    for (const i of r.issues)
      report.issues.push({
        segment: r.path,
        line: base + i.line,
        seq: i.seq,
        code: i.code,
        message: i.message,
      });
    for (const c of r.checkpoints) c.line += base;
    for (const f of r.found) f.line += base;
    report.events += r.events;
    if (r.chainId !== null) {
      if (report.chainId === null) report.chainId = r.chainId;
      else if (r.chainId !== report.chainId && r.head !== null) {
        report.issues.push({
          segment: r.path,
          line: base + r.head.line,
          seq: r.head.seq,
          code: "chain_id",
          message: `chain_id changed from '${report.chainId}' to '${r.chainId}'`,
        });
      }
    }
    if (r.head !== null) {
      const h = r.head;
      const line = base + h.line;
      const expectSeq = prev === null ? 1 : prev.seq + 1;
      const expectPrev = prev === null ? GENESIS_HASH : prev.entryHash;
      if (h.seq !== expectSeq) {
        const why =
          prev === null
            ? " (the log does not start at the first event: earlier segments or lines missing?)"
            : "";
        report.issues.push({
          segment: r.path,
          line,
          seq: h.seq,
          code: "seq",
          message: `seq out of order — expected ${expectSeq}, got ${h.seq}${why}`,
        });
      }
      if (h.prevHash !== expectPrev) {
        report.issues.push({
          segment: r.path,
          line,
          seq: h.seq,
          code: "chain",
          message: `chain broken — expected prev_hash ${short(expectPrev)}, got ${short(h.prevHash)}`,
        });
      }
    }
    if (r.tail !== null) prev = { seq: r.tail.seq, entryHash: r.tail.entryHash };
    if (r.torn !== null) {
      const line = base + r.torn.line;
      report.torn = { segment: r.path, offset: r.torn.offset, bytes: r.torn.bytes, line };
      report.issues.push({
        segment: r.path,
        line,
        seq: null,
        code: "torn",
        message: `torn last line (${r.torn.bytes} bytes without a newline at offset ${r.torn.offset}, cut by a crash); repair with: agent-safe audit verify --repair`,
      });
    }
  }
  report.lastSeq = prev?.seq ?? null;
  report.lastHash = prev?.entryHash ?? null;
}

function checkSignatures(
  report: VerifyReport,
  results: RangeResult[],
  keys: ReadonlyMap<string, KeyObject> | null,
): void {
  const s = report.signing;
  let newestEventSeq: number | null = null;
  for (const r of results) {
    for (const c of r.checkpoints) {
      s.checkpoints++;
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(c.text) as Record<string, unknown>;
      } catch {
        report.issues.push({
          segment: r.path,
          line: c.line,
          seq: null,
          code: "checkpoint",
          message: "checkpoint event is not valid JSON",
        });
        continue;
      }
      const seq = typeof ev.seq === "number" ? ev.seq : null;
      const cp = checkpointFromContext(ev.context, String(ev.timestamp));
      const bad = (message: string) =>
        report.issues.push({ segment: r.path, line: c.line, seq, code: "checkpoint", message });
      if (cp === null || seq === null) {
        bad("malformed checkpoint event");
        continue;
      }
      if (cp.seq !== seq - 1 || cp.last_hash !== ev.prev_hash || cp.chain_id !== ev.chain_id) {
        bad(
          `checkpoint does not describe the event before it (signed seq ${cp.seq}, hash ${short(cp.last_hash)})`,
        );
        continue;
      }
      newestEventSeq = seq;
      if (keys === null) continue;
      const key = keys.get(cp.kid);
      if (key === undefined) bad(`checkpoint signed by an unknown key (kid ${cp.kid})`);
      else if (!verifyCheckpointSignature(key, cp, cp.signature))
        bad("checkpoint signature is invalid (the chain was rewritten, or the checkpoint forged)");
      else s.verified++;
    }
  }
  s.newestSeq = newestEventSeq;
  s.unsignedTail = report.lastSeq === null ? 0 : report.lastSeq - (newestEventSeq ?? 0);
  if (s.checkpoints === 0) s.status = "unsigned";
  else if (report.issues.some((i) => i.code === "checkpoint")) s.status = "invalid";
  else s.status = keys === null ? "unverified" : "signed";
  if (s.status === "unsigned" && report.events > 0)
    report.notes.push("unsigned: the log has no checkpoints (no audit key was configured)");
  if (s.status === "unverified")
    report.notes.push("checkpoint signatures not verified: no audit public key (pass --public-key)");
  if (s.checkpoints > 0 && s.unsignedTail > 0) {
    report.notes.push(
      `${s.unsignedTail} event(s) after the newest checkpoint are not yet covered by a signature`,
    );
  }
}

function checkExternal(
  report: VerifyReport,
  results: RangeResult[],
  external: { checkpoints: Checkpoint[] },
  keys: ReadonlyMap<string, KeyObject> | null,
): void {
  const found = new Map<number, { line: number; entryHash: string; segment: string }>();
  for (const r of results)
    for (const f of r.found) found.set(f.seq, { line: f.line, entryHash: f.entryHash, segment: r.path });
  const lastSegment = report.segments[report.segments.length - 1] ?? "";
  for (const cp of external.checkpoints) {
    report.signing.external++;
    const issue = (segment: string, line: number | null, message: string) =>
      report.issues.push({ segment, line, seq: cp.seq, code: "external_checkpoint", message });
    if (report.chainId !== null && cp.chain_id !== report.chainId) {
      issue("", null, `checkpoint is for chain '${cp.chain_id}', the log is '${report.chainId}'`);
      continue;
    }
    if (keys !== null) {
      const key = keys.get(cp.kid);
      if (key === undefined || !verifyCheckpointSignature(key, cp, cp.signature)) {
        issue(
          "",
          null,
          `shipped checkpoint for seq ${cp.seq} has an invalid signature (kid ${cp.kid}); it proves nothing`,
        );
        continue;
      }
    }
    const at = found.get(cp.seq);
    if (at === undefined) {
      const end = report.lastSeq === null ? "the log is empty" : `the log ends at seq ${report.lastSeq}`;
      issue(
        lastSegment,
        null,
        `log truncated: a checkpoint signed at ${cp.timestamp} covers seq ${cp.seq} (hash ${short(cp.last_hash)}) but ${end}`,
      );
    } else if (at.entryHash !== cp.last_hash) {
      issue(
        at.segment,
        at.line,
        `does not match the checkpoint signed at ${cp.timestamp}: the chain was rewritten (checkpoint hash ${short(cp.last_hash)}, log hash ${short(at.entryHash)})`,
      );
    }
  }
}
