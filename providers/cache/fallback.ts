// The cache as a fallback chain: a read goes down the links until one answers; a write or a
// delete goes to the first healthy link only (what one cache holds, another does not: a
// group written to one must be deleted from that one).
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type { Cache, CacheSetOptions } from './port';

export class FallbackCache implements Cache {
  readonly name = 'cache';
  private readonly runner: FallbackRunner<Cache>;

  constructor(links: FallbackLink<Cache>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner(this.name, links, gate);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.runner.run((cache) => cache.get(key))).value;
  }

  async set(key: string, value: string, opts: CacheSetOptions): Promise<void> {
    await this.runner.run((cache) => cache.set(key, value, opts), { firstOnly: true });
  }

  async delete(key: string): Promise<void> {
    await this.runner.run((cache) => cache.delete(key), { firstOnly: true });
  }

  async groupKeys(group: string): Promise<string[]> {
    return (await this.runner.run((cache) => cache.groupKeys(group))).value;
  }

  async deleteGroup(group: string, keys?: readonly string[]): Promise<void> {
    await this.runner.run((cache) => cache.deleteGroup(group, keys), { firstOnly: true });
  }
}
