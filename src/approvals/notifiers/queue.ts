/**
 * Delivery off the decision path (THREATS.md T19): `enqueue` only appends to a bounded in-memory
 * queue and returns; one loop per destination sends in order, retrying a failed delivery with
 * exponential backoff (with jitter) up to `maxAttempts`. When the queue is full the oldest
 * notification is dropped, with a warning — a dead endpoint costs memory up to the bound, never
 * a decision's latency. Timers do not keep the process alive; `flush` waits (bounded) for the
 * queue to drain, e.g. before a CLI command exits.
 */
import type { ApprovalRequest } from "../types.js";

export interface NotifierTarget {
  readonly kind: string;
  /** For messages: the destination without credentials. */
  readonly describe: string;
  send(request: ApprovalRequest): Promise<void>;
}

export interface DeliveryOptions {
  /** Notifications held at most (default 1000). */
  queueSize?: number;
  /** Deliveries tried per notification (default 10). */
  maxAttempts?: number;
  /** First retry pause, ms (default 250); it doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  /** Longest pause between retries, ms (default 30,000). */
  retryMaxMs?: number;
}

export type WarningSink = (message: string) => void;

export interface QueueStats {
  delivered: number;
  dropped: number;
  failedAttempts: number;
  pending: number;
}

interface Item {
  request: ApprovalRequest;
  attempts: number;
}

export class NotifierQueue {
  private readonly items: Item[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly queueSize: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private closed = false;
  readonly stats: QueueStats = { delivered: 0, dropped: 0, failedAttempts: 0, pending: 0 };

  constructor(
    readonly target: NotifierTarget,
    options: DeliveryOptions = {},
    private readonly warn: WarningSink = () => undefined,
  ) {
    this.queueSize = options.queueSize ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
  }

  /** Never throws, never waits. */
  enqueue(request: ApprovalRequest): void {
    if (this.closed) return;
    if (this.items.length >= this.queueSize) {
      const dropped = this.items.shift();
      this.stats.dropped++;
      this.warn(
        `approval notifier ${this.target.describe}: queue full (${this.queueSize}); ` +
          `dropped the notification of ${dropped?.request.request_id}`,
      );
    }
    this.items.push({ request, attempts: 0 });
    this.stats.pending = this.items.length;
    if (!this.running && this.timer === null) this.schedule(0);
  }

  /** Resolves true once everything queued is delivered (or given up), false at the timeout. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.items.length === 0 && !this.running) return Promise.resolve(true);
    // A pending retry is brought forward: flushing means "try now".
    if (this.timer !== null && !this.running) {
      clearTimeout(this.timer);
      this.timer = null;
      this.schedule(0);
    }
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(t);
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(ok);
      };
      const onIdle = () => done(true);
      const t = setTimeout(() => done(false), timeoutMs);
      t.unref();
      this.idleWaiters.push(onIdle);
    });
  }

  /** Flushes for at most `timeoutMs`, then stops; what is left is reported and dropped. */
  async close(timeoutMs = 2000): Promise<void> {
    await this.flush(timeoutMs);
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.items.length > 0) {
      this.warn(
        `approval notifier ${this.target.describe}: ${this.items.length} notification(s) not delivered before shutdown`,
      );
      this.stats.dropped += this.items.length;
      this.items.length = 0;
      this.stats.pending = 0;
    }
    this.settle();
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, ms);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      while (this.items.length > 0 && !this.closed) {
        const item = this.items[0]!;
        item.attempts++;
        try {
          await this.target.send(item.request);
          this.items.shift();
          this.stats.delivered++;
        } catch (err) {
          this.stats.failedAttempts++;
          const why = err instanceof Error ? err.message : String(err);
          if (item.attempts >= this.maxAttempts) {
            this.items.shift();
            this.stats.dropped++;
            this.warn(
              `approval notifier ${this.target.describe}: gave up on ${item.request.request_id} after ` +
                `${item.attempts} attempt(s): ${why}`,
            );
            continue;
          }
          const backoff = Math.min(this.retryBaseMs * 2 ** (item.attempts - 1), this.retryMaxMs);
          this.schedule(Math.round(backoff * (0.8 + Math.random() * 0.4)));
          return;
        }
      }
    } finally {
      this.running = false;
      this.stats.pending = this.items.length;
      if (this.items.length === 0) this.settle();
    }
  }

  private settle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
