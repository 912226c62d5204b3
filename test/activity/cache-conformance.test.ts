// One conformance suite for the Cache port, run against every adapter: the Redis one on the
// real local Redis of `switchboard infra`, the fake, the in-process memory tier (shared
// entries only: it refuses groups), and the fallback adapter wrapping Redis alone, reading
// through [a failing fake, Redis], and falling to the memory tier while Redis is down.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Redis } from 'ioredis';
import type { Cache } from '../../providers/cache/port';
import { FakeCache } from '../../providers/cache/fake';
import { FallbackCache } from '../../providers/cache/fallback';
import { MemoryCache } from '../../providers/cache/memory';
import { RedisCache, redisCacheClient } from '../../providers/cache/redis';
import { FallbackExhaustedError } from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import { infraUp, redisUrl } from '../../infra';

const RUN = `cache-conformance:${process.pid}-${Date.now().toString(36)}`;

/** The kind of a provider's failure (through a chain: of the last provider asked). */
function kindOf(err: unknown): string | undefined {
  if (err instanceof FallbackExhaustedError) return err.attempts.at(-1)?.kind;
  return err instanceof ProviderError ? err.kind : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** groups: false — the adapter holds shared entries only and refuses a grouped write. */
function cacheConformance(
  adapter: string,
  create: () => Promise<Cache>,
  opts: { groups?: boolean } = {},
): void {
  const groups = opts.groups ?? true;
  describe(`Cache conformance: ${adapter}`, function () {
    let cache: Cache;
    let n = 0;
    const key = (name: string) => `${RUN}:${adapter}:${n++}-${name}`;

    before(async () => {
      cache = await create();
    });

    it('set, then get; a missing key reads as undefined', async () => {
      const k = key('round-trip');
      assert.equal(await cache.get(k), undefined);
      await cache.set(k, 'hello', { ttlS: 60 });
      assert.equal(await cache.get(k), 'hello');
      assert.equal(await cache.get(key('never-written')), undefined);
    });

    it('a set replaces the value; any string round-trips as it is', async () => {
      const k = key('overwrite');
      await cache.set(k, 'first', { ttlS: 60 });
      const value = JSON.stringify({ text: 'café ☎ \u0000 "quoted"\r\n', n: 42 });
      await cache.set(k, value, { ttlS: 60 });
      assert.equal(await cache.get(k), value);
    });

    it('a value expires after its TTL', async () => {
      const short = key('short');
      const long = key('long');
      await cache.set(short, 'gone soon', { ttlS: 1 });
      await cache.set(long, 'stays', { ttlS: 60 });
      assert.equal(await cache.get(short), 'gone soon');
      await sleep(1_100);
      assert.equal(await cache.get(short), undefined, 'still there after its TTL');
      assert.equal(await cache.get(long), 'stays');
    });

    it('delete removes a value; deleting a missing key is no error', async () => {
      const k = key('delete');
      await cache.set(k, 'x', { ttlS: 60 });
      await cache.delete(k);
      assert.equal(await cache.get(k), undefined);
      await cache.delete(key('never-written'));
    });

    if (!groups) {
      it('refuses a grouped write as bad input, holds nothing of it, lists nothing', async () => {
        const group = key('group');
        const k = key('personal');
        await assert.rejects(cache.set(k, 'P', { ttlS: 60, group }), (err) => {
          return kindOf(err) === 'bad_input' && !(err as ProviderError).retryable;
        });
        assert.equal(await cache.get(k), undefined);
        assert.deepEqual(await cache.groupKeys(group), []);
        const shared = key('shared');
        await cache.set(shared, 'S', { ttlS: 60 });
        await cache.deleteGroup(group, [shared]);
        assert.equal(await cache.get(shared), undefined, 'the keys given are deleted');
        await cache.deleteGroup(group);
      });
    }

    if (groups)
      it('a group lists the keys set in it, and only those', async () => {
        const group = key('group');
        const other = key('other-group');
        const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(key) as [string, string, string, string];
        await cache.set(a, 'A', { ttlS: 60, group });
        await cache.set(b, 'B', { ttlS: 60, group });
        await cache.set(b, 'B2', { ttlS: 60, group }); // listed once
        await cache.set(c, 'C', { ttlS: 60 });
        await cache.set(d, 'D', { ttlS: 60, group: other });
        assert.deepEqual((await cache.groupKeys(group)).sort(), [a, b].sort());
        assert.deepEqual(await cache.groupKeys(other), [d]);
        assert.deepEqual(await cache.groupKeys(key('no-group')), []);
        assert.equal(await cache.get(b), 'B2');
      });

    if (groups)
      it('a group expires with its latest entry', async () => {
        const group = key('short-group');
        await cache.set(key('g1'), 'x', { ttlS: 1, group });
        assert.equal((await cache.groupKeys(group)).length, 1);
        await sleep(1_100);
        assert.deepEqual(await cache.groupKeys(group), []);
      });

    if (groups)
      it('deleteGroup deletes every listed entry and the group; nothing else', async () => {
        const group = key('doomed');
        const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(key) as [string, string, string, string];
        await cache.set(a, 'A', { ttlS: 60, group });
        await cache.set(b, 'B', { ttlS: 60, group });
        await cache.set(c, 'C', { ttlS: 60 });
        await cache.set(d, 'D', { ttlS: 60, group: key('kept') });
        await cache.deleteGroup(group);
        assert.deepEqual([await cache.get(a), await cache.get(b)], [undefined, undefined]);
        assert.deepEqual(await cache.groupKeys(group), []);
        assert.deepEqual([await cache.get(c), await cache.get(d)], ['C', 'D']);
        await cache.deleteGroup(group); // again: nothing left, no error
        await cache.deleteGroup(key('never-written'));
      });

    if (groups)
      it('deleteGroup with keys deletes and unlists those only; keys listed since stay', async () => {
        const group = key('partial');
        const [a, b, late] = ['a', 'b', 'late'].map(key) as [string, string, string];
        await cache.set(a, 'A', { ttlS: 60, group });
        await cache.set(b, 'B', { ttlS: 60, group });
        const seen = await cache.groupKeys(group);
        await cache.set(late, 'L', { ttlS: 60, group }); // a write after the caller looked
        await cache.deleteGroup(group, seen);
        assert.deepEqual(await cache.groupKeys(group), [late]);
        assert.deepEqual(
          [await cache.get(a), await cache.get(b), await cache.get(late)],
          [undefined, undefined, 'L'],
        );
        await cache.deleteGroup(group, []);
        assert.deepEqual(await cache.groupKeys(group), [late]);
      });

    it('a TTL that is not a positive whole number of seconds is bad input', async () => {
      for (const ttlS of [0, -1, 1.5]) {
        await assert.rejects(cache.set(key('bad-ttl'), 'x', { ttlS }), (err) => {
          return kindOf(err) === 'bad_input' && !(err as ProviderError).retryable;
        });
      }
    });
  });
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('cache', function () {
  this.timeout(60_000);
  const clients: Redis[] = [];
  // As the processes build it: a command fails fast instead of waiting for Redis forever.
  const client = (url = redisUrl()) => {
    const redis = redisCacheClient(url);
    clients.push(redis);
    return redis;
  };

  before(async () => {
    await infraUp({ quiet: true });
  });
  after(async () => {
    const redis = client();
    const keys = await redis.keys(`${RUN}:*`); // this run's keys only
    if (keys.length) await redis.del(...keys);
    clients.forEach((c) => c.disconnect());
  });

  cacheConformance('redis', async () => new RedisCache(client()));

  it('redis health check: PING answers; Redis refusing is unavailable', async () => {
    await new RedisCache(client()).check();
    const err = await new RedisCache(client(`redis://127.0.0.1:${await closedPort()}`))
      .check()
      .catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.kind, 'unavailable');
  });
  cacheConformance('fake', async () => new FakeCache());
  cacheConformance('memory', async () => new MemoryCache(), { groups: false });
  cacheConformance('fallback(redis)', async () => {
    return new FallbackCache([{ provider: 'redis', port: new RedisCache(client()) }]);
  });
  // Reads fall through the failing fake to Redis; writes and deletes never fall through (what
  // one cache holds another does not), so they go to Redis itself here.
  cacheConformance('fallback(failing fake, redis) reading', async () => {
    const real = new RedisCache(client());
    const down = new FakeCache();
    down.failures.failWith('unavailable');
    const chain = new FallbackCache([
      { provider: 'fake', port: down },
      { provider: 'redis', port: real },
    ]);
    return {
      name: chain.name,
      get: (k) => chain.get(k),
      groupKeys: (g) => chain.groupKeys(g),
      set: (k, v, opts) => real.set(k, v, opts),
      delete: (k) => real.delete(k),
      deleteGroup: (g, keys) => real.deleteGroup(g, keys),
    };
  });

  // Redis down and its breaker open (the gate passes it over): reads and writes go to the
  // memory tier, as on the edge.
  cacheConformance(
    'fallback(redis open, memory)',
    async () => {
      const port = await closedPort();
      return new FallbackCache(
        [
          { provider: 'redis', port: new RedisCache(client(`redis://127.0.0.1:${port}`)) },
          { provider: 'memory', port: new MemoryCache() },
        ],
        { skipReason: (p) => (p === 'redis' ? 'unhealthy since 12:00:00' : undefined) },
      );
    },
    { groups: false },
  );

  describe('redis adapter errors', () => {
    it('Redis down: a retryable unavailable within about a second, not a hang', async () => {
      const port = await closedPort();
      const cache = new RedisCache(client(`redis://127.0.0.1:${port}`));
      const chain = new FallbackCache([{ provider: 'redis', port: cache }]);
      // Several in a row: each reconnection try waits longer, up to the client's bound.
      for (const op of [
        () => cache.get(`${RUN}:x`),
        () => cache.get(`${RUN}:x`),
        () => cache.groupKeys(`${RUN}:g`),
        () => cache.delete(`${RUN}:x`),
        () => cache.set(`${RUN}:x`, 'x', { ttlS: 60, group: `${RUN}:g` }),
        () => chain.deleteGroup(`${RUN}:g`),
      ]) {
        const started = performance.now();
        await assert.rejects(op(), (err) => {
          return kindOf(err) === 'unavailable' && (err as ProviderError).retryable;
        });
        const ms = performance.now() - started;
        assert.ok(ms < 2_000, `failed after ${Math.round(ms)} ms`);
      }
    });

    it('a command Redis refuses for good is bad input, not retryable', async () => {
      const cache = new RedisCache(client());
      const k = `${RUN}:plain-value`;
      await cache.set(k, 'a string, not a group', { ttlS: 60 });
      await assert.rejects(cache.groupKeys(k), (err) => {
        assert.ok(err instanceof ProviderError, String(err));
        assert.equal(err.kind, 'bad_input');
        assert.equal(err.retryable, false);
        assert.match(err.message, /WRONGTYPE/);
        return true;
      });
      await assert.rejects(cache.set(`${RUN}:v`, 'x', { ttlS: 60, group: k }), /WRONGTYPE/);
    });
  });
});
