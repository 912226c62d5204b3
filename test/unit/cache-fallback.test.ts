// The cache's fallback adapter: reads fall through to the next cache, writes and deletes go
// to the first healthy one only, a gated or timed-out cache is left behind, a failure that
// cannot succeed is not tried again, and every cache asked or passed over is recorded.
import assert from 'node:assert/strict';
import { FakeCache } from '../../providers/cache/fake';
import { FallbackCache } from '../../providers/cache/fallback';
import { FallbackExhaustedError, type FallbackGate } from '../../providers/fallback';

const gate = (...closed: string[]): FallbackGate => ({
  skipReason: (p) => (closed.includes(p) ? 'circuit open' : undefined),
});

function exhausted(err: unknown): FallbackExhaustedError {
  assert.ok(err instanceof FallbackExhaustedError, String(err));
  return err;
}

describe('FallbackCache', () => {
  const pair = () => {
    const a = new FakeCache();
    const b = new FakeCache();
    return { a, b };
  };

  it('a read falls through to the next cache', async () => {
    const { a, b } = pair();
    await b.set('k', 'from b', { ttlS: 60, group: 'g' });
    a.failures.failWith('unavailable');
    const chain = new FallbackCache([
      { provider: 'a', port: a },
      { provider: 'b', port: b },
    ]);
    assert.equal(await chain.get('k'), 'from b');
    assert.deepEqual(await chain.groupKeys('g'), ['k']);
    assert.equal(a.failures.calls, 2);
  });

  it('a failed write or delete is never sent to a second cache', async () => {
    const { a, b } = pair();
    await b.set('k', 'kept', { ttlS: 60, group: 'g' });
    b.failures.calls = 0;
    a.failures.failWith('unavailable');
    const chain = new FallbackCache([
      { provider: 'a', port: a, tries: 2 },
      { provider: 'b', port: b },
    ]);
    for (const write of [
      () => chain.set('k', 'new', { ttlS: 60 }),
      () => chain.delete('k'),
      () => chain.deleteGroup('g'),
    ]) {
      const err = exhausted(await write().catch((e: unknown) => e));
      assert.deepEqual(
        err.attempts.map((t) => [t.provider, t.kind]),
        [
          ['a', 'unavailable'],
          ['a', 'unavailable'],
        ],
      );
      assert.equal(err.retryable, true);
    }
    assert.equal(b.failures.calls, 0, 'b was written to');
    assert.equal(await b.get('k'), 'kept');
  });

  it('a gated cache is passed over: reads and writes go to the first healthy one', async () => {
    const { a, b } = pair();
    const chain = new FallbackCache(
      [
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ],
      gate('a'),
    );
    await chain.set('k', 'v', { ttlS: 60, group: 'g' });
    assert.equal(await chain.get('k'), 'v');
    await chain.deleteGroup('g');
    assert.equal(await b.get('k'), undefined);
    assert.equal(a.failures.calls, 0);
  });

  it('a cache slower than its timeout is left behind for the next', async () => {
    const { a, b } = pair();
    await b.set('k', 'from b', { ttlS: 60 });
    a.failures.delay(1_000);
    const chain = new FallbackCache([
      { provider: 'a', port: a, timeoutMs: 50 },
      { provider: 'b', port: b },
    ]);
    const started = performance.now();
    assert.equal(await chain.get('k'), 'from b');
    assert.ok(performance.now() - started < 500, 'waited for the slow cache');
  });

  it('a failure that cannot succeed stops the tries: bad_input, not retryable', async () => {
    const { a } = pair();
    const chain = new FallbackCache([{ provider: 'a', port: a, tries: 3 }]);
    const err = exhausted(await chain.set('k', 'v', { ttlS: 0 }).catch((e: unknown) => e));
    assert.deepEqual([a.failures.calls, err.kind, err.retryable], [1, 'bad_input', false]);
  });

  it('records every cache asked or passed over', async () => {
    const { a, b } = pair();
    b.failures.failWith('rate_limited');
    const chain = new FallbackCache(
      [
        { provider: 'a', port: a },
        { provider: 'b', port: b },
        { provider: 'c', skipReason: 'no REDIS_URL' },
      ],
      gate('a'),
    );
    const err = exhausted(await chain.get('k').catch((e: unknown) => e));
    assert.deepEqual(
      err.attempts.map((t) => [t.provider, t.ok, t.kind, t.reason]),
      [
        ['a', false, 'skipped', 'circuit open'],
        ['b', false, 'rate_limited', 'fake-cache: told to fail'],
        ['c', false, 'skipped', 'no REDIS_URL'],
      ],
    );
  });
});
