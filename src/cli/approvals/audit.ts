/**
 * The audit writer of an approval command, opened only when a transition is about to be recorded
 * (a waiting `approval wait` holds no lock), and before the approval store's lock. The log has one
 * writer at a time: when another short-lived command holds it, this waits for it (up to a few
 * seconds) instead of failing; a long-running holder (the SDK, the sidecar) is reported.
 */
import { AuditLockedError } from "../../audit/errors.js";
import type { AuditInput, AuditRecord } from "../../audit/types.js";
import type { AuditWriter } from "../../audit/writer.js";

export class LazyAudit {
  private writer: AuditWriter | null = null;
  private opening: Promise<AuditWriter> | null = null;

  constructor(
    private readonly open: () => Promise<AuditWriter>,
    private readonly lockWaitMs = 5000,
  ) {}

  async ready(): Promise<void> {
    await this.get();
  }

  async append(input: AuditInput): Promise<AuditRecord> {
    return (await this.get()).append(input);
  }

  async close(): Promise<void> {
    const w = this.writer ?? (await this.opening?.catch(() => null)) ?? null;
    this.writer = null;
    await w?.close();
  }

  private get(): Promise<AuditWriter> {
    if (this.writer !== null) return Promise.resolve(this.writer);
    this.opening ??= this.openWaiting().then(
      (w) => {
        this.writer = w;
        return w;
      },
      (err: unknown) => {
        this.opening = null;
        throw err;
      },
    );
    return this.opening;
  }

  private async openWaiting(): Promise<AuditWriter> {
    const until = Date.now() + this.lockWaitMs;
    for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
      try {
        return await this.open();
      } catch (err) {
        if (!(err instanceof AuditLockedError) || Date.now() >= until) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }
}
