/**
 * `AuditWriter`: the only process appending to a log (DESIGN.md §6, docs/audit.md).
 *
 * - One writer per log, enforced by an exclusive SQLite lock on `<log>.lock` that dies with the
 *   process; a second writer gets `Audit log <path> is locked by pid N`.
 * - `append()` validates and redacts the event, then chains it synchronously (seq, prev_hash,
 *   entry_hash), so concurrent callers get one unbroken chain in call order. Lines are written by
 *   group commit: everything appended while a write+fsync is in flight goes out in the next one.
 *   With `fsync: batch` (default) an append resolves only after the fsync covering its line;
 *   `always` writes and fsyncs each event on its own; `never` resolves after the write.
 * - A failed write is cut back off the file (ftruncate) and the chain head is rolled back, so the
 *   log stays consistent and no seq is half-used: the affected appends reject with
 *   `AuditWriteError` (code WRITE_FAILED) and later appends try again. If the file cannot be cut
 *   back, or an fsync fails (the kernel may have dropped the data), the writer stops: every append
 *   rejects with WRITER_FAILED until it is reopened (which re-checks the tail).
 * - Start-up reads only the tail. A torn last line (a crash mid-write) or a 0.9.0 log is refused.
 * - Checkpoints every N events / T seconds / on close when an audit key is given; rotation by
 *   size or age; shippers fed after each durable write (see shippers/runner.ts).
 */
import {
  close as closeCb,
  closeSync,
  fdatasync as fdatasyncCb,
  fsyncSync,
  ftruncate as ftruncateCb,
} from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { appendCheckpointFile, checkpointEvent, signCheckpoint } from "./checkpoint.js";
import { AuditError, AuditWriteError, describeSystemError, errnoOf } from "./errors.js";
import { type EncodedEvent, encodeEvent, formatTimestamp, prepareEvent } from "./event.js";
import { FileLock } from "./lock.js";
import { Redactor } from "./redact.js";
import { type RepairInfo, repairEvent } from "./repair.js";
import { checkpointsPath, listSegments, lockPath } from "./segments.js";
import { type ShipperRunner, startRunners } from "./shippers/runner.js";
import type { ChainHead } from "./tail.js";
import {
  type AuditInput,
  type AuditRecord,
  CHAIN_ID_PATTERN,
  type Checkpoint,
  DEFAULT_CHAIN_ID,
  GENESIS_HASH,
} from "./types.js";
import {
  encodeLines,
  firstEventMs,
  openLog,
  recoverTail,
  rotateActive,
  tornIndex,
  writeAll,
  writeTornAndDie,
} from "./writer-io.js";
import type { AuditWriterOptions, FsyncMode } from "./writer-options.js";

export type { AuditWriterOptions, FsyncMode } from "./writer-options.js";

const fdatasync = promisify(fdatasyncCb);

/** Write errors after which the file is known to be intact up to our size: cut back, go on. */
const RECOVERABLE = new Set(["ENOSPC", "EFBIG", "EDQUOT"]);
const ftruncate = promisify(ftruncateCb);
const closeFd = promisify(closeCb);

interface Pending {
  enc: EncodedEvent;
  resolve: (r: AuditRecord) => void;
  reject: (e: unknown) => void;
}

export class AuditWriter {
  private fd: number;
  private size: number;
  private segmentStartedMs: number | null;
  /** Written (and with fsync, durable) position of the chain. */
  private committed: { seq: number; hash: string };
  /** Head of the chain including events not yet written. */
  private nextSeq: number;
  private lastHash: string;
  private pending: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private failure: AuditError | null = null;
  private closing = false;
  private closed = false;
  /** Seq of the newest checkpoint event (0: none yet in this chain as far as we know). */
  private checkpointSeq = 0;
  private lastCheckpointMs = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private idle: (() => void)[] = [];
  private runners: ShipperRunner[] = [];
  readonly path: string;
  readonly chainId: string;
  readonly fsyncMode: FsyncMode;
  /** What `repair: true` cut from the log at open, if anything. */
  repaired: RepairInfo | null = null;

