// The fake Cache, in process memory, for tests and benchmarks that must not depend on
// Redis. It passes the same conformance suite as the Redis adapter: values expire after
// their TTL, a group lives as long as its latest entry. `failures` makes it fail on demand.
import { FakeFailures } from '../fake-failures';
import { checkTtl, type Cache, type CacheSetOptions } from './port';

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

export class FakeCache implements Cache {
  readonly name = 'fake-cache';
  readonly failures = new FakeFailures(this.name);
  private readonly values = new Map<string, Expiring<string>>();
  private readonly groups = new Map<string, Expiring<Set<string>>>();

  async get(key: string): Promise<string | undefined> {
    await this.failures.check();
    return live(this.values, key)?.value;
  }

  async set(key: string, value: string, opts: CacheSetOptions): Promise<void> {
    await this.failures.check();
    checkTtl(this.name, opts.ttlS);
    const expiresAt = Date.now() + opts.ttlS * 1000;
    this.values.set(key, { value, expiresAt });
    if (opts.group === undefined) return;
    const members = live(this.groups, opts.group)?.value ?? new Set<string>();
    this.groups.set(opts.group, { value: members.add(key), expiresAt });
  }

  async delete(key: string): Promise<void> {
    await this.failures.check();
    this.values.delete(key);
  }

  async groupKeys(group: string): Promise<string[]> {
    await this.failures.check();
    return [...(live(this.groups, group)?.value ?? [])];
  }

  async deleteGroup(group: string, keys?: readonly string[]): Promise<void> {
    await this.failures.check();
    const members = live(this.groups, group)?.value;
    for (const key of keys ?? [...(members ?? [])]) {
      this.values.delete(key);
      members?.delete(key);
    }
    if (members?.size === 0) this.groups.delete(group); // like Redis: an empty set is no key
  }
}

/** The entry under key unless its time is up (then it is dropped). */
function live<T>(map: Map<string, Expiring<T>>, key: string): Expiring<T> | undefined {
  const found = map.get(key);
  if (found && found.expiresAt <= Date.now()) {
    map.delete(key);
    return undefined;
  }
  return found;
}
