/**
 * Per-caller rate limit (sliding-window log) and circuit breaker, with 0.9.0's semantics and
 * reason strings (REFERENCE.md §7.1), on shared state:
 * - the breaker (threshold > 0) is checked first: open and cooling down → its reason; cooled
 *   down → closed, its deny log cleared;
 * - then the window: requests older than the window are forgotten (one exactly at the cutoff
 *   counts), and at `max_requests` the request is refused and not recorded;
 * - `recordDeny` (final DENY decisions only, never rate-limit or breaker rejections) logs a deny
 *   and opens the breaker when the window holds `threshold` of them.
 * Store errors propagate (`StateUnavailableError`, `StateCapacityError`); `Guards` turns them
 * into DENY.
 */
import { pyFormatFixed0 } from "../core/pyformat.js";
import type {
  BreakerRecord,
  BreakerStatus,
  BreakerStore,
  WindowResult,
  WindowStore,
} from "../state/interfaces.js";
import type { MemorySyncStores } from "../state/memory/backend.js";
import { type RateLimitConfig, rateLimitConfig } from "./config.js";

export class RateLimiter {
  readonly config: RateLimitConfig;
  readonly windowMs: number;
  readonly breakerWindowMs: number;
  readonly cooldownMs: number;

  constructor(
    config: Partial<RateLimitConfig>,
    private readonly windows: WindowStore,
    private readonly breakers: BreakerStore,
  ) {
    this.config = rateLimitConfig(config);
    this.windowMs = this.config.window_seconds * 1000;
    this.breakerWindowMs = this.config.circuit_breaker_window_seconds * 1000;
    this.cooldownMs = this.config.circuit_breaker_cooldown_seconds * 1000;
  }

  get breakerEnabled(): boolean {
    return this.config.circuit_breaker_threshold > 0;
  }

  /** 0.9.0 `check_rate_limit`: the breaker, then the window. A reason to deny, or null. */
  async check(callerId: string, nowMs: number): Promise<string | null> {
    return (await this.checkBreaker(callerId, nowMs)) ?? (await this.acquire(callerId, nowMs));
  }

  /** Step 1: the breaker's reason while it is open; closes it once the cooldown is over. */
  async checkBreaker(callerId: string, nowMs: number): Promise<string | null> {
    if (!this.breakerEnabled) return null;
    return this.breakerReason(callerId, await this.breakers.check(callerId, this.cooldownMs, nowMs));
  }

  /** `checkBreaker` on an in-process store that answers synchronously. */
  checkBreakerSync(
    store: Pick<MemorySyncStores, "breakerCheck">,
    callerId: string,
    nowMs: number,
  ): string | null {
    if (!this.breakerEnabled) return null;
    return this.breakerReason(callerId, store.breakerCheck(callerId, this.cooldownMs, nowMs));
  }

  private breakerReason(callerId: string, status: BreakerStatus): string | null {
    if (!status.open) return null;
    return (
      `Circuit breaker open for caller '${callerId}': too many denied requests. ` +
      `Auto-resumes in ${pyFormatFixed0(status.remainingMs / 1000)}s.`
    );
  }

  /** Steps 2–4: records the request when the window has room, else the rate-limit reason. */
  async acquire(callerId: string, nowMs: number): Promise<string | null> {
    return (await this.hit(callerId, nowMs)).reason;
  }

  /** `acquire` on an in-process store that answers synchronously. */
  acquireSync(store: Pick<MemorySyncStores, "acquire">, callerId: string, nowMs: number): string | null {
    return this.limitReason(
      callerId,
      store.acquire(callerId, this.config.max_requests, this.windowMs, nowMs),
    );
  }

  /** `acquire`, with the store's answer (the time it judged by, the count in the window). */
  async hit(callerId: string, nowMs: number): Promise<{ reason: string | null; window: WindowResult }> {
    const window = await this.windows.acquire(callerId, this.config.max_requests, this.windowMs, nowMs);
    return { reason: this.limitReason(callerId, window), window };
  }

  private limitReason(callerId: string, window: WindowResult): string | null {
    return window.allowed
      ? null
      : `Rate limit exceeded for caller '${callerId}': ${this.config.max_requests} requests per ` +
          `${pyFormatFixed0(this.config.window_seconds)}s window.`;
  }

  /** 0.9.0 `record_deny`: a no-op (null) when the breaker is disabled. */
  async recordDeny(callerId: string, nowMs: number): Promise<BreakerRecord | null> {
    if (!this.breakerEnabled) return null;
    return this.breakers.recordDeny(
      callerId,
      this.config.circuit_breaker_threshold,
      this.breakerWindowMs,
      this.cooldownMs,
      nowMs,
    );
  }

  /** `recordDeny` on an in-process store that answers synchronously. */
  recordDenySync(
    store: Pick<MemorySyncStores, "recordDeny">,
    callerId: string,
    nowMs: number,
  ): BreakerRecord | null {
    if (!this.breakerEnabled) return null;
    return store.recordDeny(
      callerId,
      this.config.circuit_breaker_threshold,
      this.breakerWindowMs,
      this.cooldownMs,
      nowMs,
    );
  }
}