  private constructor(
    private readonly opts: AuditWriterOptions,
    private readonly lock: FileLock,
    fd: number,
    size: number,
    head: ChainHead | null,
    segmentStartedMs: number | null,
  ) {
    this.path = resolve(opts.path);
    this.chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
    this.fsyncMode = opts.fsync ?? "batch";
    this.fd = fd;
    this.size = size;
    this.segmentStartedMs = segmentStartedMs;
    this.committed = { seq: head?.seq ?? 0, hash: head?.entryHash ?? GENESIS_HASH };
    this.nextSeq = this.committed.seq + 1;
    this.lastHash = this.committed.hash;
    if (head?.eventType === "checkpoint") this.checkpointSeq = head.seq;
  }

  /** Events (written or pending) after the newest checkpoint. */
  private get uncheckpointed(): number {
    return this.nextSeq - 1 - this.checkpointSeq;
  }

  /** Opens (creating if absent) the log at `options.path`, taking its lock. */
  static async open(options: AuditWriterOptions): Promise<AuditWriter> {
    const path = resolve(options.path);
    const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
    if (!CHAIN_ID_PATTERN.test(chainId)) throw new AuditError("CONFIG", `Invalid audit chain id: ${chainId}`);
    const mode = options.fsync ?? "batch";
    if (!["always", "batch", "never"].includes(mode))
      throw new AuditError("CONFIG", `Invalid fsync mode: ${mode}`);
    const lock = await FileLock.acquire(lockPath(path), path);
    let fd: number | undefined;
    try {
      fd = openLog(path);
      const { size, head, repaired } = recoverTail(fd, path, chainId, options.repair === true);
      const startedMs = size > 0 && options.rotateMaxAgeSeconds ? firstEventMs(path) : null;
      const writer = new AuditWriter(options, lock, fd, size, head, startedMs);
      await writer.start();
      if (repaired !== null) {
        writer.repaired = repaired;
        await writer.append(repairEvent(repaired, head));
      }
      return writer;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      lock.release();
      throw err;
    }
  }

  private async start(): Promise<void> {
    const host = {
      segments: () => listSegments(this.path),
      durableSeq: () => this.committed.seq,
      appendEvent: (input: AuditInput) => this.append(input),
      warn: (m: string) => this.warn(m),
    };
    this.runners = await startRunners(
      this.opts.shippers ?? [],
      this.path,
      this.opts.shipperOptions ?? {},
      host,
    );
    const seconds = this.opts.checkpointEverySeconds ?? 60;
    if (this.opts.signingKey && seconds > 0) {
      this.timer = setInterval(
        () => {
          if (this.uncheckpointed > 0 && Date.now() - this.lastCheckpointMs >= seconds * 1000) {
            this.checkpoint().catch((err) => this.warn(`audit checkpoint failed: ${(err as Error).message}`));
          }
        },
        Math.min(seconds * 1000, 1000),
      );
      this.timer.unref();
    }
  }

  /** The last seq handed out (written or pending). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** The last seq that is written (and, unless `fsync: never`, durable). */
  get durableSeq(): number {
    return this.committed.seq;
  }

