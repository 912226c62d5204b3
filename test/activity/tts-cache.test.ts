// The TTS cache on the real platform: the index in the local Redis, the audio in the local
// S3 server (SeaweedFS). The provider is the family's fake returning fixed μ-law: what
// is under test is whether the cache calls it, not the speech.
import { localObjectStore } from '../../testing/object-store';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { FakeCache } from '../../providers/cache/fake';
import { RedisCache } from '../../providers/cache/redis';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../providers/object-store/s3';
import {
  DEFAULT_TTS_CACHE_TTL_S,
  normaliseText,
  TtsCache,
  ttsCacheTtlFromEnv,
} from '../../providers/tts/cache';
import { infraUp, redisUrl } from '../../infra';

const NS = `tts-test-${process.pid}-${Date.now().toString(36)}`;

const s3Store = (over: Partial<S3ObjectStoreOptions> = {}) => localObjectStore('audio', over);

describe('TTS cache (Redis index + S3 audio)', function () {
  this.timeout(60_000);
  let redis: Redis;
  let store: S3ObjectStore;
  let cache: TtsCache;
  const objects = new Set<string>(); // every object key a test may have written, for cleanup
  const track = (voice: string, text: string, scope?: Parameters<TtsCache['keys']>[2]) => {
    const keys = cache.keys(voice, text, scope);
    objects.add(keys.object);
    return keys;
  };

  before(async () => {
    await infraUp({ quiet: true });
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    store = s3Store();
    cache = new TtsCache({ cache: new RedisCache(redis), store, namespace: NS });
  });

  after(async () => {
    await Promise.all([...objects].map((k) => store.delete(k)));
    const keys = await redis.keys(`${NS}:*`); // a namespace of this run only
    if (keys.length) await redis.del(...keys);
    store.close();
    redis.disconnect();
  });

  it('a miss calls the provider once; the same prompt again is a hit that calls none', async () => {
    const tts = new FakeTextToSpeech({ voice: 'flite:slt' });
    const text = 'Your balance is forty two dollars.';
    const { index, object } = track(tts.voice, text);

    const first = await cache.cachedSynthesize(tts, text);
    assert.equal(first.cacheHit, false);
    assert.equal(tts.calls, 1);
    assert.ok(await store.exists(object), 'audio stored');
    assert.deepEqual(JSON.parse((await redis.get(index))!), {
      objectKey: object,
      durationMs: 500,
      provider: 'fake',
      bytes: 4_000,
    });

    const second = await cache.cachedSynthesize(tts, text);
    assert.equal(second.cacheHit, true);
    assert.equal(tts.calls, 1, 'the provider was called on a hit');
    assert.ok(second.audio.mulaw.equals(first.audio.mulaw), 'other bytes came back');
    assert.deepEqual(
      { ...second.audio, mulaw: undefined },
      { mulaw: undefined, durationMs: 500, provider: 'fake', voice: 'flite:slt' },
    );

    // Only whitespace differs: the same prompt. Case or punctuation differ: another one.
    assert.equal(
      (await cache.cachedSynthesize(tts, `  ${text.replace(/ /g, '  ')}\n`)).cacheHit,
      true,
    );
    assert.equal(tts.calls, 1);
    track(tts.voice, text.toUpperCase());
    assert.equal((await cache.cachedSynthesize(tts, text.toUpperCase())).cacheHit, false);
    assert.equal(tts.calls, 2);
  });

  it('the index entry expires after the TTL (default 7 days, TTS_CACHE_TTL_S)', async () => {
    const tts = new FakeTextToSpeech({ voice: 'flite:kal' });
    const text = 'Thanks for calling.';
    const { index } = track(tts.voice, text);
    await cache.cachedSynthesize(tts, text);
    const ttl = await redis.ttl(index);
    assert.ok(ttl > DEFAULT_TTS_CACHE_TTL_S - 10 && ttl <= DEFAULT_TTS_CACHE_TTL_S, `ttl ${ttl}`);

    const shortLived = new TtsCache({
      cache: new RedisCache(redis),
      store,
      namespace: NS,
      ttlS: 1,
    });
    const other = 'This entry lives one second.';
    track(tts.voice, other);
    await shortLived.cachedSynthesize(tts, other);
    assert.ok(await shortLived.get(tts.voice, other), 'hit before expiry');
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal(await shortLived.get(tts.voice, other), undefined, 'still a hit after its TTL');

    assert.equal(ttsCacheTtlFromEnv({}), DEFAULT_TTS_CACHE_TTL_S);
    assert.equal(ttsCacheTtlFromEnv({ TTS_CACHE_TTL_S: '3600' }), 3600);
    assert.throws(() => ttsCacheTtlFromEnv({ TTS_CACHE_TTL_S: '-1' }), /TTS_CACHE_TTL_S=-1/);
  });

  it('an index entry whose audio was deleted is a miss, and the entry is removed', async () => {
    const tts = new FakeTextToSpeech({ voice: 'espeak-ng:en-us' });
    const text = 'Press one to confirm.';
    const { index, object } = track(tts.voice, text);
    await cache.cachedSynthesize(tts, text);
    await store.delete(object);

    assert.equal(await cache.get(tts.voice, text), undefined);
    assert.equal(await redis.exists(index), 0, 'the dangling entry stayed');
    const again = await cache.cachedSynthesize(tts, text);
    assert.equal(again.cacheHit, false);
    assert.equal(tts.calls, 2);
    assert.equal((await cache.cachedSynthesize(tts, text)).cacheHit, true, 're-cached');
  });

  it('another voice is another entry', async () => {
    const a = new FakeTextToSpeech({ voice: 'flite:slt' });
    const b = new FakeTextToSpeech({ voice: 'polly:Joanna' });
    const text = 'One moment please.';
    const ka = track(a.voice, text);
    const kb = track(b.voice, text);
    assert.notEqual(ka.index, kb.index);
    assert.notEqual(ka.object, kb.object);

    assert.equal((await cache.cachedSynthesize(a, text)).cacheHit, false);
    assert.equal((await cache.cachedSynthesize(b, text)).cacheHit, false);
    const hitA = await cache.cachedSynthesize(a, text);
    const hitB = await cache.cachedSynthesize(b, text);
    assert.deepEqual([hitA.cacheHit, hitB.cacheHit, a.calls, b.calls], [true, true, 1, 1]);
    assert.equal(hitB.audio.voice, 'polly:Joanna');
    assert.ok(!hitA.audio.mulaw.equals(hitB.audio.mulaw), 'one voice got the other voice’s audio');
  });

  it('forgetCall removes that call’s entries and nothing else', async () => {
    const tts = new FakeTextToSpeech({ voice: 'flite:slt' });
    const callA = `call-CA${process.pid}a`;
    const callB = `call-CA${process.pid}b`;
    const aTexts = ['Hello Ada, you owe $42.10.', 'Ada, paying $42.10 now.'];
    const aKeys = aTexts.map((t) => track(tts.voice, t, { callId: callA }));
    const bText = 'Hello Bob, you owe $7.00.';
    const bKeys = track(tts.voice, bText, { callId: callB });
    const sharedText = 'Goodbye.';
    track(tts.voice, sharedText);

    for (const t of aTexts) await cache.cachedSynthesize(tts, t, { scope: { callId: callA } });
    await cache.cachedSynthesize(tts, bText, { scope: { callId: callB } });
    await cache.cachedSynthesize(tts, sharedText);
    // The same words in the other call, or shared: not this call's entry.
    track(tts.voice, aTexts[0]!, { callId: callB });
    assert.equal(await cache.get(tts.voice, aTexts[0]!, { callId: callB }), undefined);
    assert.equal(await cache.get(tts.voice, aTexts[0]!), undefined);
    assert.equal(
      (await cache.cachedSynthesize(tts, aTexts[1]!, { scope: { callId: callA } })).cacheHit,
      true,
    );

    assert.equal(await cache.forgetCall(callA), 2);
    for (const [i, k] of aKeys.entries()) {
      assert.equal(await cache.get(tts.voice, aTexts[i]!, { callId: callA }), undefined);
      assert.equal(await redis.exists(k.index), 0);
      assert.equal(await store.exists(k.object), false, `audio of ${k.object} left behind`);
    }
    assert.equal(await redis.exists(`${NS}:call:${callA}`), 0);
    assert.ok(
      await cache.get(tts.voice, bText, { callId: callB }),
      'the other call lost its entry',
    );
    assert.ok(await store.exists(bKeys.object));
    assert.ok(await cache.get(tts.voice, sharedText), 'a shared entry was forgotten');
    assert.equal(await cache.forgetCall(callA), 0, 'a second run has nothing left');

    await assert.rejects(cache.forgetCall('call/../etc'), /bad call id/);
  });

  it('a failing store: the provider still serves, nothing is indexed, the error is told', async () => {
    const broken = s3Store({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    try {
      const brokenCache = new TtsCache({
        cache: new RedisCache(redis),
        store: broken,
        namespace: NS,
      });
      const tts = new FakeTextToSpeech({ voice: 'flite:rms' });
      const text = 'The store is down.';
      const res = await brokenCache.cachedSynthesize(tts, text);
      assert.equal(res.cacheHit, false);
      assert.equal(tts.calls, 1);
      assert.equal(res.audio.mulaw.length, 4_000);
      assert.match(res.cacheError ?? '', /^put: s3 PutObject/);
      // The object could not be written, so no index entry may point at it.
      assert.equal(await redis.exists(brokenCache.keys(tts.voice, text).index), 0);
    } finally {
      broken.close();
    }
  });

  it('a failing index: the provider still serves and the error is told', async () => {
    const down = new FakeCache();
    down.failures.failWith('unavailable');
    const brokenCache = new TtsCache({ cache: down, store, namespace: NS });
    const tts = new FakeTextToSpeech({ voice: 'flite:rms' });
    const res = await brokenCache.cachedSynthesize(tts, 'The index is down.');
    assert.equal(res.cacheHit, false);
    assert.equal(tts.calls, 1);
    assert.equal(res.audio.mulaw.length, 4_000);
    assert.match(res.cacheError ?? '', /^get: fake-cache: told to fail/);
    assert.equal(down.failures.calls, 1, 'a put after a failed get');
  });

  it('an aborted synthesis calls no provider', async () => {
    const tts = new FakeTextToSpeech({ voice: 'flite:awb' });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(cache.cachedSynthesize(tts, 'Never said.', ac.signal), /abort/i);
    assert.equal(tts.calls, 0);
  });

  it('normalises text by whitespace and Unicode form only', () => {
    assert.equal(normaliseText('  a\t b\n\nc  '), 'a b c');
    assert.equal(normaliseText('caf\u0065\u0301'), normaliseText('caf\u00e9'));
    assert.notEqual(normaliseText('US'), normaliseText('us'));
  });

  it('measures hit latency (Redis GET + S3 GET of 40 KB) over 100 gets', async () => {
    const tts = new FakeTextToSpeech({ voice: 'flite:slt', bytes: 40_000 }); // 5 s of speech
    const text = 'A five second prompt for the latency measurement.';
    track(tts.voice, text);
    await cache.cachedSynthesize(tts, text);
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      const r = await cache.cachedSynthesize(tts, text);
      times.push(performance.now() - t);
      assert.equal(r.cacheHit, true);
    }
    assert.equal(tts.calls, 1);
    times.sort((a, b) => a - b);
    const p50 = times[49]!;
    const p95 = times[94]!;
    console.log(
      `      cache hit (40 KB): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (n=100)`,
    );
    assert.ok(p50 < 250, `hit p50 ${p50.toFixed(1)} ms`); // loose: the machine is shared
  });
});
