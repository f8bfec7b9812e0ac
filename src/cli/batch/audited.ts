/**
 * `check --batch --audit`: every decision also goes to the project's audit log. The log has one
 * writer, so this runs on the main thread; appends are issued many at a time so that group
 * commit (fsync: batch) shares each fsync among them. A what-if tool: the requests' own
 * timestamps are honoured, callers are taken as given, and no guard state or ticket is touched.
 */
import type { OpenProject } from "../../config/open-project.js";
import type { EvalTime } from "../../core/time.js";
import type { Decision } from "../../pdp/decision.js";
import { DecisionPipeline } from "../../pdp/pipeline.js";
import { compose } from "../../sdk/compose.js";
import { countNewlines, forEachLine, invalidLine, type ParsedLine, parseLine } from "./line.js";
import { DecisionWriter } from "./output.js";

const IN_FLIGHT = 512;

export async function runAuditedBatch(
  opened: OpenProject,
  chunks: AsyncIterable<Uint8Array[]>,
  times: { defaultTime: EvalTime; forcedTime: EvalTime | null },
  write: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  // A what-if tool: decisions are recorded, but no tickets are issued and no approvals filed.
  const composed = await compose(opened, { approvals: false });
  try {
    if (composed.audit === null)
      throw new Error("--audit: the audit log is disabled in agent-safe.yaml (audit.enabled: false)");
    const pipeline = new DecisionPipeline({
      ...composed.parts,
      guards: null,
      tickets: null,
      identity: null,
      keysConfigured: false,
      approvals: null,
    });
    const out = new DecisionWriter();
    let lineNo = 1;
    for await (const parts of chunks) {
      const parsed: ParsedLine[] = [];
      forEachLine(parts, lineNo, (line, n) => parsed.push(parseLine(line, n, times)));
      lineNo += countNewlines(parts);
      for (let i = 0; i < parsed.length; i += IN_FLIGHT) {
        const slice = parsed.slice(i, i + IN_FLIGHT);
        const decisions = await Promise.all(
          slice.map((p) =>
            "invalid" in p ? null : pipeline.check(p.request, { at: p.time, trusted: true }),
          ),
        );
        slice.forEach((p, k) => {
          const d: Decision | null = decisions[k] ?? null;
          if (d === null) invalidLine(out, p.id, (p as { invalid: string }).invalid);
          else out.writeFields(p.id, d);
        });
      }
      await write(out.take());
    }
  } finally {
    await composed.close();
  }
}
