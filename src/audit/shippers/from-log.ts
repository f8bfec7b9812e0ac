/** Reading a range of events back from the log, to ship what a queue could not hold. */
import { emptyFields, scanLine } from "../line.js";
import { firstSeqOf, parseEvent, readLinesAsync } from "../reader.js";
import type { AuditRecord } from "../types.js";
import type { ShipItem } from "./types.js";

/**
 * The events with `from <= seq <= to` (`to` = Infinity: to the end), in order, from a segment set
 * (oldest first). Starts at the segment that holds `from`; stops at a torn last line. 0.9.0 lines
 * (no seq) are numbered by their position among the non-blank lines.
 */
export async function* eventsBetween(
  segments: readonly string[],
  from: number,
  to = Number.POSITIVE_INFINITY,
): AsyncGenerator<ShipItem> {
  let startAt = 0;
  for (let i = segments.length - 1; i > 0; i--) {
    const first = firstSeqOf(segments[i]!);
    if (first !== null && first <= from) {
      startAt = i;
      break;
    }
  }
  const fields = emptyFields();
  let position = 0;
  for (const segment of segments.slice(startAt)) {
    for await (const line of readLinesAsync(segment)) {
      if (line.torn) return;
      if (line.end === line.start) continue;
      position++;
      scanLine(line.buf, line.start, line.end, fields);
      const seq = fields.seq ?? (fields.v === null ? position : null);
      if (seq === null || seq < from) continue;
      if (seq > to) return;
      const text = line.buf.toString("utf8", line.start, line.end);
      const record = parseEvent(text) as unknown as AuditRecord;
      yield { record: fields.seq === null ? ({ ...record, seq } as AuditRecord) : record, line: `${text}\n` };
    }
  }
}
