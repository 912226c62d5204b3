// Redis down, for real: the real Redis behind Toxiproxy with the proxy disabled, under the
// edge's TTS cache and the process's provider health as the edge builds them. Speech is still
// served (from the synthesizer), the cache's breaker opens so Redis is no longer even asked,
// health keeps its own view; once Redis is back the cache and the fleet view are used again.
import assert from 'node:assert/strict';
import { infraUp, redisUrl } from '../../infra';
import { sharedProviderHealth } from '../../providers/health/provider-health';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { QUICK_BREAKER as policy, ttsCacheOn } from '../../testing/degraded';
import { type FaultProxy, hostPort, startFaultProxy, throughProxy } from '../../testing/faults';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function within<T>(ms: number, what: string, probe: () => Promise<T | undefined>) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

describe('Redis down: the TTS cache is bypassed, provider health keeps its own view', function () {
  this.timeout(120_000);
  let proxy: FaultProxy;

  before(async () => {
    await infraUp({ quiet: true });
    proxy = await (await startFaultProxy()).proxy('redis-cache', hostPort(redisUrl()));
  });

  it('speech is served while Redis is down, and cached again once it is back', async () => {
    const url = throughProxy(redisUrl(), proxy);
    const health = sharedProviderHealth(url, { policy, refreshMs: 100 });
    const namespace = `tts-redis-down-${process.pid}-${Date.now()}`;
    const { cache, redis } = ttsCacheOn(url, health.forFamily('cache'), namespace);
    const tts = new FakeTextToSpeech({ name: 'local' });
    try {
      // Healthy: a miss, then a hit from Redis.
      assert.equal((await cache.cachedSynthesize(tts, 'your balance is due')).cacheHit, false);
      assert.equal((await cache.cachedSynthesize(tts, 'your balance is due')).cacheHit, true);
      assert.equal(tts.calls, 1);
      await within(2_000, 'the fleet view read', async () => (health.redisAway ? undefined : 1));

      await proxy.down();
      // Each line is still spoken: the cache fails fast and the synthesizer serves it.
      for (let i = 0; i < 4; i++) {
        const r = await cache.cachedSynthesize(tts, 'your balance is due');
        assert.equal(r.cacheHit, false);
        assert.ok(r.audio.mulaw.length > 0);
        assert.ok(r.cacheError, 'the cache error is reported, not thrown');
      }
      // The cache's breaker is open: Redis is not asked any more (no added wait per line).
      const open = await cache.cachedSynthesize(tts, 'your balance is due');
      assert.match(open.cacheError ?? '', /unhealthy since/);
      assert.equal(health.state('cache:redis').state.state, 'open');
      // Health works from this process's own view while the fleet's is unreachable.
      await within(5_000, 'health notices Redis away', async () =>
        health.redisAway ? true : undefined,
      );

      await proxy.up();
      await within(5_000, 'health back on the fleet view', async () =>
        health.redisAway ? undefined : true,
      );
      // After the open period a probe goes to Redis; the entry cached before is served again.
      const hit = await within(10_000, 'a cache hit again', async () => {
        const r = await cache.cachedSynthesize(tts, 'your balance is due');
        return r.cacheHit ? r : undefined;
      });
      assert.equal(hit.audio.provider, 'local');
      assert.equal(health.state('cache:redis').state.state, 'closed');
    } finally {
      await health.close();
      redis.disconnect();
    }
  });
});
