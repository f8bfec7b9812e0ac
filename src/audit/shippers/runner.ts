/**
 * The live shipper: runs beside a writer and never slows it down (THREATS T19).
 *
 * - `offer()` is O(1) and synchronous: it only pushes onto a bounded in-memory queue.
 * - One event is in flight at a time, so delivery is in order; a failure is retried with
 *   exponential backoff (plus jitter) until it succeeds. Delivery is at least once: the event id
 *   is the idempotency key receivers deduplicate on.
 * - After each delivery the cursor advances; it is written every `cursorFlushMs` and on close, so a
 *   restart resumes after the last recorded event (re-sending at most the few after it).
 * - When the queue is full, new events are not queued: the shipper records where it fell behind,
 *   drains the queue, then reads the missing events back from the log (in order) until it has
 *   caught up with the writer, and only then takes events from the queue again. A `gap` event
 *   records the seq range that overflowed. Nothing is lost and memory stays bounded.
 * - On start, a cursor behind the log means events were written while no shipper ran: they are
 *   read back from the log the same way.
 */
import { AuditError, describeSystemError } from "../errors.js";
import { cursorsDir } from "../segments.js";
import { Cursor } from "./cursor.js";
import { eventsBetween } from "./from-log.js";
import type { ShipItem, ShipperHost, ShipperRunOptions, ShipTarget } from "./types.js";

export class ShipperRunner {
  private readonly queue: ShipItem[] = [];
  private qHead = 0;
  private cursor: Cursor | null = null;
  /** Set while events are being taken from the log instead of the queue. */
  private catchingUp = false;
  private overflow: { from: number; to: number; count: number } | null = null;
  private wake: (() => void) | null = null;
  private stopping = false;
  private abandoned = false;
  private drainDeadline = Number.POSITIVE_INFINITY;
  private loop: Promise<void> | null = null;
  private lastSave = 0;
  private failures = 0;
  private readonly opts: Required<ShipperRunOptions>;

  constructor(
    readonly target: ShipTarget,
    private readonly logPath: string,
    writerOptions: ShipperRunOptions,
    private readonly host: ShipperHost,
  ) {
    const options = { ...writerOptions, ...(target.runOptions ?? {}) };
    this.opts = {
      queueSize: options.queueSize ?? 10_000,
      retryBaseMs: options.retryBaseMs ?? 100,
      retryMaxMs: options.retryMaxMs ?? 5_000,
      cursorFlushMs: options.cursorFlushMs ?? 200,
      drainTimeoutMs: options.drainTimeoutMs ?? 5_000,
    };
    if (!(this.opts.queueSize >= 1)) throw new AuditError("CONFIG", "shipper queue size must be at least 1");
  }

  /** Opens the cursor (locking it) and starts delivering. */
  async start(): Promise<void> {
    this.cursor = await Cursor.open(cursorsDir(this.logPath), this.target.id);
    if (this.cursor.seq < this.host.durableSeq()) this.catchingUp = true;
    this.loop = this.run();
  }

  /** Events that are queued or still to be read back from the log. */
  get backlog(): number {
    return this.queue.length - this.qHead + (this.catchingUp ? 1 : 0);
  }

  get shippedSeq(): number {
    return this.cursor?.seq ?? 0;
  }

