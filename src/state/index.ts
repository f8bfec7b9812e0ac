/** Shared runtime state: the interfaces, the factory and the adapters. */

export { openStateBackend, parseStateUrl, type StateUrl } from "./factory.js";
export type {
  BreakerRecord,
  BreakerStatus,
  BreakerStore,
  FlagEntry,
  FlagStore,
  RiskTotal,
  RiskWindowStore,
  StateBackend,
  StateBackendOptions,
  StateKind,
  WindowResult,
  WindowStore,
} from "./interfaces.js";
export { NONCE_GRACE_MS, StateConfigError } from "./interfaces.js";
export { MEMORY_DEFAULT_MAX_CALLERS, MemoryBackend, type MemoryBackendOptions } from "./memory/backend.js";
export { type NonceStore, StateCapacityError, StateUnavailableError } from "./types.js";
