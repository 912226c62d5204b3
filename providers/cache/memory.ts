// The Cache in this process's memory: the link after Redis in the edge's cache chain, so that
// while Redis is down a prompt this process already synthesized is not synthesized again on
// every call. An LRU bounded in bytes (lru-cache); each entry keeps its TTL.
//
// Shared entries only. A per-call entry (written with a group: personal speech) is refused:
// the post-call workflow removes a call's speech from the cache in another process, which
// could never reach this memory — so personal speech is simply never held here.
import { LRUCache } from 'lru-cache';
import { ProviderError } from '../provider-error';
import { checkTtl, type Cache, type CacheSetOptions } from './port';

/** Enough for tens of thousands of TTS index entries (each a short JSON line). */
export const DEFAULT_MEMORY_CACHE_BYTES = 8 * 1024 * 1024;

export class MemoryCache implements Cache {
  readonly name = 'memory';
  private readonly values: LRUCache<string, string>;

  constructor(opts: { maxBytes?: number } = {}) {
    this.values = new LRUCache<string, string>({
      maxSize: opts.maxBytes ?? DEFAULT_MEMORY_CACHE_BYTES,
      // UTF-16 in memory: two bytes a code unit, key and value.
      sizeCalculation: (value, key) => 2 * (key.length + value.length),
    });
  }

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }

  async set(key: string, value: string, opts: CacheSetOptions): Promise<void> {
    checkTtl(this.name, opts.ttlS);
    if (opts.group !== undefined) {
      throw new ProviderError(
        this.name,
        'bad_input',
        'memory cache: per-call entries are not held in process memory',
      );
    }
    this.values.set(key, value, { ttl: opts.ttlS * 1000 });
  }

  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }

  /** Nothing is ever listed here: grouped writes are refused. */
  async groupKeys(): Promise<string[]> {
    return [];
  }

  async deleteGroup(_group: string, keys?: readonly string[]): Promise<void> {
    for (const key of keys ?? []) this.values.delete(key);
  }
}
