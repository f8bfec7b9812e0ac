/**
 * The lookup index `<log>.index` (SQLite): event id, seq, type, `context.original_audit_id` and
 * the line's position, for every event of the segment set. It is a cache of the log, never a
 * source of truth:
 *
 * - each refresh reads only the bytes appended since the last one (segments are recognised by the
 *   hash of their first event, so rotation renames cost nothing);
 * - a segment that shrank, or whose last indexed line no longer carries the recorded hash, is
 *   re-indexed from its start;
 * - every lookup re-reads the line from the log and checks its event id.
 *
 * So `audit show-state` and friends cost one small read per hit, not a pass over the log. When the
 * index cannot be written (a read-only archive), callers fall back to a scan.
 */
import { closeSync, openSync, statSync } from "node:fs";
import { emptyFields, scanLine } from "./line.js";
import { loadSqlite } from "./lock.js";
import { parseEvent, readLinesSync } from "./reader.js";
import { indexPath, listSegments } from "./segments.js";
import { readFirstLine, readFully } from "./tail.js";

interface Db {
  exec(sql: string): unknown;
  prepare(sql: string): {
    run(...a: unknown[]): { lastInsertRowid: number | bigint };
    get(...a: unknown[]): unknown;
    all(...a: unknown[]): unknown[];
  };
  transaction<F extends (...a: never[]) => unknown>(fn: F): F & { immediate: F };
  close(): void;
  pragma(s: string): unknown;
}

interface SegmentRow {
  id: number;
  path: string;
  indexed_bytes: number;
  lines: number;
  last_offset: number;
  last_hash: string | null;
}

