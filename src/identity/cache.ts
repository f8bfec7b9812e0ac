/**
 * A bounded cache with approximately-LRU eviction in two generations: entries go into `current`;
 * when it holds half the capacity it becomes `previous` (the old `previous` is dropped whole), and a
 * hit in `previous` moves the entry back to `current`. Nothing is ever deleted and re-inserted in
 * one large `Map`, which V8 makes cost tens of microseconds, so a hit stays a hash lookup.
 */
export class LruCache<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();
  private readonly half: number;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError("maxEntries must be a positive integer");
    this.half = Math.max(1, Math.floor(maxEntries / 2));
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  get(key: string): V | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.previous.get(key);
    if (old !== undefined) {
      this.previous.delete(key);
      this.put(key, old);
    }
    return old;
  }

  set(key: string, value: V): void {
    if (this.current.has(key)) {
      this.current.set(key, value);
      return;
    }
    this.previous.delete(key);
    this.put(key, value);
  }

  delete(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  clear(): void {
    this.current = new Map();
    this.previous = new Map();
  }

  private put(key: string, value: V): void {
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}
