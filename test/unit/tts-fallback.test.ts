// The TTS fallback's own rules over fakes: order, skipped links, the per-link timeout, no
// retries, the abort, the gate, and the attempts on the audio.
import assert from 'node:assert/strict';
import { FallbackExhaustedError, type FallbackGate } from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { FallbackTextToSpeech, type TtsLink } from '../../providers/tts/fallback';
import { rejection } from '../helpers/rejection';

const link = (port: FakeTextToSpeech, timeoutMs = 1_000): TtsLink => ({
  provider: port.name,
  port,
  timeoutMs,
});
const summary = (attempts: { provider: string; ok: boolean; kind?: string }[] = []) =>
  attempts.map((a) => `${a.provider}:${a.ok ? 'ok' : a.kind}`);

describe('FallbackTextToSpeech', () => {
  it('the first provider that answers serves; later ones are not asked', async () => {
    const a = new FakeTextToSpeech({ name: 'a' });
    const b = new FakeTextToSpeech({ name: 'b' });
    const tts = new FallbackTextToSpeech([link(a), link(b)]);
    const audio = await tts.synthesize('Hello.');
    assert.equal(audio.provider, 'a');
    assert.equal(audio.voice, a.voice);
    assert.deepEqual(summary(audio.attempts), ['a:ok']);
    assert.equal(b.calls, 0);
    assert.equal(tts.voice, a.voice, 'the chain speaks in its first configured voice');
  });

  it('records a skipped link with its reason and never asks it', async () => {
    const b = new FakeTextToSpeech({ name: 'b' });
    const tts = new FallbackTextToSpeech([
      { provider: 'polly', skipReason: 'no AWS credentials', timeoutMs: 1_000 },
      link(b),
    ]);
    const audio = await tts.synthesize('Hello.');
    assert.deepEqual(audio.attempts, [
      { provider: 'polly', ok: false, ms: 0, kind: 'skipped', reason: 'no AWS credentials' },
      { provider: 'b', ok: true, ms: audio.attempts![1]!.ms },
    ]);
    assert.equal(tts.voice, b.voice, 'a skipped link has no voice');
  });

  it('moves on when a link times out, without waiting for it', async () => {
    const slow = new FakeTextToSpeech({ name: 'slow', delayMs: Infinity });
    const b = new FakeTextToSpeech({ name: 'b' });
    const started = performance.now();
    const audio = await new FallbackTextToSpeech([link(slow, 100), link(b)]).synthesize('Hi.');
    assert.ok(performance.now() - started < 500);
    assert.equal(audio.provider, 'b');
    assert.deepEqual(summary(audio.attempts), ['slow:timeout', 'b:ok']);
    assert.equal(audio.attempts![0]!.reason, 'timeout after 100 ms');
  });

  it('asks each provider once, even when its failure may pass (no retries in the chain)', async () => {
    const flaky = new FakeTextToSpeech({ name: 'flaky', fail: 'rate_limited' });
    const b = new FakeTextToSpeech({ name: 'b' });
    const audio = await new FallbackTextToSpeech([link(flaky), link(b)]).synthesize('Hi.');
    assert.equal(flaky.calls, 1);
    assert.deepEqual(summary(audio.attempts), ['flaky:rate_limited', 'b:ok']);
  });

  it('exhausted: retryable when a failure may pass, final when every refusal is final', async () => {
    const down = new FakeTextToSpeech({ name: 'down', fail: 'unavailable' });
    const missing = new FakeTextToSpeech({ name: 'missing', fail: 'not_found' });
    const err = await rejection(
      new FallbackTextToSpeech([link(down), link(missing)]).synthesize('Hi.'),
    );
    assert.ok(err instanceof FallbackExhaustedError);
    assert.equal(err.retryable, true);
    assert.deepEqual(summary(err.attempts), ['down:unavailable', 'missing:not_found']);
    const bad = new FakeTextToSpeech({ name: 'bad', fail: 'bad_input' });
    const final = await rejection(
      new FallbackTextToSpeech([
        { provider: 'off', timeoutMs: 1_000 },
        link(bad),
        link(missing),
      ]).synthesize('Hi.'),
    );
    assert.ok(final instanceof FallbackExhaustedError);
    assert.equal(final.kind, 'bad_input');
    assert.equal(final.retryable, false, 'a skipped link does not make it retryable');
  });

  it("rethrows the caller's abort at once and asks no further provider", async () => {
    const slow = new FakeTextToSpeech({ name: 'slow', delayMs: Infinity });
    const b = new FakeTextToSpeech({ name: 'b' });
    const ac = new AbortController();
    const reason = new Error('barge-in');
    setTimeout(() => ac.abort(reason), 50);
    const started = performance.now();
    const err = await rejection(
      new FallbackTextToSpeech([link(slow, 5_000), link(b)]).synthesize('Hi.', {
        signal: ac.signal,
      }),
    );
    assert.equal(err, reason);
    assert.ok(performance.now() - started < 500);
    assert.equal(b.calls, 0);
  });

  it('refuses empty text as bad input without asking anyone', async () => {
    const a = new FakeTextToSpeech({ name: 'a' });
    const err = await rejection(new FallbackTextToSpeech([link(a)]).synthesize(' \n '));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.kind, 'bad_input');
    assert.equal(err.retryable, false);
    assert.equal(a.calls, 0);
  });

  it('passes over a provider its gate turns away, saying why', async () => {
    const a = new FakeTextToSpeech({ name: 'a' });
    const b = new FakeTextToSpeech({ name: 'b' });
    const gate: FallbackGate = { skipReason: (p) => (p === 'a' ? 'circuit open' : undefined) };
    const audio = await new FallbackTextToSpeech([link(a), link(b)], gate).synthesize('Hi.');
    assert.equal(a.calls, 0);
    assert.deepEqual(summary(audio.attempts), ['a:skipped', 'b:ok']);
    assert.equal(audio.attempts![0]!.reason, 'circuit open');
  });
});
