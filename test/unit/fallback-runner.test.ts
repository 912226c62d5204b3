// The fallback runner every provider family's fallback adapter stands on: order, skips,
// tries with backoff, per-try timeouts, the gate, aborts and the one attempt record.
import assert from 'node:assert/strict';
import {
  FallbackExhaustedError,
  FallbackRunner,
  type FallbackLink,
} from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import type { ProviderAttempt } from '../../contracts/providers';

/** A port that answers with its name, or fails with the scripted errors first. */
class Scripted {
  calls = 0;
  constructor(
    readonly name: string,
    private readonly failures: Error[] = [],
    private readonly delayMs = 0,
  ) {}

  async ask(signal: AbortSignal): Promise<string> {
    const failure = this.failures[this.calls++];
    if (this.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(signal.reason as Error);
        });
      });
    }
    if (failure !== undefined) throw failure;
    return this.name;
  }
}

const link = (port: Scripted, more: Partial<FallbackLink<Scripted>> = {}) => ({
  provider: port.name,
  port,
  ...more,
});
const ask = (p: Scripted, { signal }: { signal: AbortSignal }) => p.ask(signal);
const unavailable = (p: string) => new ProviderError(p, 'unavailable', 'connection refused');
const summary = (attempts: ProviderAttempt[]) =>
  attempts.map((a) => `${a.provider}:${a.ok ? 'ok' : a.kind}`);

