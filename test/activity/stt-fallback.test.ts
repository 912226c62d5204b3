// The speech-to-text fallback for one utterance. On the wire: the primary (Deepgram, against
// a local server replaying its live protocol, failing as recorded) is retried with backoff,
// then the fallback (the real local pocketsphinx on real phone audio) gets the same kept
// audio; with Deepgram passed over, pocketsphinx streams live. With fakes: the policy's own rules (gate, timeouts, final failures, abort) and the
// one attempts list it keeps.
import assert from 'node:assert/strict';
import type { ProviderAttempt } from '../../contracts/providers';
import { FallbackExhaustedError, type FallbackGate } from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import type { PcmAudio, SttStream } from '../../providers/stt/port';
import { DeepgramSpeechToText } from '../../providers/stt/deepgram';
import { FakeSpeechToText } from '../../providers/stt/fake';
import { FallbackSpeechToText, type FallbackSttOptions } from '../../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { normalizeWords } from '../../providers/stt/pocketsphinx/grammar';
import { HINTS, phoneLine } from '../../testing/asr-corpus';
import { pcmToMulaw } from '../../audio/mulaw';
import { DeepgramReplayServer } from '../../testing/deepgram-replay';
import { speak } from '../../testing/speech-audio';
import { eventually } from '../../testing/eventually';

const norm = (s: string) => normalizeWords(s).join(' ');

const shape = (a: readonly ProviderAttempt[]) =>
  a.map((x) => `${x.provider}:${x.replay ? 'replay' : 'live'}:${x.ok ? 'ok' : x.kind}`);

/** Streams the utterance in 20 ms frames, as the edge does, and finishes it. */
async function utterance(stt: FallbackSpeechToText, pcm: Int16Array, hints = HINTS.open) {
  const stream = stt.start({ sampleRate: 8000, hints });
  for (let i = 0; i < pcm.length; i += 160) {
    stream.write(pcm.subarray(i, i + 160));
    if (i % 1600 === 0) await new Promise((r) => setImmediate(r));
  }
  return stream.finish();
}