export interface IndexedEvent {
  segment: string;
  offset: number;
  line: number;
  event: Record<string, unknown>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS segments(
  id INTEGER PRIMARY KEY, first_hash TEXT UNIQUE NOT NULL, path TEXT NOT NULL,
  indexed_bytes INTEGER NOT NULL, lines INTEGER NOT NULL, last_offset INTEGER NOT NULL, last_hash TEXT);
CREATE TABLE IF NOT EXISTS events(
  segment_id INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, line INTEGER NOT NULL,
  seq INTEGER, event_id TEXT, event_type TEXT, original_audit_id TEXT);
CREATE INDEX IF NOT EXISTS events_id ON events(event_id);
CREATE INDEX IF NOT EXISTS events_original ON events(original_audit_id) WHERE original_audit_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_type ON events(event_type);
`;

export class AuditIndex {
  private constructor(
    private readonly db: Db,
    readonly base: string,
  ) {}

  /** Opens (creating) the index of the log at `base` and brings it up to date; null if impossible. */
  static async open(base: string): Promise<AuditIndex | null> {
    let db: Db;
    try {
      const Database = await loadSqlite();
      db = new Database(indexPath(base), { timeout: 5000 }) as unknown as Db;
      db.pragma("journal_mode = WAL");
      db.exec(SCHEMA);
    } catch {
      return null;
    }
    const index = new AuditIndex(db, base);
    try {
      index.refresh();
    } catch {
      index.close();
      return null;
    }
    return index;
  }

  close(): void {
    this.db.close();
  }

  /** Lines read by the last refresh (0 when nothing was appended since). */
  lastRefreshLines = 0;

  /** Indexes whatever was appended since the last refresh; returns how many lines it read. */
  refresh(): number {
    // One write transaction: two commands refreshing at once index each line once.
    return this.db.transaction(() => this.refreshLocked()).immediate();
  }

  private refreshLocked(): number {
    this.lastRefreshLines = 0;
    const segments = listSegments(this.base);
    const get = this.db.prepare("SELECT * FROM segments WHERE first_hash = ?");
    for (const path of segments) {
      const first = readFirstLine(path);
      if (first === null) continue;
      const f = emptyFields();
      scanLine(first, 0, first.length, f);
      if (f.entryHash === null) continue;
      let row = get.get(f.entryHash) as SegmentRow | undefined;
      const size = statSync(path).size;
      if (row !== undefined && row.path !== path) {
        // Rotation renamed the segment: same content, new name.
        this.db.prepare("UPDATE segments SET path = ? WHERE id = ?").run(path, row.id);
        row = { ...row, path };
      }
      if (row !== undefined && (size < row.indexed_bytes || !this.stillMatches(path, row))) {
        this.db.prepare("DELETE FROM events WHERE segment_id = ?").run(row.id);
        this.db.prepare("DELETE FROM segments WHERE id = ?").run(row.id);
        row = undefined;
      }
      if (row === undefined) {
        const id = this.db
          .prepare(
            "INSERT INTO segments(first_hash, path, indexed_bytes, lines, last_offset, last_hash) VALUES (?, ?, 0, 0, 0, NULL)",
          )
          .run(f.entryHash, path).lastInsertRowid;
        row = { id: Number(id), path, indexed_bytes: 0, lines: 0, last_offset: 0, last_hash: null };
      }
      if (size > row.indexed_bytes) this.lastRefreshLines += this.indexSegment(row, size);
    }
    return this.lastRefreshLines;
  }

  private stillMatches(path: string, row: SegmentRow): boolean {
    if (row.last_hash === null) return true;
    const fd = openSync(path, "r");
    try {
      const len = row.indexed_bytes - row.last_offset;
      const buf = Buffer.alloc(len);
      readFully(fd, buf, row.last_offset);
      const f = emptyFields();
      scanLine(buf, 0, Math.max(0, len - 1), f);
      return f.entryHash === row.last_hash;
    } catch {
      return false;
    } finally {
      closeSync(fd);
    }
  }

  private indexSegment(row: SegmentRow, size: number): number {
    const insert = this.db.prepare(
      "INSERT INTO events(segment_id, offset, length, line, seq, event_id, event_type, original_audit_id) VALUES (?,?,?,?,?,?,?,?)",
    );
    const f = emptyFields();
    let { indexed_bytes: bytes, lines, last_offset: lastOffset, last_hash: lastHash } = row;
    const run = this.db.transaction(() => {
      for (const l of readLinesSync(row.path, {
        start: row.indexed_bytes,
        end: size,
        firstLineNo: row.lines + 1,
      })) {
        if (l.torn) break;
        lines = l.lineNo;
        lastOffset = l.offset;
        bytes = l.offset + (l.end - l.start) + 1;
        if (l.end === l.start) continue;
        scanLine(l.buf, l.start, l.end, f);
        lastHash = f.entryHash;
        let original: string | null = null;
        if (l.buf.subarray(l.start, l.end).includes('"original_audit_id"')) {
          try {
            const ctx = parseEvent(l.buf.toString("utf8", l.start, l.end)).context as Record<
              string,
              unknown
            > | null;
            if (ctx !== null && typeof ctx?.original_audit_id === "string") original = ctx.original_audit_id;
          } catch {
            // not JSON: verify reports it; the index just skips its details
          }
        }
        insert.run(
          row.id,
          l.offset,
          l.end - l.start,
          l.lineNo,
          f.seq,
          f.eventId,
          f.eventType ?? "decision",
          original,
        );
      }
      this.db
        .prepare(
          "UPDATE segments SET indexed_bytes = ?, lines = ?, last_offset = ?, last_hash = ? WHERE id = ?",
        )
        .run(bytes, lines, lastOffset, lastHash, row.id);
    });
    run();
    return lines - row.lines;
  }

  private load(rows: { path: string; offset: number; length: number; line: number }[]): IndexedEvent[] {
    const out: IndexedEvent[] = [];
    for (const r of rows) {
      const fd = openSync(r.path, "r");
      try {
        const buf = Buffer.alloc(r.length);
        readFully(fd, buf, r.offset);
        out.push({
          segment: r.path,
          offset: r.offset,
          line: r.line,
          event: parseEvent(buf.toString("utf8")),
        });
      } finally {
        closeSync(fd);
      }
    }
    return out;
  }

  private query(where: string, ...args: unknown[]): IndexedEvent[] {
    const rows = this.db
      .prepare(
        `SELECT s.path AS path, e.offset AS offset, e.length AS length, e.line AS line, e.event_id AS event_id
         FROM events e JOIN segments s ON s.id = e.segment_id WHERE ${where} ORDER BY s.id, e.offset`,
      )
      .all(...args) as {
      path: string;
      offset: number;
      length: number;
      line: number;
      event_id: string | null;
    }[];
    const events = this.load(rows);
    // The index is a cache: trust a hit only if the line still says what the index says.
    return events.filter((e, i) => e.event.event_id === rows[i]!.event_id);
  }

  /** Events with this id (normally one). */
  byEventId(eventId: string): IndexedEvent[] {
    return this.query("e.event_id = ?", eventId);
  }

  /** Events whose `context.original_audit_id` is `auditId`, optionally of one type, in log order. */
  byOriginalAuditId(auditId: string, eventType?: string): IndexedEvent[] {
    return eventType === undefined
      ? this.query("e.original_audit_id = ?", auditId)
      : this.query("e.original_audit_id = ? AND e.event_type = ?", auditId, eventType);
  }

  /** Decision events, and how many have a state capture (`audit state-coverage`). */
  stateCoverage(): { total: number; covered: number; uncovered: string[] } {
    const total = (
      this.db.prepare("SELECT COUNT(*) AS n FROM events WHERE event_type = 'decision'").get() as { n: number }
    ).n;
    const uncovered = (
      this.db
        .prepare(
          `SELECT e.event_id AS id FROM events e WHERE e.event_type = 'decision' AND NOT EXISTS
           (SELECT 1 FROM events s WHERE s.event_type = 'state_capture' AND s.original_audit_id = e.event_id)
           ORDER BY e.rowid`,
        )
        .all() as { id: string }[]
    ).map((r) => r.id);
    return { total, covered: total - uncovered.length, uncovered };
  }
}
