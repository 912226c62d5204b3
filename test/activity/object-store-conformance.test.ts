// One conformance suite for the ObjectStore port, run against every adapter: the S3 one on
// the real local S3 server of `switchboard infra` (SeaweedFS), the fake, and the fallback
// adapter wrapping S3 alone and reading through [a failing fake, S3].
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { ObjectStore } from '../../providers/object-store/port';
import { FakeObjectStore } from '../../providers/object-store/fake';
import { FallbackObjectStore } from '../../providers/object-store/fallback';
import { FallbackExhaustedError } from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import { S3ObjectStore } from '../../providers/object-store/s3';
import { infraUp, objectStoreConfig } from '../../infra';

const RUN = `conformance/${process.pid}-${Date.now().toString(36)}`;

/** The kind of a provider's failure (through a chain: of the last provider asked). */
function kindOf(err: unknown): string | undefined {
  if (err instanceof FallbackExhaustedError) return err.attempts.at(-1)?.kind;
  return err instanceof ProviderError ? err.kind : undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function objectStoreConformance(adapter: string, create: () => Promise<ObjectStore>): void {
  describe(`ObjectStore conformance: ${adapter}`, function () {
    let store: ObjectStore;
    const written = new Set<string>();
    let n = 0;
    const key = (name: string) => {
      const k = `${RUN}/${adapter}/${n++}-${name}`;
      written.add(k);
      return k;
    };

    before(async () => {
      store = await create();
    });
    after(async () => {
      await Promise.all([...written].map((k) => store.delete(k)));
    });

    it('put, get, delete; a deleted key reads as undefined', async () => {
      const k = key('round-trip');
      assert.deepEqual(await store.put(k, Buffer.from('hello'), { contentType: 'text/plain' }), {
        created: true,
      });
      assert.equal((await store.get(k))?.toString(), 'hello');
      await store.delete(k);
      assert.equal(await store.get(k), undefined);
    });

    it('a missing key reads as undefined and deletes without error', async () => {
      const k = key('never-written');
      assert.equal(await store.get(k), undefined);
      await store.delete(k);
    });

    it('a plain put replaces the object', async () => {
      const k = key('overwrite');
      await store.put(k, Buffer.from('first'));
      assert.deepEqual(await store.put(k, Buffer.from('second')), { created: true });
      assert.equal((await store.get(k))?.toString(), 'second');
    });

    it('ifAbsent creates a new object, then keeps it and says created: false', async () => {
      const k = key('if-absent');
      assert.deepEqual(await store.put(k, Buffer.from('first'), { ifAbsent: true }), {
        created: true,
      });
      assert.deepEqual(await store.put(k, Buffer.from('second'), { ifAbsent: true }), {
        created: false,
      });
      assert.equal((await store.get(k))?.toString(), 'first');
    });

    it('of concurrent ifAbsent puts exactly one creates, and its body is the one kept', async () => {
      const k = key('race');
      const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`writer-${i}`));
      const results = await Promise.all(bodies.map((b) => store.put(k, b, { ifAbsent: true })));
      const winners = results.flatMap((r, i) => (r.created ? [i] : []));
      assert.equal(winners.length, 1, `created: ${JSON.stringify(results)}`);
      assert.equal((await store.get(k))?.toString(), `writer-${winners[0]}`);
    });

    it('round-trips 1 MB of binary data byte for byte', async () => {
      const k = key('binary.bin');
      const body = crypto.randomBytes(1024 * 1024);
      body.set([0, 255, 0x0d, 0x0a, 0], 0); // NUL, 0xFF, CRLF: nothing may be text-mangled
      await store.put(k, body);
      const back = await store.get(k);
      assert.ok(back, 'object missing');
      assert.equal(back.length, body.length);
      assert.ok(back.equals(body), 'bytes differ');
    });

    it('keeps what was put, not the caller buffer it was put from', async () => {
      const k = key('copy');
      const body = Buffer.from('original');
      await store.put(k, body);
      body.write('mutated!');
      const back = await store.get(k);
      assert.equal(back?.toString(), 'original');
      back.write('changed!');
      assert.equal((await store.get(k))?.toString(), 'original');
    });

    it('an empty key is bad input', async () => {
      await assert.rejects(store.put('', Buffer.from('x')), (err) => {
        return kindOf(err) === 'bad_input' && !(err as ProviderError).retryable;
      });
    });
  });
}

