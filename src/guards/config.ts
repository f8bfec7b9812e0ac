/**
 * Guard settings, with the 0.9.0 names, defaults and constraints (REFERENCE.md §7): the
 * `rate_limit` and `cumulative_risk` sections of `agent-safe.yaml`, or the same objects given to
 * the SDK. Missing fields take the defaults; a partial `risk_scores` map replaces the whole
 * default map (missing classes score 0), as in 0.9.0.
 */

export interface RateLimitConfig {
  max_requests: number;
  window_seconds: number;
  /** Denies within the breaker window that open the breaker; 0 disables it. */
  circuit_breaker_threshold: number;
  circuit_breaker_window_seconds: number;
  circuit_breaker_cooldown_seconds: number;
}

export interface CumulativeRiskConfig {
  window_seconds: number;
  risk_scores: Record<string, number>;
  escalation_threshold: number;
  deny_threshold: number;
}

export const RATE_LIMIT_DEFAULTS: Readonly<RateLimitConfig> = {
  max_requests: 100,
  window_seconds: 60,
  circuit_breaker_threshold: 0,
  circuit_breaker_window_seconds: 60,
  circuit_breaker_cooldown_seconds: 300,
};

export const CUMULATIVE_RISK_DEFAULTS: Readonly<CumulativeRiskConfig> = {
  window_seconds: 3600,
  risk_scores: { low: 1, medium: 5, high: 15, critical: 50 },
  escalation_threshold: 30,
  deny_threshold: 75,
};

export class GuardConfigError extends Error {
  override name = "GuardConfigError";
}

function check(ok: boolean, section: string, field: string, rule: string, value: unknown): void {
  if (!ok) throw new GuardConfigError(`${section}.${field} ${rule}, got ${String(value)}`);
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isPositive = (v: unknown): v is number => typeof v === "number" && v > 0;

export function rateLimitConfig(input: Partial<RateLimitConfig> = {}): RateLimitConfig {
  const c = { ...RATE_LIMIT_DEFAULTS, ...stripUndefined(input) };
  const s = "rate_limit";
  check(
    isInt(c.max_requests) && c.max_requests >= 1,
    s,
    "max_requests",
    "must be an integer ≥ 1",
    c.max_requests,
  );
  check(isPositive(c.window_seconds), s, "window_seconds", "must be greater than 0", c.window_seconds);
  check(
    isInt(c.circuit_breaker_threshold) && c.circuit_breaker_threshold >= 0,
    s,
    "circuit_breaker_threshold",
    "must be an integer ≥ 0",
    c.circuit_breaker_threshold,
  );
  for (const f of ["circuit_breaker_window_seconds", "circuit_breaker_cooldown_seconds"] as const)
    check(isPositive(c[f]), s, f, "must be greater than 0", c[f]);
  return c;
}

export function cumulativeRiskConfig(input: Partial<CumulativeRiskConfig> = {}): CumulativeRiskConfig {
  const c = { ...CUMULATIVE_RISK_DEFAULTS, ...stripUndefined(input) };
  const s = "cumulative_risk";
  check(isPositive(c.window_seconds), s, "window_seconds", "must be greater than 0", c.window_seconds);
  for (const [cls, score] of Object.entries(c.risk_scores))
    check(isInt(score), s, `risk_scores.${cls}`, "must be an integer", score);
  for (const f of ["escalation_threshold", "deny_threshold"] as const)
    check(isInt(c[f]) && c[f] >= 1, s, f, "must be an integer ≥ 1", c[f]);
  return { ...c, risk_scores: { ...c.risk_scores } };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
