/**
 * The writer's file work: opening the active segment, recovering the chain head from its tail
 * (or from the newest rotated segment), rotation, and the crash-test hook.
 */
import { closeSync, fsyncSync, openSync, renameSync, write as writeCb } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { AuditError, AuditWriteError, describeSystemError, errnoOf } from "./errors.js";
import { cutTornTail, type RepairInfo } from "./repair.js";
import { rotatedNumbers, segmentPath } from "./segments.js";
import { type ChainHead, headFromLine, readFirstLine, readTail } from "./tail.js";

const write = promisify(writeCb);

export function openLog(path: string): number {
  try {
    return openSync(path, "a+", 0o640);
  } catch (err) {
    throw new AuditWriteError(
      "UNWRITABLE",
      `Cannot open audit log ${path}: ${describeSystemError(err)}`,
      errnoOf(err),
      {
        cause: err,
      },
    );
  }
}

/**
 * Where the chain stands at open: the last line of the active segment (or, when it is empty, of
 * the newest rotated segment). A torn tail is cut when `repair`, else refused; so are a 0.9.0
 * log, a corrupt tail and another chain's log.
 */
export function recoverTail(
  fd: number,
  path: string,
  chainId: string,
  repair: boolean,
): { size: number; head: ChainHead | null; repaired: RepairInfo | null } {
  let tail = readTail(fd);
  let repaired: RepairInfo | null = null;
  if (tail.torn !== null && repair) {
    repaired = cutTornTail(fd, path, tail.torn);
    tail = readTail(fd);
  }
  if (tail.torn !== null) {
    throw new AuditError(
      "TORN_TAIL",
      `Audit log ${path} ends with a torn line (${tail.torn.bytes} bytes after offset ${tail.torn.offset}, ` +
        `cut by a crash); nothing is appended until it is repaired: agent-safe audit verify --repair ${path}`,
    );
  }
  let head: ChainHead | null = null;
  if (tail.lastLine !== null) {
    head = headFromLine(tail.lastLine, `Audit log ${path}`);
  } else {
    // An empty active segment (e.g. a crash right after a rotation): continue the newest segment.
    const numbers = rotatedNumbers(path);
    const newest = numbers.length > 0 ? segmentPath(path, numbers[numbers.length - 1]!) : null;
    if (newest !== null) head = headOfSegment(newest);
  }
  if (head !== null && head.chainId !== chainId) {
    throw new AuditError(
      "CHAIN_MISMATCH",
      `Audit log ${path} holds chain '${head.chainId}', not '${chainId}'; each chain needs its own log`,
    );
  }
  return { size: tail.size, head, repaired };
}

function headOfSegment(path: string): ChainHead | null {
  const fd = openSync(path, "r");
  try {
    const tail = readTail(fd);
    if (tail.torn !== null) {
      throw new AuditError(
        "TORN_TAIL",
        `Audit segment ${path} ends with a torn line; run: agent-safe audit verify`,
      );
    }
    return tail.lastLine === null ? null : headFromLine(tail.lastLine, `Audit segment ${path}`);
  } finally {
    closeSync(fd);
  }
}

/** When the segment's first event was written (for rotation by age). */
export function firstEventMs(path: string): number | null {
  const line = readFirstLine(path);
  if (line === null) return null;
  // The top-level timestamp is the last member but `v` (a nested one may come earlier).
  const m = /"timestamp":"([^"]+)","v":2}$/.exec(line.toString("utf8"));
  const ms = m ? Date.parse(m[1]!) : Number.NaN;
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Rotation: fsyncs the active segment, renames it to the next number, opens a new active segment
 * and returns its descriptor. A crash in between leaves no active segment, which `recoverTail`
 * handles.
 */
export function rotateActive(path: string, fd: number): number {
  fsyncSync(fd);
  const numbers = rotatedNumbers(path);
  const next = (numbers.length > 0 ? numbers[numbers.length - 1]! : 0) + 1;
  renameSync(path, segmentPath(path, next));
  const fresh = openLog(path);
  closeSync(fd);
  syncDir(dirname(path));
  return fresh;
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is atomic.
  }
}

/** The lines as UTF-8 bytes (written one by one: cheaper than joining the strings first). */
export function encodeLines(lines: readonly string[]): Buffer {
  let chars = 0;
  for (const l of lines) chars += l.length;
  const buf = Buffer.allocUnsafe(chars * 3);
  let at = 0;
  for (const l of lines) at += buf.write(l, at, "utf8");
  return buf.subarray(0, at);
}

export async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await write(fd, buf, done, buf.length - done, null);
    if (bytesWritten <= 0) throw Object.assign(new Error("EIO: write made no progress"), { code: "EIO" });
    done += bytesWritten;
  }
}

/**
 * Test hook (crash tests): the index in `seqs` of the event whose line must be torn, from the
 * option or `AGENT_SAFE_TEST_AUDIT_TORN_WRITE_AT`.
 */
export function tornIndex(option: number | undefined, seqs: readonly number[]): number | null {
  const env = process.env.AGENT_SAFE_TEST_AUDIT_TORN_WRITE_AT;
  const at = option ?? (env ? Number(env) : undefined);
  if (at === undefined || !Number.isInteger(at)) return null;
  const i = seqs.indexOf(at);
  return i === -1 ? null : i;
}

/** Test hook: writes `buf` up to the middle of its line `index`, fsyncs, and SIGKILLs itself. */
export async function writeTornAndDie(fd: number, buf: Buffer, index: number): Promise<never> {
  const lines = buf.toString("utf8").split("\n");
  const before = lines.slice(0, index).join("\n") + (index > 0 ? "\n" : "");
  const line = lines[index] ?? "";
  await writeAll(fd, Buffer.from(before + line.slice(0, Math.max(1, line.length >> 1)), "utf8"));
  fsyncSync(fd);
  process.kill(process.pid, "SIGKILL");
  return new Promise<never>(() => {});
}