describe('object store', function () {
  this.timeout(60_000);
  const s3Stores: S3ObjectStore[] = [];
  const s3 = (over: Partial<ConstructorParameters<typeof S3ObjectStore>[0]> = {}) => {
    const cfg = objectStoreConfig('audio');
    const store = new S3ObjectStore({
      bucket: cfg.bucket,
      endpoint: cfg.endpoint,
      region: cfg.region,
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
      ...over,
    });
    s3Stores.push(store);
    return store;
  };

  before(async () => {
    await infraUp({ quiet: true }); // the S3 server, its buckets and credentials
  });
  after(() => s3Stores.forEach((s) => s.close()));

  objectStoreConformance('s3 (local SeaweedFS)', async () => s3());
  objectStoreConformance('fake', async () => new FakeObjectStore());
  objectStoreConformance('fallback(s3)', async () => {
    return new FallbackObjectStore([{ provider: 's3', port: s3() }]);
  });
  // Reads fall through the failing fake to S3; writes never fall through (a put that failed
  // may have landed), so they go to S3 itself here.
  objectStoreConformance('fallback(failing fake, s3) reading', async () => {
    const real = s3();
    const down = new FakeObjectStore();
    down.failures.failWith('unavailable');
    const chain = new FallbackObjectStore([
      { provider: 'fake', port: down },
      { provider: 's3', port: real },
    ]);
    return {
      get: (key) => chain.get(key),
      put: (key, body, opts) => real.put(key, body, opts),
      delete: (key) => real.delete(key),
    };
  });

  describe('s3 adapter errors and latency', () => {
    it('wrong credentials are a non-retryable failure, not a miss', async () => {
      const store = s3({ credentials: { accessKeyId: 'SBWRONGKEY', secretAccessKey: 'nope' } });
      await assert.rejects(store.get(`${RUN}/x`), (err) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.kind, 'bad_input');
        assert.equal(err.retryable, false);
        assert.match(err.message, /403/);
        assert.doesNotMatch(err.message, /nope/); // the secret never appears
        return true;
      });
    });

    it('a missing bucket is a clear error, not a miss', async () => {
      const store = s3({ bucket: 'switchboard-no-such-bucket' });
      await assert.rejects(
        store.get(`${RUN}/x`),
        /bucket switchboard-no-such-bucket does not exist/,
      );
    });

    it('an unreachable server is a retryable unavailable', async () => {
      const store = s3({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
      await assert.rejects(store.get(`${RUN}/x`), (err) => {
        return kindOf(err) === 'unavailable' && (err as ProviderError).retryable;
      });
    });

    it('exists() tells a stored key from a missing one (HeadObject)', async () => {
      const store = s3();
      const k = `${RUN}/head`;
      await store.put(k, Buffer.from('x'));
      assert.equal(await store.exists(k), true);
      await store.delete(k);
      assert.equal(await store.exists(k), false);
    });

    it('measures put and get of a 40 KB object (≈ 5 s of μ-law speech)', async () => {
      const store = s3();
      const body = crypto.randomBytes(40_000);
      const puts: number[] = [];
      const gets: number[] = [];
      for (let i = 0; i < 50; i++) {
        const k = `${RUN}/latency/${i}`;
        let t = performance.now();
        await store.put(k, body);
        puts.push(performance.now() - t);
        t = performance.now();
        assert.equal((await store.get(k))?.length, body.length);
        gets.push(performance.now() - t);
      }
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.delete(`${RUN}/latency/${i}`)));
      const fmt = (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b);
        return `p50 ${percentile(s, 50).toFixed(1)} ms, p95 ${percentile(s, 95).toFixed(1)} ms`;
      };
      console.log(`      S3 40 KB put: ${fmt(puts)}; get: ${fmt(gets)} (n=50)`);
      // Loose: a loaded 2-core machine is slow, a broken one (timeouts, retries) far slower.
      assert.ok(
        percentile(
          [...gets].sort((a, b) => a - b),
          50,
        ) < 250,
        'get p50 over 250 ms',
      );
    });
  });
});
