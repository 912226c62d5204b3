// The ASR session policy for one utterance: the primary (Deepgram, against a local server
// replaying its live protocol, failing as recorded) is retried with backoff, then the
// fallback (the real local pocketsphinx on real phone audio) gets the same kept audio; every
// attempt is recorded; when both fail the result says so instead of throwing.
import assert from 'node:assert/strict';
import type { PcmAudio } from '../../providers/stt/port';
import { DeepgramSpeechToText } from '../../providers/stt/deepgram';
import { FallbackSpeechToText, type SttAttempt } from '../../providers/stt/fallback';
import { normalizeWords, PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { HINTS, phoneLine } from '../../testing/asr-corpus';
import { pcmToMulaw } from '../../audio/mulaw';
import { DeepgramReplayServer } from '../fixtures/deepgram/replay-server';
import { speak } from '../../testing/speech-audio';

const norm = (s: string) => normalizeWords(s).join(' ');

describe('ASR fallback policy (one utterance)', function () {
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

  /** Streams the utterance in 20 ms frames, as the edge does, and finishes it. */
  async function utterance(policy: FallbackSpeechToText, pcm = audio.samples) {
    const session = policy.open({ sampleRate: 8000, hints: HINTS.open });
    for (let i = 0; i < pcm.length; i += 160) {
      session.write(pcm.subarray(i, i + 160));
      if (i % 1600 === 0) await new Promise((r) => setImmediate(r));
    }
    return session.finish();
  }

  const shape = (a: SttAttempt[]) =>
    a.map((x) => `${x.provider}:${x.kind}:${x.ok ? 'ok' : 'fail'}`);

  it('the primary serves when it works: one live attempt, audio sent while the stream opened kept in order', async () => {
    const policy = new FallbackSpeechToText(deepgram, sphinx);
    const r = await utterance(policy);
    assert.equal(r.servedBy, 'deepgram');
    assert.equal(r.transcript?.text, 'What is my balance?');
    assert.deepEqual(shape(r.attempts), ['deepgram:live:ok']);
    assert.deepEqual(Buffer.concat(server.connections[0]!.audio), pcmToMulaw(audio.samples));
  });

  it('a primary failing mid-stream is retried with the same audio and serves', async () => {
    server.enqueue('server-error'); // then the default exchange succeeds
    const policy = new FallbackSpeechToText(deepgram, sphinx);
    const r = await utterance(policy);
    assert.equal(r.servedBy, 'deepgram');
    assert.deepEqual(shape(r.attempts), ['deepgram:live:fail', 'deepgram:replay:ok']);
    assert.match(r.attempts[0]!.error!, /^ProviderUnavailable: .*1011/);
    // The retry got the whole utterance, not just what followed the failure.
    assert.deepEqual(Buffer.concat(server.connections[1]!.audio), pcmToMulaw(audio.samples));
  });

  it('after 3 failed primary attempts (with backoff) the fallback serves the same audio', async () => {
    server.enqueue('service-unavailable', 'server-error', 'service-unavailable');
    const seen: SttAttempt[] = [];
    const policy = new FallbackSpeechToText(deepgram, sphinx, {
      backoffMs: [150, 300],
      onAttempt: (a) => seen.push(a),
    });
    const started = Date.now();
    const r = await utterance(policy);
    assert.equal(r.servedBy, 'pocketsphinx');
    assert.equal(norm(r.transcript!.text), 'what is my balance');
    assert.deepEqual(shape(r.attempts), [
      'deepgram:live:fail',
      'deepgram:replay:fail',
      'deepgram:replay:fail',
      'pocketsphinx:replay:ok',
    ]);
    assert.match(r.attempts[0]!.error!, /^ProviderUnavailable: .*HTTP 503/);
    assert.match(r.attempts[1]!.error!, /^ProviderUnavailable: .*1011/);
    assert.deepEqual(seen, r.attempts, 'every attempt is reported as it happens');
    assert.ok(Date.now() - started >= 450, 'the backoff waited 150 + 300 ms');
    assert.equal(server.connections.length, 3);
  });

  it('a final failure (401) is not retried: straight to the fallback', async () => {
    server.enqueue('unauthorized');
    const r = await utterance(new FallbackSpeechToText(deepgram, sphinx));
    assert.equal(r.servedBy, 'pocketsphinx');
    assert.deepEqual(shape(r.attempts), ['deepgram:live:fail', 'pocketsphinx:replay:ok']);
    assert.match(r.attempts[0]!.error!, /^BadInput: .*401/);
    assert.equal(server.connections.length, 1);
  });

  it('when both fail the result says so, with every reason, and nothing throws', async () => {
    server.enqueue('service-unavailable', 'service-unavailable', 'service-unavailable');
    const held = await sphinx.open({ sampleRate: 8000 }); // the only decoder is busy
    try {
      const r = await utterance(new FallbackSpeechToText(deepgram, sphinx, { backoffMs: [10] }));
      assert.equal(r.transcript, undefined);
      assert.equal(r.servedBy, undefined);
      assert.deepEqual(shape(r.attempts), [
        'deepgram:live:fail',
        'deepgram:replay:fail',
        'deepgram:replay:fail',
        'pocketsphinx:replay:fail',
      ]);
      assert.match(r.attempts[3]!.error!, /^ProviderUnavailable: no free pocketsphinx decoder/);
    } finally {
      held.abort();
    }
  });

  it('keeps at most maxUtteranceMs of audio and says the retries got a truncated utterance', async () => {
    server.enqueue('unauthorized', 'what-is-my-balance');
    const policy = new FallbackSpeechToText(deepgram, deepgram, { maxUtteranceMs: 500 });
    const r = await utterance(policy);
    assert.equal(r.truncated, true);
    assert.equal(r.servedBy, 'deepgram');
    assert.equal(server.connections[1]!.audioBytes, 4000); // 500 ms at 8 kHz, μ-law
  });

  it('a whole recording goes through the same policy without a live stream', async () => {
    server.enqueue('service-unavailable', 'what-is-my-balance');
    const r = await new FallbackSpeechToText(deepgram, sphinx, { backoffMs: [10] }).recognize(
      audio,
      {
        hints: HINTS.open,
      },
    );
    assert.equal(r.servedBy, 'deepgram');
    assert.deepEqual(shape(r.attempts), ['deepgram:replay:fail', 'deepgram:replay:ok']);
  });

  it('abort() stops the retries: no further attempts, no transcript', async () => {
    server.enqueue('service-unavailable', 'service-unavailable', 'service-unavailable');
    const policy = new FallbackSpeechToText(deepgram, sphinx, { backoffMs: [2000] });
    const session = policy.open({ sampleRate: 8000, hints: HINTS.open });
    session.write(audio.samples);
    const result = session.finish();
    await new Promise((r) => setTimeout(r, 200)); // the live attempt failed; backoff running
    session.abort();
    const r = await result;
    assert.equal(r.transcript, undefined);
    assert.equal(server.connections.length, 1);
    assert.deepEqual(shape(r.attempts), ['deepgram:live:fail']);
  });
});
