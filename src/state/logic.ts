/**
 * The state transitions of the in-process adapters (memory, SQLite), as pure functions on plain
 * number arrays. The Redis Lua scripts implement the same rules; the contract tests run every
 * adapter through the same cases. Each function mutates the array it is given and returns the
 * result plus the instant after which the key holds nothing live (`expiresAt`), for eviction.
 *
 * Layouts (all times epoch ms, ascending):
 * - window: `[t0, t1, …]`
 * - breaker: `[openSince | NaN, d0, d1, …]` (deny times)
 * - risk: `[sum, t0, s0, t1, s1, …]`
 */

/** Removes leading entries older than `cutoff` (strict: an entry at the cutoff stays). */
function prune(log: number[], from: number, stride: number, cutoff: number): number {
  let i = from;
  while (i < log.length && log[i]! < cutoff) i += stride;
  const removed = (i - from) / stride;
  if (removed > 0) log.splice(from, i - from);
  return removed;
}

export interface Transition<R> {
  result: R;
  /** `null` when the key holds nothing any more and should be deleted. */
  state: number[] | null;
  expiresAt: number;
}

export function windowAcquire(
  log: number[],
  limit: number,
  windowMs: number,
  now: number,
): Transition<{ allowed: boolean; count: number }> {
  prune(log, 0, 1, now - windowMs);
  const allowed = log.length < limit;
  if (allowed) log.push(now);
  const last = log[log.length - 1];
  return {
    result: { allowed, count: log.length },
    state: last === undefined ? null : log,
    expiresAt: last === undefined ? now : last + windowMs,
  };
}

export function breakerCheck(
  state: number[],
  cooldownMs: number,
  now: number,
): Transition<{ open: boolean; remainingMs: number }> & { changed: boolean } {
  const openSince = state[0] ?? Number.NaN;
  if (Number.isNaN(openSince)) {
    return { result: { open: false, remainingMs: 0 }, state, expiresAt: Number.NaN, changed: false };
  }
  const elapsed = now - openSince;
  if (elapsed < cooldownMs) {
    return {
      result: { open: true, remainingMs: cooldownMs - elapsed },
      state,
      expiresAt: Number.NaN,
      changed: false,
    };
  }
  // The cooldown is over: close it and forget the denies that opened it.
  return { result: { open: false, remainingMs: 0 }, state: null, expiresAt: now, changed: true };
}

export function breakerRecordDeny(
  state: number[],
  threshold: number,
  windowMs: number,
  cooldownMs: number,
  now: number,
): Transition<{ opened: boolean; denies: number }> {
  if (state.length === 0) state.push(Number.NaN);
  prune(state, 1, 1, now - windowMs);
  state.push(now);
  const denies = state.length - 1;
  const opened = denies >= threshold;
  if (opened) state[0] = now;
  const openSince = state[0]!;
  const expiresAt = Math.max(now + windowMs, Number.isNaN(openSince) ? now : openSince + cooldownMs);
  return { result: { opened, denies }, state, expiresAt };
}

/** Forgets old entries; with `score` given, records it. Returns the sum and the count. */
export function riskAdd(
  state: number[],
  score: number | null,
  windowMs: number,
  now: number,
): Transition<{ score: number; count: number }> {
  if (state.length === 0) state.push(0);
  const cutoff = now - windowMs;
  let sum = state[0]!;
  let i = 1;
  while (i < state.length && state[i]! < cutoff) {
    sum -= state[i + 1]!;
    i += 2;
  }
  if (i > 1) state.splice(1, i - 1);
  if (score !== null) {
    state.push(now, score);
    sum += score;
  }
  const count = (state.length - 1) / 2;
  if (count === 0) sum = 0;
  state[0] = sum;
  const last = state[state.length - 2];
  return {
    result: { score: sum, count },
    state: count === 0 ? null : state,
    expiresAt: count === 0 ? now : last! + windowMs,
  };
}

/** The breaker layout starts with the open time; a fresh one is closed. */
export function isBreakerEmpty(state: number[]): boolean {
  return state.length <= 1 && Number.isNaN(state[0] ?? Number.NaN);
}
