/**
 * A shipper's durable cursor: the last event delivered to one destination, in
 * `<log>.cursors/<destination id>.json`, written atomically (temp file + rename). Everything up to
 * `seq` has been delivered; a restart resumes at `seq + 1`. The cursor is locked while in use (the
 * same dies-with-the-process lock as the log), so a live writer and `audit ship` never ship to one
 * destination at once.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AuditError, AuditLockedError } from "../errors.js";
import { FileLock } from "../lock.js";

export interface CursorState {
  seq: number;
  event_id: string | null;
  entry_hash: string | null;
  chain_id: string | null;
  updated_at: string | null;
}

const EMPTY: CursorState = { seq: 0, event_id: null, entry_hash: null, chain_id: null, updated_at: null };

export class Cursor {
  private dirty = false;

  private constructor(
    readonly path: string,
    private readonly lock: FileLock,
    private state: CursorState,
  ) {}

  /** Opens (and locks) the cursor `<dir>/<id>.json`; a missing file is "nothing shipped yet". */
  static async open(dir: string, id: string): Promise<Cursor> {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new AuditError("CONFIG", `Invalid shipper id: ${id}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new AuditError("UNWRITABLE", `Cannot create the shipper cursor directory ${dir}`, { cause: err });
    }
    const path = join(dir, `${id}.json`);
    let lock: FileLock;
    try {
      lock = await FileLock.acquire(join(dir, `${id}.lock`), `shipper cursor ${path}`);
    } catch (err) {
      if (err instanceof AuditLockedError) {
        throw new AuditError(
          "LOCKED",
          `Shipper cursor ${path} is in use by pid ${err.pid ?? "unknown"} (a writer or another audit ship is shipping to this destination)`,
        );
      }
      throw err;
    }
    try {
      return new Cursor(path, lock, readCursor(path));
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  get seq(): number {
    return this.state.seq;
  }

  get value(): Readonly<CursorState> {
    return this.state;
  }

  advance(next: Omit<CursorState, "updated_at">): void {
    this.state = { ...next, updated_at: new Date().toISOString() };
    this.dirty = true;
  }

  /** Writes the cursor if it changed; `durable` also fsyncs it. */
  save(durable = false): void {
    if (!this.dirty) return;
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(this.state)}\n`);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.dirty = false;
  }

  close(): void {
    try {
      this.save(true);
    } finally {
      this.lock.release();
    }
  }
}

function readCursor(path: string): CursorState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { ...EMPTY };
  }
  try {
    const v = JSON.parse(text) as Partial<CursorState>;
    if (typeof v.seq !== "number" || !Number.isInteger(v.seq) || v.seq < 0) throw new Error("bad seq");
    return {
      seq: v.seq,
      event_id: typeof v.event_id === "string" ? v.event_id : null,
      entry_hash: typeof v.entry_hash === "string" ? v.entry_hash : null,
      chain_id: typeof v.chain_id === "string" ? v.chain_id : null,
      updated_at: typeof v.updated_at === "string" ? v.updated_at : null,
    };
  } catch {
    throw new AuditError(
      "CONFIG",
      `Shipper cursor ${path} is corrupt; fix or delete it (deleting re-ships everything)`,
    );
  }
}
