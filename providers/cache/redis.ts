// The Cache on Redis (ioredis). A group is a Redis set of keys; a value and its group entry
// are written in one MULTI, and a group is deleted with its entries in one step too.
import { Redis } from 'ioredis';
import type { HealthCheck } from '../health-check';
import { ProviderError } from '../provider-error';
import { checkTtl, type Cache, type CacheSetOptions } from './port';

// Every key a group lists, then the group itself, in one script (atomic in Redis).
const DELETE_GROUP = `
local keys = redis.call('SMEMBERS', KEYS[1])
for i = 1, #keys, 500 do
  redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
end
return redis.call('DEL', KEYS[1])`;

// Replies that say Redis cannot serve now (loading, out of memory, a replica), not that the
// command is wrong.
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|OOM|READONLY)\b/;

/**
 * A client for a cache: ioredis by default holds a command for ever while Redis is down, and
 * a cache in front of speech must fail fast (the speech then comes from the provider). Here
 * a command fails after one reconnection try, reconnections are at most 0.5 s apart and a
 * connection attempt gives up after 1 s: about a second per command while Redis is down.
 */
export function redisCacheClient(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 50, 500),
    connectTimeout: 1_000,
  });
  // Redis away is the cache's breaker's to report (once, as a health change), not a line
  // per reconnection try: without a listener ioredis prints every one as unhandled.
  redis.on('error', () => undefined);
  return redis;
}

export class RedisCache implements Cache, HealthCheck {
  readonly name = 'redis';

  constructor(private readonly redis: Redis) {}

  /** The health check: PING (the client fails it within about a second while Redis is down). */
  async check(): Promise<void> {
    await this.call(() => this.redis.ping());
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.call(() => this.redis.get(key))) ?? undefined;
  }

  async set(key: string, value: string, opts: CacheSetOptions): Promise<void> {
    checkTtl(this.name, opts.ttlS);
    const tx = this.redis.multi().set(key, value, 'EX', opts.ttlS);
    if (opts.group !== undefined) tx.sadd(opts.group, key).expire(opts.group, opts.ttlS);
    await this.exec(tx);
  }

  async delete(key: string): Promise<void> {
    await this.call(() => this.redis.del(key));
  }

  async groupKeys(group: string): Promise<string[]> {
    return this.call(() => this.redis.smembers(group));
  }

  async deleteGroup(group: string, keys?: readonly string[]): Promise<void> {
    if (keys === undefined) {
      await this.call(() => this.redis.eval(DELETE_GROUP, 1, group));
      return;
    }
    if (keys.length === 0) return;
    await this.exec(
      this.redis
        .multi()
        .del(...keys)
        .srem(group, ...keys),
    );
  }

  private async exec(tx: ReturnType<Redis['multi']>): Promise<void> {
    const results = await this.call(() => tx.exec());
    // null: the transaction was discarded (the connection dropped while it was queued).
    if (!results) throw new ProviderError(this.name, 'unavailable', 'redis: transaction discarded');
    const failed = results.find(([err]) => err)?.[0];
    if (failed) throw this.error(failed);
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw this.error(err);
    }
  }

  /** A reply Redis refuses for good is bad_input; a refused or closed connection is unavailable. */
  private error(err: unknown): ProviderError {
    if (err instanceof ProviderError) return err;
    const message = `redis: ${err instanceof Error ? err.message : String(err)}`;
    if (err instanceof Error && err.name === 'ReplyError' && !TRANSIENT_REPLY.test(err.message)) {
      return new ProviderError(this.name, 'bad_input', message, { cause: err });
    }
    return new ProviderError(this.name, 'unavailable', message, { cause: err });
  }
}
