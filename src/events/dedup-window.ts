import { LRUCache } from 'lru-cache';

/**
 * Remembers the most recent `capacity` keys (first in, first out), to recognise an event retried
 * with the same eventId. Kept in lru-cache's fixed-size list: a plain Set evicting through
 * `values().next()` walks past every deleted slot at its head until V8 rehashes, which made each
 * add beyond a full window of 500,000 keys cost ~100 µs (ingest of client-id'd events slowed
 * tenfold once the window had filled; bench/ingest's runs with event ids showed it).
 * `has` does not refresh a key: a duplicate does not extend its own memory.
 */
export class DedupWindow {
  private readonly keys: LRUCache<string, true> | undefined;

  constructor(capacity: number) {
    this.keys = capacity > 0 ? new LRUCache<string, true>({ max: capacity }) : undefined;
  }

  has(key: string): boolean {
    return this.keys?.has(key) ?? false;
  }

  add(key: string): void {
    if (!this.keys || this.keys.has(key)) return;
    this.keys.set(key, true);
  }

  delete(key: string): void {
    this.keys?.delete(key);
  }

  get size(): number {
    return this.keys?.size ?? 0;
  }
}