  offer(item: ShipItem): void {
    if (this.stopping || this.abandoned) return;
    if (this.catchingUp) {
      if (this.overflow !== null) {
        this.overflow.to = item.record.seq;
        this.overflow.count++;
      }
      return;
    }
    if (this.queue.length - this.qHead >= this.opts.queueSize) {
      this.catchingUp = true;
      this.overflow = { from: item.record.seq, to: item.record.seq, count: 1 };
      this.host.warn(
        `audit shipper ${this.target.describe}: queue full (${this.opts.queueSize}); ` +
          `catching up from the log from seq ${item.record.seq}`,
      );
      return;
    }
    this.queue.push(item);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Lets the queue drain (up to `drainTimeoutMs`), saves the cursor and releases it. */
  async stop(): Promise<void> {
    if (this.stopping) return this.loop ?? undefined;
    this.stopping = true;
    this.drainDeadline = Date.now() + this.opts.drainTimeoutMs;
    const wake = this.wake;
    this.wake = null;
    wake?.();
    try {
      await this.loop;
    } finally {
      this.cursor?.close();
      await this.target.close?.().catch(() => undefined);
    }
  }

  /** Gives up without delivering (the writer failed to open). */
  abandon(): void {
    this.abandoned = true;
  }

  private get mustQuit(): boolean {
    return this.abandoned || (this.stopping && Date.now() >= this.drainDeadline);
  }

  private async run(): Promise<void> {
    while (!this.mustQuit) {
      if (this.qHead < this.queue.length) {
        const item = this.queue[this.qHead]!;
        if (item.record.seq <= this.cursor!.seq) {
          this.dequeue(); // already delivered while catching up
          continue;
        }
        if (!(await this.deliver(item))) break;
        this.dequeue();
        continue;
      }
      if (this.catchingUp) {
        if (!(await this.catchUp())) break;
        continue;
      }
      if (this.stopping) break;
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
    this.cursor?.save(false);
  }

  private dequeue(): void {
    this.qHead++;
    if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue.splice(0, this.qHead);
      this.qHead = 0;
    }
  }

  /** Ships from the log up to what the writer has written; returns false if told to quit. */
  private async catchUp(): Promise<boolean> {
    for (;;) {
      const upTo = this.host.durableSeq();
      if (this.cursor!.seq >= upTo) {
        // Caught up: from here on every new event is offered after this point. Synchronous with
        // the check above, so no event falls between the log and the queue.
        this.catchingUp = false;
        const gap = this.overflow;
        this.overflow = null;
        if (gap !== null) this.recordGap(gap);
        return true;
      }
      for await (const item of eventsBetween(this.host.segments(), this.cursor!.seq + 1, upTo)) {
        if (!(await this.deliver(item))) return false;
      }
      if (this.cursor!.seq < upTo) {
        this.host.warn(`audit shipper ${this.target.describe}: the log ends before seq ${upTo}; retrying`);
        if (!(await this.sleep(this.opts.retryMaxMs))) return false;
      }
    }
  }

  private recordGap(gap: { from: number; to: number; count: number }): void {
    this.host
      .appendEvent({
        event_type: "gap",
        action: "audit-gap",
        target: this.target.describe,
        caller: "agent-safe",
        reason: `Shipper ${this.target.id} queue overflowed: seq ${gap.from}-${gap.to} were not queued and were shipped from the log`,
        context: {
          type: "gap",
          shipper: this.target.id,
          kind: this.target.kind,
          from_seq: gap.from,
          to_seq: gap.to,
          dropped: gap.count,
          reshipped_from_log: true,
        },
      })
      .catch((err) => this.host.warn(`cannot record a gap event: ${(err as Error).message}`));
  }

  /** Delivers one event, retrying with backoff; false when told to quit first. */
  private async deliver(item: ShipItem): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (this.mustQuit) return false;
      try {
        await this.target.send(item);
        if (this.failures > 0) {
          this.host.warn(
            `audit shipper ${this.target.describe}: delivering again after ${this.failures} failure(s)`,
          );
          this.failures = 0;
        }
        this.advance(item);
        return true;
      } catch (err) {
        this.failures++;
        if (this.failures === 1 || this.failures % 50 === 0) {
          this.host.warn(
            `audit shipper ${this.target.describe}: delivery of seq ${item.record.seq} failed (${describeSystemError(err)}); retrying`,
          );
        }
        const delay = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.min(attempt, 20));
        if (!(await this.sleep(delay * (0.75 + Math.random() * 0.5)))) return false;
      }
    }
  }

  private advance(item: ShipItem): void {
    const r = item.record;
    this.cursor!.advance({
      seq: r.seq,
      event_id: r.event_id,
      entry_hash: r.entry_hash,
      chain_id: r.chain_id,
    });
    const now = Date.now();
    if (now - this.lastSave >= this.opts.cursorFlushMs) {
      this.lastSave = now;
      try {
        this.cursor!.save(false);
      } catch (err) {
        this.host.warn(`cannot save shipper cursor ${this.cursor!.path}: ${describeSystemError(err)}`);
      }
    }
  }

  /** Sleeps, waking early when stopping; false when it should quit. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolveSleep) => {
      const deadline = Math.min(Date.now() + ms, this.drainDeadline);
      setTimeout(() => resolveSleep(!this.mustQuit), Math.max(0, deadline - Date.now()));
    });
  }
}

/** Starts one runner per target (opening and locking their cursors); all or none. */
export async function startRunners(
  targets: readonly ShipTarget[],
  logPath: string,
  options: ShipperRunOptions,
  host: ShipperHost,
): Promise<ShipperRunner[]> {
  const runners: ShipperRunner[] = [];
  try {
    for (const target of targets) runners.push(new ShipperRunner(target, logPath, options, host));
    await Promise.all(runners.map((r) => r.start()));
    return runners;
  } catch (err) {
    for (const r of runners) r.abandon();
    await Promise.allSettled(runners.map((r) => r.stop()));
    throw err;
  }
}
