/**
 * The guard stores of the adapters that keep one row per (kind, key) — SQLite and PostgreSQL.
 * Each operation is one transaction over the row (`GuardRows.run`), and the transition is the pure
 * function of `logic.ts`; only how a row is read and written differs between the adapters.
 */
import type {
  BreakerRecord,
  BreakerStatus,
  BreakerStore,
  RiskTotal,
  RiskWindowStore,
  WindowResult,
  WindowStore,
} from "./interfaces.js";
import { breakerCheck, breakerRecordDeny, riskAdd, type Transition, windowAcquire } from "./logic.js";
import type { GuardKind } from "./sqlite/connection.js";

/** What a transaction decided: its result, and the row to write back (deleted when `state` is null). */
export interface Step<R> {
  result: R;
  /** Whether to write `state` back. */
  write: boolean;
  state: number[] | null;
  expiresAt: number;
}

export const step = <R>(t: Transition<R>, write: boolean): Step<R> => ({ ...t, write });

/** One adapter's rows: a plain read, and a read-modify-write in one transaction. */
export interface GuardRows {
  peek(kind: GuardKind, key: string): number[] | null | Promise<number[] | null>;
  run<R>(kind: GuardKind, key: string, now: number, fn: (state: number[] | null) => Step<R>): R | Promise<R>;
}

export class RowWindows implements WindowStore {
  constructor(private readonly t: GuardRows) {}

  async acquire(key: string, limit: number, windowMs: number, nowMs: number): Promise<WindowResult> {
    const r = await this.t.run("window", key, nowMs, (state) => {
      const t = windowAcquire(state ?? [], limit, windowMs, nowMs);
      return step(t, t.result.allowed || (t.state === null && state !== null));
    });
    return { ...r, nowMs };
  }
}

export class RowBreakers implements BreakerStore {
  constructor(private readonly t: GuardRows) {}

  async check(key: string, cooldownMs: number, nowMs: number): Promise<BreakerStatus> {
    // Most checks find nothing to change: answer them from a plain read, without the write lock.
    const seen = await this.t.peek("breaker", key);
    if (seen === null) return { open: false, remainingMs: 0, nowMs };
    const quick = breakerCheck(seen, cooldownMs, nowMs);
    if (!quick.changed) return { ...quick.result, nowMs };
    const r = await this.t.run("breaker", key, nowMs, (state) => {
      if (state === null)
        return { result: { open: false, remainingMs: 0 }, write: false, state, expiresAt: nowMs };
      const t = breakerCheck(state, cooldownMs, nowMs);
      return step(t, t.changed);
    });
    return { ...r, nowMs };
  }

  async recordDeny(
    key: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    nowMs: number,
  ): Promise<BreakerRecord> {
    const r = await this.t.run("breaker", key, nowMs, (state) =>
      step(breakerRecordDeny(state ?? [], threshold, windowMs, cooldownMs, nowMs), true),
    );
    return { ...r, nowMs };
  }
}

export class RowRisk implements RiskWindowStore {
  constructor(private readonly t: GuardRows) {}

  async add(key: string, score: number, windowMs: number, nowMs: number): Promise<RiskTotal> {
    const r = await this.t.run("risk", key, nowMs, (state) =>
      step(riskAdd(state ?? [], score, windowMs, nowMs), true),
    );
    return { ...r, nowMs };
  }

  async total(key: string, windowMs: number, nowMs: number): Promise<RiskTotal> {
    const state = await this.t.peek("risk", key);
    return { ...riskAdd(state ?? [], null, windowMs, nowMs).result, nowMs };
  }
}