/** The FallbackExhaustedError a finish() rejected with. */
async function exhausted(p: Promise<unknown>): Promise<FallbackExhaustedError> {
  const err = await p.then(
    () => assert.fail('expected no provider to serve'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FallbackExhaustedError, String(err));
  return err;
}

describe('STT fallback on the wire (Deepgram replay server, real pocketsphinx)', function () {
  let server: DeepgramReplayServer;
  let deepgram: DeepgramSpeechToText;
  let sphinx: PocketsphinxSpeechToText;
  let audio: PcmAudio;

  before(async () => {
    server = await DeepgramReplayServer.start();
    deepgram = new DeepgramSpeechToText({
      apiKey: 'dg-test-key',
      baseUrl: server.url,
      finalizeTimeoutMs: 500,
    });
    sphinx = new PocketsphinxSpeechToText({ poolSize: 1, acquireTimeoutMs: 300 });
    sphinx.warm();
    audio = phoneLine(await speak('what is my balance', { engine: 'flite', voice: 'slt' }));
  });
  beforeEach(() => server.reset());
  after(async () => {
    await server.close();
    sphinx.dispose();
  });

  it('the primary serves when it works: one live attempt, audio sent while the stream opened kept in order', async () => {
    const t = await utterance(new FallbackSpeechToText(deepgram, sphinx), audio.samples);
    assert.equal(t.provider, 'deepgram');
    assert.equal(t.text, 'What is my balance?');
    assert.deepEqual(shape(t.attempts!), ['deepgram:live:ok']);
    assert.equal(t.truncated, undefined);
    assert.deepEqual(Buffer.concat(server.connections[0]!.audio), pcmToMulaw(audio.samples));
  });

  it('a primary failing mid-stream is retried with the same audio and serves', async () => {
    server.enqueue('server-error'); // then the default exchange succeeds
    const t = await utterance(new FallbackSpeechToText(deepgram, sphinx), audio.samples);
    assert.equal(t.provider, 'deepgram');
    assert.deepEqual(shape(t.attempts!), ['deepgram:live:unavailable', 'deepgram:replay:ok']);
    assert.match(t.attempts![0]!.reason!, /1011/);
    // The retry got the whole utterance, not just what followed the failure.
    assert.deepEqual(Buffer.concat(server.connections[1]!.audio), pcmToMulaw(audio.samples));
  });

  it('after 3 failed primary attempts (with backoff) the fallback serves the same audio', async () => {
    server.enqueue('service-unavailable', 'server-error', 'service-unavailable');
    const seen: ProviderAttempt[] = [];
    const stt = new FallbackSpeechToText(deepgram, sphinx, {
      backoffMs: [150, 300],
      onAttempt: (a) => seen.push(a),
    });
    const started = Date.now();
    const t = await utterance(stt, audio.samples);
    assert.equal(t.provider, 'pocketsphinx');
    assert.equal(norm(t.text), 'what is my balance');
    assert.deepEqual(shape(t.attempts!), [
      'deepgram:live:unavailable',
      'deepgram:replay:unavailable',
      'deepgram:replay:unavailable',
      'pocketsphinx:replay:ok',
    ]);
    assert.match(t.attempts![0]!.reason!, /HTTP 503/);
    assert.match(t.attempts![1]!.reason!, /1011/);
    assert.deepEqual(seen, t.attempts, 'every attempt is reported as it happens');
    assert.ok(Date.now() - started >= 450, 'the backoff waited 150 + 300 ms');
    assert.equal(server.connections.length, 3);
  });

  it('a final failure (401) is not retried: straight to the fallback', async () => {
    server.enqueue('unauthorized');
    const t = await utterance(new FallbackSpeechToText(deepgram, sphinx), audio.samples);
    assert.equal(t.provider, 'pocketsphinx');
    assert.deepEqual(shape(t.attempts!), ['deepgram:live:bad_input', 'pocketsphinx:replay:ok']);
    assert.match(t.attempts![0]!.reason!, /401/);
    assert.equal(server.connections.length, 1);
  });

  it('when both fail, finish() rejects with every attempt and its reason', async () => {
    server.enqueue('service-unavailable', 'service-unavailable', 'service-unavailable');
    const held = await sphinx.open({ sampleRate: 8000 }); // the only decoder is busy
    try {
      const stt = new FallbackSpeechToText(deepgram, sphinx, { backoffMs: [10] });
      const err = await exhausted(utterance(stt, audio.samples));
      assert.deepEqual(shape(err.attempts), [
        'deepgram:live:unavailable',
        'deepgram:replay:unavailable',
        'deepgram:replay:unavailable',
        'pocketsphinx:replay:unavailable',
      ]);
      assert.match(err.attempts[3]!.reason!, /^no free pocketsphinx decoder/);
      assert.equal(err.retryable, true);
    } finally {
      held.abort();
    }
  });

  it('keeps at most maxUtteranceMs of audio and says the replays got a truncated utterance', async () => {
    server.enqueue('unauthorized', 'what-is-my-balance');
    const stt = new FallbackSpeechToText(deepgram, deepgram, { maxUtteranceMs: 500 });
    const t = await utterance(stt, audio.samples);
    assert.equal(t.truncated, true);
    assert.equal(t.provider, 'deepgram');
    assert.equal(server.connections[1]!.audioBytes, 4000); // 500 ms at 8 kHz, μ-law
  });

  it('a whole recording goes through the same policy without a live stream', async () => {
    server.enqueue('service-unavailable', 'what-is-my-balance');
    const stt = new FallbackSpeechToText(deepgram, sphinx, { backoffMs: [10] });
    const t = await stt.transcribe(audio, { hints: HINTS.open });
    assert.equal(t.provider, 'deepgram');
    assert.deepEqual(shape(t.attempts!), ['deepgram:replay:unavailable', 'deepgram:replay:ok']);
  });

  it('with Deepgram passed over, pocketsphinx streams live and serves: Deepgram is never dialled', async () => {
    const gate: FallbackGate = {
      skipReason: (p) => (p === 'deepgram' ? 'circuit open' : undefined),
    };
    const t = await utterance(new FallbackSpeechToText(deepgram, sphinx, { gate }), audio.samples);
    assert.equal(t.provider, 'pocketsphinx');
    assert.equal(norm(t.text), 'what is my balance');
    assert.deepEqual(shape(t.attempts!), ['deepgram:live:skipped', 'pocketsphinx:live:ok']);
    assert.equal(server.connections.length, 0);
  });

  it('abort() stops the retries: no further attempts, finish() rejects', async () => {
    server.enqueue('service-unavailable', 'service-unavailable', 'service-unavailable');
    const seen: ProviderAttempt[] = [];
    const stt = new FallbackSpeechToText(deepgram, sphinx, {
      backoffMs: [2000],
      onAttempt: (a) => seen.push(a),
    });
    const stream = stt.start({ sampleRate: 8000, hints: HINTS.open });
    stream.write(audio.samples);
    const result = stream.finish();
    await new Promise((r) => setTimeout(r, 200)); // the live attempt failed; backoff running
    stream.abort();
    await assert.rejects(result, (e: ProviderError) => e.kind === 'aborted');
    assert.equal(server.connections.length, 1);
    assert.deepEqual(shape(seen), ['deepgram:live:unavailable']);
  });
});

describe('STT fallback policy (fakes)', function () {
  const pcm = Int16Array.from({ length: 8000 }, (_, i) => Math.round(3000 * Math.sin(i / 7)));
  const say = async (stt: FallbackSpeechToText) => utterance(stt, pcm, []);
  const gate = (skip: Record<string, string>): FallbackGate => ({
    skipReason: (provider) => skip[provider],
  });

  it('every replay gets the audio the live stream got, and the transcript names who served', async () => {
    const primary = new FakeSpeechToText({
      name: 'primary',
      transcripts: ['hello there'],
      fail: { kind: 'unavailable', times: 1 },
    });
    const t = await say(new FallbackSpeechToText(primary, undefined, { backoffMs: [1] }));
    assert.equal(t.text, 'hello there');
    assert.equal(t.provider, 'primary');
    assert.deepEqual(shape(t.attempts!), ['primary:live:unavailable', 'primary:replay:ok']);
    assert.equal(primary.heard.length, 2);
    assert.deepEqual(primary.heard[0], pcm);
    assert.deepEqual(primary.heard[1], pcm);
  });

  it('a provider the gate turns away is never asked, and the record says why', async () => {
    const primary = new FakeSpeechToText({ name: 'primary', transcripts: ['from primary'] });
    const fallback = new FakeSpeechToText({ name: 'fallback', transcripts: ['from fallback'] });
    const stt = new FallbackSpeechToText(primary, fallback, {
      gate: gate({ primary: 'circuit open' }),
    });
    const t = await say(stt);
    assert.equal(t.text, 'from fallback');
    assert.equal(primary.requests, 0, 'no live stream was opened to a skipped primary');
    assert.deepEqual(shape(t.attempts!), ['primary:live:skipped', 'fallback:live:ok']);
    assert.equal(t.attempts![0]!.reason, 'circuit open');

    const both = new FallbackSpeechToText(primary, fallback, {
      gate: gate({ primary: 'circuit open', fallback: 'circuit open' }),
    });
    const err = await exhausted(say(both));
    assert.deepEqual(shape(err.attempts), ['primary:live:skipped', 'fallback:live:skipped']);
    assert.equal(primary.requests + fallback.requests, 1, 'only the first utterance asked');
  });

  it('tells the gate the live attempt and every replay, never a skipped provider', async () => {
    const primary = new FakeSpeechToText({
      name: 'primary',
      transcripts: ['hello there'],
      fail: { kind: 'unavailable', times: 1 },
    });
    const told: string[] = [];
    const recording: FallbackGate = {
      skipReason: () => undefined,
      record: (a) =>
        told.push(`${a.provider}:${a.replay ? 'replay' : 'live'}:${a.ok ? 'ok' : a.kind}`),
    };
    await say(new FallbackSpeechToText(primary, undefined, { backoffMs: [1], gate: recording }));
    assert.deepEqual(told, ['primary:live:unavailable', 'primary:replay:ok']);

    told.length = 0;
    const fallback = new FakeSpeechToText({ name: 'fallback', transcripts: ['from fallback'] });
    await say(
      new FallbackSpeechToText(primary, fallback, {
        gate: { ...recording, skipReason: (p) => (p === 'primary' ? 'circuit open' : undefined) },
      }),
    );
    assert.deepEqual(told, ['fallback:live:ok']);
  });

  it('a live stream that gives no transcript in time counts as a timeout and is aborted', async () => {
    const slow = new FakeSpeechToText({ name: 'slow', transcripts: ['late'], delayMs: 2000 });
    const fallback = new FakeSpeechToText({ name: 'fallback', transcripts: ['on time'] });
    const stt = new FallbackSpeechToText(slow, fallback, {
      primaryAttempts: 1,
      attemptTimeoutMs: 100,
    });
    const started = Date.now();
    const t = await say(stt);
    assert.ok(Date.now() - started < 1000, 'the slow stream was not waited for');
    assert.equal(t.text, 'on time');
    assert.deepEqual(shape(t.attempts!), ['slow:live:timeout', 'fallback:replay:ok']);
    assert.equal(slow.openStreams, 0, 'the timed-out stream was aborted');
  });

  it('a replay that gives no transcript in time counts as a timeout and is aborted', async () => {
    const down = new FakeSpeechToText({ name: 'down', fail: { kind: 'unavailable', on: 'open' } });
    const slow = new FakeSpeechToText({ name: 'slow', transcripts: ['late'], delayMs: 2000 });
    const stt = new FallbackSpeechToText(down, slow, { backoffMs: [1], attemptTimeoutMs: 100 });
    const err = await exhausted(say(stt));
    assert.deepEqual(shape(err.attempts), [
      'down:live:unavailable',
      'down:replay:unavailable',
      'down:replay:unavailable',
      'slow:replay:timeout',
    ]);
    assert.equal(slow.openStreams, 0);
    assert.equal(slow.heard.length, 0, 'the replay never reached its answer');
  });

  it('a final failure stops the retries of that provider, live or replayed', async () => {
    const bad = new FakeSpeechToText({ name: 'bad', fail: { kind: 'bad_input' } });
    const alsoBad = new FakeSpeechToText({ name: 'also-bad', fail: { kind: 'not_found' } });
    const stt = new FallbackSpeechToText(bad, alsoBad, { fallbackAttempts: 3 });
    const err = await exhausted(say(stt));
    assert.deepEqual(shape(err.attempts), ['bad:live:bad_input', 'also-bad:replay:not_found']);
    assert.equal(bad.requests, 1);
    assert.equal(alsoBad.requests, 1);
    assert.equal(err.retryable, false, 'no provider will ever serve this utterance');
  });

  it('a retryable failure of the fallback is tried again up to fallbackAttempts', async () => {
    const down = new FakeSpeechToText({ name: 'down', fail: { kind: 'bad_input', on: 'open' } });
    const flaky = new FakeSpeechToText({
      name: 'flaky',
      transcripts: ['third time'],
      fail: { kind: 'rate_limited', times: 2 },
    });
    const t = await say(new FallbackSpeechToText(down, flaky, { fallbackAttempts: 3 }));
    assert.equal(t.text, 'third time');
    assert.deepEqual(shape(t.attempts!), [
      'down:live:bad_input',
      'flaky:replay:rate_limited',
      'flaky:replay:rate_limited',
      'flaky:replay:ok',
    ]);
  });

  it('abort() during a replay ends it: finish() rejects as aborted, nothing is held', async () => {
    const down = new FakeSpeechToText({ name: 'down', fail: { kind: 'unavailable', on: 'open' } });
    const slow = new FakeSpeechToText({ name: 'slow', transcripts: ['late'], delayMs: 5000 });
    const stt = new FallbackSpeechToText(down, slow, { primaryAttempts: 1 });
    const ac = new AbortController();
    const stream: SttStream = await stt.open({ sampleRate: 8000, signal: ac.signal });
    stream.write(pcm);
    const result = stream.finish();
    while (slow.openStreams === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort(); // the caller's signal: the same as abort()
    await assert.rejects(result, (e: ProviderError) => e.kind === 'aborted');
    assert.equal(slow.openStreams, 0);
    assert.equal(slow.heard.length, 0);
  });

  it('with one primary try and no fallback, the live failure is the whole record', async () => {
    const down = new FakeSpeechToText({ name: 'down', fail: { kind: 'timeout' } });
    const err = await exhausted(
      say(new FallbackSpeechToText(down, undefined, { primaryAttempts: 1 })),
    );
    assert.deepEqual(shape(err.attempts), ['down:live:timeout']);
    assert.equal(down.requests, 1);
  });

  describe('with the primary passed over, the fallback streams live', function () {
    const passedOver = gate({ primary: 'circuit open' });
    const chain = (fallback: FakeSpeechToText, opts: FallbackSttOptions = {}) => {
      const primary = new FakeSpeechToText({ name: 'primary', transcripts: ['from primary'] });
      return {
        primary,
        stt: new FallbackSpeechToText(primary, fallback, { gate: passedOver, ...opts }),
      };
    };

    it('gets every frame as it comes, in order, and its transcript serves', async () => {
      const fallback = new FakeSpeechToText({ name: 'fallback', transcripts: ['from fallback'] });
      const { primary, stt } = chain(fallback);
      const stream = stt.start({ sampleRate: 8000 });
      stream.write(pcm.subarray(0, 160)); // before the live stream has opened: kept
      await new Promise((r) => setImmediate(r));
      for (let i = 160; i < pcm.length; i += 160) stream.write(pcm.subarray(i, i + 160));
      assert.equal(fallback.samplesWritten, pcm.length, 'written while the caller spoke');
      assert.equal(fallback.heard.length, 0, 'nothing finished yet');
      const t = await stream.finish();
      assert.equal(t.text, 'from fallback');
      assert.equal(t.provider, 'fallback');
      assert.deepEqual(shape(t.attempts!), ['primary:live:skipped', 'fallback:live:ok']);
      assert.equal(fallback.requests, 1, 'no replay');
      assert.deepEqual(fallback.heard[0], pcm);
      assert.equal(primary.requests, 0);
    });

    it('a failing live fallback rejects with both attempts; the skipped primary is not replayed to', async () => {
      const fallback = new FakeSpeechToText({ name: 'fallback', fail: { kind: 'unavailable' } });
      const { primary, stt } = chain(fallback);
      const err = await exhausted(say(stt));
      assert.deepEqual(shape(err.attempts), ['primary:live:skipped', 'fallback:live:unavailable']);
      assert.equal(fallback.samplesWritten, pcm.length);
      assert.equal(fallback.requests, 1);
      assert.equal(primary.requests, 0);
      assert.equal(err.retryable, true);
    });

    it('a live fallback that fails to open rejects with both attempts', async () => {
      const fallback = new FakeSpeechToText({
        name: 'fallback',
        fail: { kind: 'unavailable', on: 'open' },
      });
      const { primary, stt } = chain(fallback);
      const err = await exhausted(say(stt));
      assert.deepEqual(shape(err.attempts), ['primary:live:skipped', 'fallback:live:unavailable']);
      assert.equal(primary.requests, 0);
    });

    it('its remaining tries are replays of the same audio', async () => {
      const fallback = new FakeSpeechToText({
        name: 'fallback',
        transcripts: ['second time'],
        fail: { kind: 'rate_limited', times: 1 },
      });
      const { stt } = chain(fallback, { fallbackAttempts: 2 });
      const t = await say(stt);
      assert.equal(t.text, 'second time');
      assert.deepEqual(shape(t.attempts!), [
        'primary:live:skipped',
        'fallback:live:rate_limited',
        'fallback:replay:ok',
      ]);
      assert.deepEqual(fallback.heard, [pcm, pcm]);
    });

    it('its finish is bounded by attemptTimeoutMs: a timeout, and the stream is aborted', async () => {
      const fallback = new FakeSpeechToText({
        name: 'fallback',
        transcripts: ['late'],
        delayMs: 5000,
      });
      const { stt } = chain(fallback, { attemptTimeoutMs: 100 });
      const err = await exhausted(say(stt));
      assert.deepEqual(shape(err.attempts), ['primary:live:skipped', 'fallback:live:timeout']);
      assert.equal(fallback.openStreams, 0);
      assert.equal(fallback.heard.length, 0);
    });

    it('abort() ends the live fallback: finish() rejects as aborted', async () => {
      const fallback = new FakeSpeechToText({ name: 'fallback', transcripts: ['never'] });
      const { stt } = chain(fallback);
      const stream = stt.start({ sampleRate: 8000 });
      stream.write(pcm);
      await eventually('the live fallback stream', () => fallback.openStreams === 1, 5000, 5);
      stream.abort();
      assert.equal(fallback.openStreams, 0);
      await assert.rejects(stream.finish(), (e: ProviderError) => e.kind === 'aborted');
      assert.equal(fallback.heard.length, 0);
    });

    it('tells the gate the utterance fell back: the primary passed over, who served', async () => {
      const notes: string[] = [];
      const recording: FallbackGate = {
        ...passedOver,
        fellBack: (failed, servedBy) =>
          notes.push(`${failed.map((a) => `${a.provider}:${a.kind}`).join(',')}>${servedBy}`),
      };
      const served = new FakeSpeechToText({ name: 'fallback', transcripts: ['ok'] });
      await say(chain(served, { gate: recording }).stt);
      const down = new FakeSpeechToText({ name: 'fallback', fail: { kind: 'unavailable' } });
      await exhausted(say(chain(down, { gate: recording }).stt));
      assert.deepEqual(notes, [
        'primary:skipped>fallback',
        'primary:skipped,fallback:unavailable>undefined',
      ]);
    });
  });
});
