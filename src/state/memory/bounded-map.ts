/**
 * A map of per-key state with a cap on live keys and eviction of expired keys.
 *
 * - Values are state objects updated in place by the adapter (no wrapper, no re-insertion), which
 *   keeps a 100,000-caller map small and an update of a known key one hash lookup.
 * - Each insertion advances a cursor over the map by a few entries and evicts the expired ones it
 *   passes (a clock sweep). Only insertions grow the map, so sweeping at their pace keeps expired
 *   state from accumulating, without any per-call scan and at no cost to calls on known keys.
 * - A new key when the map is full first sweeps the whole map — but only when something can have
 *   expired: `minExpiry` is a lower bound on every entry's expiry (exact after a full sweep or a
 *   completed cursor cycle; updates only move expiries later). When the map is still full of
 *   live state the key is refused with `StateCapacityError`: live state is never dropped, so
 *   limits cannot fail open.
 */
import { StateCapacityError } from "../types.js";

/** Entries the cursor examines per operation. */
const STEP = 4;

export class BoundedMap<V> {
  private readonly entries = new Map<string, V>();
  private cursor: MapIterator<[string, V]> | null = null;
  private cycleMin = Number.POSITIVE_INFINITY;
  private minExpiry = Number.POSITIVE_INFINITY;

  /** `expiresAt(value)`: the instant after which the value holds nothing live. */
  constructor(
    readonly cap: number,
    private readonly expiresAt: (value: V) => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /**
   * Stores `value` under `key`, which must not be in the map (update known keys in place). When
   * the cap is full of live state, throws `StateCapacityError` and stores nothing.
   */
  insert(key: string, value: V, now: number): void {
    if (this.entries.size >= this.cap && !this.makeRoom(now)) throw new StateCapacityError();
    const expiry = this.expiresAt(value);
    if (expiry < this.minExpiry) this.minExpiry = expiry;
    this.entries.set(key, value);
    this.step(now);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Advances the sweep by a few entries, evicting expired ones. */
  private step(now: number): void {
    for (let i = 0; i < STEP; i++) {
      this.cursor ??= this.entries.entries();
      const next = this.cursor.next();
      if (next.done) {
        // A full cycle has seen every entry present: its minimum is exact.
        this.minExpiry = this.cycleMin;
        this.cycleMin = Number.POSITIVE_INFINITY;
        this.cursor = null;
        return;
      }
      const [key, value] = next.value;
      const expiry = this.expiresAt(value);
      if (expiry < now) this.entries.delete(key);
      else if (expiry < this.cycleMin) this.cycleMin = expiry;
    }
  }

  /** Evicts every expired entry when one can exist; returns whether there is room now. */
  private makeRoom(now: number): boolean {
    if (!(this.minExpiry < now)) return false;
    let min = Number.POSITIVE_INFINITY;
    for (const [key, value] of this.entries) {
      const expiry = this.expiresAt(value);
      if (expiry < now) this.entries.delete(key);
      else if (expiry < min) min = expiry;
    }
    this.minExpiry = min;
    this.cycleMin = Number.POSITIVE_INFINITY;
    this.cursor = null;
    return this.entries.size < this.cap;
  }
}
