/**
 * Shared runtime state, one small interface per kind. Adapters: memory (one process), SQLite (one
 * machine, survives restarts), Redis (several replicas; one atomic Lua script per operation, server
 * time), PostgreSQL (approvals issue). Every store fails closed: an unreachable store throws
 * `StateUnavailableError`, and callers turn it into a DENY, never an ALLOW.
 */

export class StateUnavailableError extends Error {
  override name = "StateUnavailableError";
}

/** Per-caller state is bounded; when the cap is full of live state, new callers are refused. */
export class StateCapacityError extends Error {
  override name = "StateCapacityError";
  constructor() {
    super("Guard state capacity reached");
  }
}

/** Single-use ticket nonces, shared by every validator of a deployment. */
export interface NonceStore {
  /**
   * Atomically marks `nonce` used until `expiresAtMs` (epoch ms). Returns `true` when this call
   * consumed it, `false` when it had already been used. Exactly one caller ever gets `true`.
   */
  consume(nonce: string, expiresAtMs: number): Promise<boolean>;
  /** Whether `nonce` has been consumed, without consuming it. */
  isUsed(nonce: string): Promise<boolean>;
}