  /**
   * Appends one event. Resolves with the event as written once its line is written (and covered
   * by an fsync, unless `fsync: never`); rejects with an `AuditError` otherwise — never resolves
   * for an event that is not in the file.
   */
  append(input: AuditInput): Promise<AuditRecord> {
    if (this.closed || (this.closing && input.event_type !== "checkpoint")) {
      return Promise.reject(new AuditError("CLOSED", `Audit log ${this.path} is closed`));
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    let enc: EncodedEvent;
    try {
      const prepared = prepareEvent(input, this.chainId, this.opts.redactor ?? defaultRedactor());
      enc = encodeEvent(prepared, this.nextSeq, this.lastHash);
    } catch (err) {
      return Promise.reject(err);
    }
    this.nextSeq++;
    this.lastHash = enc.record.entry_hash;
    return new Promise<AuditRecord>((resolveP, rejectP) => {
      this.pending.push({ enc, resolve: resolveP, reject: rejectP });
      this.schedule();
    });
  }

  /**
   * Appends a signed checkpoint for the current head now. Resolves with it once it is written,
   * or with `null` when there is no audit key or nothing new since the last checkpoint.
   */
  checkpoint(): Promise<Checkpoint | null> {
    const key = this.opts.signingKey;
    const seq = this.nextSeq - 1;
    if (!key || seq === 0 || this.uncheckpointed === 0 || this.failure !== null) return Promise.resolve(null);
    const payload = { chain_id: this.chainId, kid: key.kid, last_hash: this.lastHash, seq };
    const cp: Checkpoint = {
      ...payload,
      signature: signCheckpoint(key, payload),
      timestamp: formatTimestamp(new Date()),
    };
    this.checkpointSeq = seq + 1;
    this.lastCheckpointMs = Date.now();
    return this.append(checkpointEvent(cp)).then((record) => {
      const full = { ...cp, event_id: record.event_id };
      const file =
        this.opts.checkpointsFile === undefined ? checkpointsPath(this.path) : this.opts.checkpointsFile;
      if (file !== null) {
        try {
          appendCheckpointFile(file, full);
        } catch (err) {
          this.warn(`cannot append to the checkpoints file ${file}: ${describeSystemError(err)}`);
        }
      }
      return full;
    });
  }

  /** Waits until everything appended so far is written. */
  flush(): Promise<void> {
    if (!this.flushing && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /**
   * Writes a final checkpoint (with a key), waits for pending writes, fsyncs, lets shippers drain
   * (up to their drain timeout; the rest is resumed from the cursor next time) and releases the
   * lock.
   */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    if (this.timer !== null) clearInterval(this.timer);
    try {
      await this.flush();
      if (this.uncheckpointed > 0 && this.failure === null) {
        await this.checkpoint().catch((err) =>
          this.warn(`final checkpoint failed: ${(err as Error).message}`),
        );
      }
      await this.flush();
      if (this.failure === null) fsyncSync(this.fd);
    } finally {
      this.closed = true;
      await Promise.allSettled(this.runners.map((r) => r.stop()));
      try {
        await closeFd(this.fd);
      } finally {
        this.lock.release();
      }
    }
  }

  private warn(message: string): void {
    if (this.opts.onWarning) this.opts.onWarning(message);
    else process.emitWarning(message, "AuditWarning");
  }

  /**
   * Starts a flush on the next turn of the event loop, so that everything appended in this one
   * (e.g. every caller released by the previous fsync) shares one write and one fsync. (Starting
   * small batches early to overlap fsyncs measured slower: each fsync costs the same.)
   */
  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing && this.pending.length > 0) this.startFlush();
      else this.settle();
    });
  }

  /**
   * Group commit, pipelined: takes what is pending and dispatches its write (and fsync) at once.
   * When it completes, the next batch is dispatched *before* the finished one's appends are
   * resolved, so the callers' work for their next events overlaps the next fsync.
   */
  private startFlush(): void {
    if (this.flushing || this.pending.length === 0) return;
    const batch = this.fsyncMode === "always" ? this.pending.splice(0, 1) : this.pending.splice(0);
    if (this.failure !== null) {
      for (const p of batch) p.reject(this.failure);
      this.settle();
      return;
    }
    this.flushing = true;
    const buf = encodeLines(batch.map((p) => p.enc.line));
    try {
      this.maybeRotate(buf.length);
    } catch (err) {
      this.flushing = false;
      this.fail(batch, err, "rotate");
      this.settle();
      return;
    }
    const torn = this.tornAt(batch);
    const written = torn !== null ? this.tornWrite(buf, torn) : writeAll(this.fd, buf);
    written.then(
      () => {
        if (this.fsyncMode === "never") return this.committedBatch(batch, buf.length);
        fdatasync(this.fd).then(
          () => this.committedBatch(batch, buf.length),
          (err) => {
            this.flushing = false;
            this.fail(batch, err, "fsync");
            this.settle();
          },
        );
      },
      (err) => {
        if (!RECOVERABLE.has(errnoOf(err) ?? "")) {
          // An I/O error: what reached the disk is unknown (a failed sync may even have dropped
          // pages), so stop rather than guess.
          this.flushing = false;
          this.fail(batch, err, "write");
          this.settle();
          return;
        }
        void this.writeFailed(batch, err).finally(() => {
          this.flushing = false;
          if (this.pending.length > 0) this.startFlush();
          else this.settle();
        });
      },
    );
  }

  private committedBatch(batch: Pending[], bytes: number): void {
    this.size += bytes;
    if (this.segmentStartedMs === null) this.segmentStartedMs = Date.now();
    const last = batch[batch.length - 1]!.enc.record;
    this.committed = { seq: last.seq, hash: last.entry_hash };
    this.flushing = false;
    if (this.pending.length > 0) this.startFlush(); // dispatch the next write first...
    for (const p of batch) p.resolve(p.enc.record); // ...then let these callers go on
    for (const r of this.runners) for (const p of batch) r.offer({ record: p.enc.record, line: p.enc.line });
    const every = this.opts.checkpointEveryEvents ?? 1000;
    if (
      this.opts.signingKey &&
      every > 0 &&
      this.committed.seq - this.checkpointSeq >= every &&
      !this.closing
    ) {
      this.checkpoint().catch((err) => this.warn(`audit checkpoint failed: ${(err as Error).message}`));
    }
    this.settle();
  }

  /** Wakes `flush()` waiters once nothing is pending or in flight. */
  private settle(): void {
    if (this.flushing || this.scheduled || this.pending.length > 0) return;
    const waiters = this.idle.splice(0);
    for (const w of waiters) w();
  }

  /**
   * A write failed: cut whatever part of the batch reached the file, roll the chain head back to
   * the last written event (the queued events chained onto the failed ones, so they fail too),
   * and keep going. If the file cannot be cut back, stop.
   */
  private async writeFailed(batch: Pending[], err: unknown): Promise<void> {
    const queued = this.pending.splice(0);
    this.nextSeq = this.committed.seq + 1;
    this.lastHash = this.committed.hash;
    const error = new AuditWriteError(
      "WRITE_FAILED",
      `Audit log ${this.path}: write failed (${describeSystemError(err)}); the event was not recorded`,
      errnoOf(err),
      { cause: err },
    );
    try {
      await ftruncate(this.fd, this.size);
    } catch (truncErr) {
      this.failure = new AuditWriteError(
        "WRITER_FAILED",
        `Audit log ${this.path}: write failed (${describeSystemError(err)}) and the partial write could not be ` +
          `removed (${describeSystemError(truncErr)}); the writer has stopped, reopen it after fixing the cause`,
        errnoOf(err),
        { cause: err },
      );
      for (const p of [...batch, ...queued]) p.reject(this.failure);
      return;
    }
    for (const p of [...batch, ...queued]) p.reject(error);
  }

  /** A failure after which the file's state is unknown: stop for good. */
  private fail(batch: Pending[], err: unknown, what: string): void {
    this.failure = new AuditWriteError(
      "WRITER_FAILED",
      `Audit log ${this.path}: ${what} failed (${describeSystemError(err)}); the writer has stopped and ` +
        "these events may be incomplete on disk; reopen it after fixing the cause",
      errnoOf(err),
      { cause: err },
    );
    for (const p of [...batch, ...this.pending.splice(0)]) p.reject(this.failure);
  }

  private maybeRotate(incoming: number): void {
    if (this.size === 0) return;
    const maxBytes = this.opts.rotateMaxBytes;
    const maxAge = this.opts.rotateMaxAgeSeconds;
    const bySize = maxBytes != null && maxBytes > 0 && this.size + incoming > maxBytes;
    const byAge =
      maxAge != null && this.segmentStartedMs !== null && Date.now() - this.segmentStartedMs >= maxAge * 1000;
    if (!bySize && !byAge) return;
    this.fd = rotateActive(this.path, this.fd);
    this.size = 0;
    this.segmentStartedMs = null;
  }

  private tornAt(batch: Pending[]): number | null {
    return tornIndex(
      this.opts.tornWriteAtSeq,
      batch.map((p) => p.enc.record.seq),
    );
  }

  /** Test hook: writes the batch up to the middle of line `index`, then dies. */
  private tornWrite(buf: Buffer, index: number): Promise<never> {
    return writeTornAndDie(this.fd, buf, index);
  }
}

let sharedUnkeyed: Redactor | undefined;
function defaultRedactor(): Redactor {
  sharedUnkeyed ??= Redactor.unkeyed();
  return sharedUnkeyed;
}