describe('FallbackRunner', () => {
  it('serves from the first link that answers and records who failed before it', async () => {
    const a = new Scripted('a', [unavailable('a')]);
    const b = new Scripted('b');
    const out = await new FallbackRunner('test', [link(a), link(b)]).run(ask);
    assert.equal(out.value, 'b');
    assert.equal(out.servedBy, 'b');
    assert.deepEqual(summary(out.attempts), ['a:unavailable', 'b:ok']);
    assert.equal(out.attempts[0]!.reason, 'connection refused');
  });

  it('passes over an unconfigured link and one the gate turns away, with the reasons', async () => {
    const b = new Scripted('b');
    const c = new Scripted('c');
    const gate = { skipReason: (p: string) => (p === 'b' ? 'unhealthy since 12:00' : undefined) };
    const out = await new FallbackRunner(
      'test',
      [{ provider: 'a', skipReason: 'no API key' }, link(b), link(c)],
      gate,
    ).run(ask);
    assert.equal(out.servedBy, 'c');
    assert.equal(b.calls, 0, 'a gated provider is never asked');
    assert.deepEqual(
      out.attempts.map((x) => [x.provider, x.kind, x.reason]),
      [
        ['a', 'skipped', 'no API key'],
        ['b', 'skipped', 'unhealthy since 12:00'],
        ['c', undefined, undefined],
      ],
    );
  });

  it('retries a link up to its tries with backoff, but not after a final failure', async () => {
    const flaky = new Scripted('flaky', [unavailable('flaky'), unavailable('flaky')]);
    const started = performance.now();
    const out = await new FallbackRunner('test', [
      link(flaky, { tries: 3, backoffMs: [30, 60] }),
    ]).run(ask);
    assert.equal(out.servedBy, 'flaky');
    assert.equal(flaky.calls, 3);
    assert.ok(performance.now() - started >= 85, 'waited 30 + 60 ms between tries');

    const refused = new Scripted('refused', [new ProviderError('refused', 'bad_input', 'no')]);
    const next = new Scripted('next');
    const out2 = await new FallbackRunner('test', [link(refused, { tries: 3 }), link(next)]).run(
      ask,
    );
    assert.equal(refused.calls, 1, 'bad input is not asked again');
    assert.equal(out2.servedBy, 'next');
  });

  it('bounds each try by the link timeout, aborts its signal and moves on', async () => {
    const slow = new Scripted('slow', [], 1_000);
    let seen: AbortSignal | undefined;
    const out = await new FallbackRunner('test', [
      link(slow, { timeoutMs: 50 }),
      link(new Scripted('fast')),
    ]).run((p, ctx) => {
      if (p === slow) seen = ctx.signal;
      return p.ask(ctx.signal);
    });
    assert.equal(out.servedBy, 'fast');
    assert.equal(out.attempts[0]!.kind, 'timeout');
    assert.ok(out.attempts[0]!.ms < 500, `gave up at ${out.attempts[0]!.ms} ms`);
    assert.equal(seen?.aborted, true, 'the slow provider was told to stop');
  });

  it('treats a rejected answer as empty and asks the next', async () => {
    const out = await new FallbackRunner('test', [
      link(new Scripted('blank')),
      link(new Scripted('words')),
    ]).run(ask, { reject: (v) => (v === 'blank' ? 'said nothing' : undefined) });
    assert.equal(out.servedBy, 'words');
    assert.deepEqual(summary(out.attempts), ['blank:empty', 'words:ok']);
  });

  it('rethrows the caller’s abort at once without asking further links', async () => {
    const ac = new AbortController();
    const later = new Scripted('later');
    const run = new FallbackRunner('test', [
      link(new Scripted('slow', [], 5_000)),
      link(later),
    ]).run(ask, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('barge-in')), 20);
    await assert.rejects(run, /barge-in/);
    assert.equal(later.calls, 0);
  });

  it('when none serves, throws one error with every attempt; final only if all were final', async () => {
    const err = await new FallbackRunner('tts', [
      link(new Scripted('a', [unavailable('a')])),
      link(new Scripted('b', [new ProviderError('b', 'bad_input', 'no voice')])),
    ])
      .run(ask)
      .catch((e: unknown) => e);
    assert.ok(err instanceof FallbackExhaustedError);
    assert.equal(err.retryable, true, 'an unavailable provider may come back');
    assert.deepEqual(summary(err.attempts), ['a:unavailable', 'b:bad_input']);
    assert.match(err.message, /no tts provider served: a: unavailable \(connection refused\)/);

    const final = await new FallbackRunner('tts', [
      { provider: 'x', skipReason: 'not configured' },
      link(new Scripted('b', [new ProviderError('b', 'bad_input', 'empty text')])),
    ])
      .run(ask)
      .catch((e: unknown) => e);
    assert.ok(final instanceof FallbackExhaustedError);
    assert.equal(final.retryable, false);
    assert.equal(final.kind, 'bad_input');
  });

  it('continues an attempt record begun elsewhere and reports each attempt as it happens', async () => {
    const earlier: ProviderAttempt[] = [{ provider: 'live', ok: false, ms: 12, kind: 'timeout' }];
    const told: string[] = [];
    const out = await new FallbackRunner('stt', [link(new Scripted('replay'))]).run(ask, {
      attempts: earlier,
      onAttempt: (a) => told.push(a.provider),
    });
    assert.deepEqual(summary(out.attempts), ['live:timeout', 'replay:ok']);
    assert.deepEqual(told, ['replay']);
  });

  it('tells the gate every attempt of a provider asked, never of one passed over', async () => {
    const recorded: ProviderAttempt[] = [];
    const gate = {
      skipReason: (p: string) => (p === 'gated' ? 'unhealthy since 12:00' : undefined),
      record: (a: ProviderAttempt) => recorded.push(a),
    };
    const out = await new FallbackRunner(
      'test',
      [
        { provider: 'absent' },
        link(new Scripted('gated')),
        link(new Scripted('flaky', [unavailable('flaky')]), { tries: 2 }),
        link(new Scripted('never')),
      ],
      gate,
    ).run(ask);
    assert.deepEqual(summary(out.attempts), [
      'absent:skipped',
      'gated:skipped',
      'flaky:unavailable',
      'flaky:ok',
    ]);
    assert.deepEqual(summary(recorded), ['flaky:unavailable', 'flaky:ok']);
    assert.equal(recorded[0], out.attempts[2], 'the gate is told the very record kept');
  });

  it('tells the gate nothing of a try the caller aborted (the runner rethrows unrecorded)', async () => {
    const recorded: ProviderAttempt[] = [];
    const gate = { skipReason: () => undefined, record: (a: ProviderAttempt) => recorded.push(a) };
    const ac = new AbortController();
    const run = new FallbackRunner('test', [link(new Scripted('slow', [], 5_000))], gate).run(ask, {
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(new Error('hang-up')), 20);
    await assert.rejects(run, /hang-up/);
    assert.deepEqual(recorded, []);
  });
});

describe('ProviderError', () => {
  it('maps HTTP statuses: 4xx final except 408 and 429, 404 a miss', () => {
    const kinds = [400, 401, 404, 408, 429, 500, 503].map((s) => {
      const e = ProviderError.fromStatus('vendor', s, 'x');
      return `${s}:${e.kind}:${e.retryable ? 'retry' : 'final'}`;
    });
    assert.deepEqual(kinds, [
      '400:bad_input:final',
      '401:bad_input:final',
      '404:not_found:final',
      '408:timeout:retry',
      '429:rate_limited:retry',
      '500:unavailable:retry',
      '503:unavailable:retry',
    ]);
  });

  it('wraps foreign errors: aborts, timeouts and anything else', () => {
    const abort = ProviderError.from('p', new DOMException('stop', 'AbortError'));
    const timeout = ProviderError.from('p', new DOMException('late', 'TimeoutError'));
    const refused = ProviderError.from('p', new Error('ECONNREFUSED'));
    assert.deepEqual(
      [abort, timeout, refused].map((e) => [e.kind, e.retryable]),
      [
        ['aborted', false],
        ['timeout', true],
        ['unavailable', true],
      ],
    );
    const own = new ProviderError('p', 'rate_limited', 'slow down');
    assert.equal(ProviderError.from('q', own), own);
  });
});
