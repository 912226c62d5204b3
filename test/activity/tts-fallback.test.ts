// The TTS fallback as configured from the environment: falls through in order on each kind
// of failure (timeout, 429, 500, missing credentials), records why, never retries a provider
// itself, and the shipped prompts still speak when every other provider is down.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, toFailure } from '../../activities/errors';
import type { ProviderAttempt } from '../../contracts/providers';
import { FallbackExhaustedError } from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import { PROMPTS } from '../../workflows/call-state';
import { mulawToPcm } from '../../audio/mulaw';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { APOLOGY } from '../../providers/tts/prerecorded';
import { textToSpeechFromEnv } from '../../providers/tts/config';
import { ensurePiperVoice } from '../../infra/install';
import type { FallbackTextToSpeech } from '../../providers/tts/fallback';
import {
  FAKE_AWS_ENV,
  FAKE_GOOGLE_KEY,
  GoogleReplayServer,
  PollyReplayServer,
  recordedPcm,
} from '../helpers/tts-vendors';

const TEXT = PROMPTS.agent;
/** A reply neither a prompt nor the pieces cover (a name, a plan's name). */
const DYNAMIC = 'Ada, your Fiber plan renews on March 5.';

describe('TTS fallback (TTS_CHAIN)', () => {
  const polly = new PollyReplayServer();
  const google = new GoogleReplayServer(FAKE_GOOGLE_KEY);
  const chains: FallbackTextToSpeech[] = [];
  let baseEnv: NodeJS.ProcessEnv;

  before(async () => {
    baseEnv = {
      ...FAKE_AWS_ENV,
      GOOGLE_TTS_API_KEY: FAKE_GOOGLE_KEY,
      TTS_POLLY_ENDPOINT: await polly.start(),
      TTS_GOOGLE_ENDPOINT: await google.start(),
    };
  });
  beforeEach(() => {
    for (const s of [polly, google]) {
      s.requests.length = 0;
      s.reply = async (_r, text) => {
        const pcm = await recordedPcm(text);
        // Vendors can say anything: fake a dynamic reply with a prompt's audio.
        return { kind: 'audio', pcm: pcm ?? (await recordedPcm(PROMPTS.goodbye))! };
      };
    }
  });
  afterEach(() => {
    for (const c of chains.splice(0)) c.close();
  });
  after(async () => {
    await polly.close();
    await google.close();
  });

  const chain = (env: NodeJS.ProcessEnv = {}) => {
    const c = textToSpeechFromEnv({ ...baseEnv, ...env });
    chains.push(c);
    return c;
  };
  const summary = (attempts: ProviderAttempt[] = []) =>
    attempts.map((a) => `${a.provider}:${a.ok ? 'ok' : a.kind}`);

  it('defaults to polly → google → local → prerecorded → pieces, and the primary serves', async () => {
    const c = chain();
    assert.deepEqual(
      c.links.map((l) => l.provider),
      ['polly', 'google', 'local', 'prerecorded', 'pieces'],
    );
    const r = await c.synthesize(TEXT);
    assert.equal(r.provider, 'polly');
    assert.deepEqual(summary(r.attempts), ['polly:ok']);
    assert.equal(google.requests.length, 0, 'later providers are not called');
    assert.equal(c.voice, 'polly:Joanna:neural');
  });

  it('falls through on a timeout, recording it and not waiting for the slow provider', async () => {
    polly.reply = () => ({ kind: 'hang' });
    const started = performance.now();
    const r = await chain({ TTS_POLLY_TIMEOUT_MS: '300' }).synthesize(TEXT);
    assert.equal(r.provider, 'google');
    assert.deepEqual(summary(r.attempts), ['polly:timeout', 'google:ok']);
    const polled = r.attempts![0]!;
    assert.equal(polled.reason, 'timeout after 300 ms');
    assert.ok(polled.ms >= 290 && polled.ms < 600, `${polled.ms} ms`);
    assert.ok(performance.now() - started < 1500);
  });

  it('falls through on 429 and on 500 without retrying within a provider', async () => {
    polly.reply = () => ({
      kind: 'error',
      status: 429,
      code: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    google.reply = () => ({
      kind: 'error',
      status: 500,
      code: 'INTERNAL',
      message: 'Internal error encountered.',
    });
    const r = await chain().synthesize(TEXT);
    assert.equal(r.provider, 'local');
    assert.equal(r.voice, 'flite:rms');
    assert.deepEqual(summary(r.attempts), ['polly:rate_limited', 'google:unavailable', 'local:ok']);
    assert.match(r.attempts![0]!.reason!, /ThrottlingException/);
    assert.match(r.attempts![1]!.reason!, /500 INTERNAL/);
    assert.equal(polly.requests.length, 1, 'polly asked once');
    assert.equal(google.requests.length, 1, 'google asked once');
  });

  it('skips providers without credentials and says why', async () => {
    const r = await chain({
      AWS_ACCESS_KEY_ID: undefined,
      GOOGLE_TTS_API_KEY: undefined,
    }).synthesize(TEXT);
    assert.equal(r.provider, 'local');
    assert.deepEqual(summary(r.attempts), ['polly:skipped', 'google:skipped', 'local:ok']);
    assert.match(r.attempts![0]!.reason!, /no AWS credentials/);
    assert.match(r.attempts![1]!.reason!, /GOOGLE_TTS_API_KEY/);
    assert.equal(polly.requests.length + google.requests.length, 0);
  });

  it('speaks a shipped prompt when everything else is down', async () => {
    const c = chain({
      TTS_POLLY_ENDPOINT: 'http://127.0.0.1:9', // nothing listens: connection refused
      TTS_LOCAL_COMMAND: '/nonexistent/flite',
    });
    google.reply = () => ({ kind: 'error', status: 503, code: 'UNAVAILABLE', message: 'down' });
    for (const text of [TEXT, APOLOGY]) {
      const r = await c.synthesize(text);
      assert.equal(r.provider, 'prerecorded');
      assert.ok(r.durationMs > 1000);
      assert.deepEqual(summary(r.attempts), [
        'polly:unavailable',
        'google:unavailable',
        'local:unavailable',
        'prerecorded:ok',
      ]);
      assert.match(r.attempts![2]!.reason!, /nonexistent\/flite/);
    }
  });

  it('says a personal sentence from prerecorded pieces when every synthesizer is down (heard back)', async () => {
    const c = chain({
      TTS_POLLY_ENDPOINT: 'http://127.0.0.1:9',
      TTS_LOCAL_COMMAND: '/nonexistent/flite',
    });
    google.reply = () => ({ kind: 'error', status: 503, code: 'UNAVAILABLE', message: 'down' });
    const stt = new PocketsphinxSpeechToText({ mode: 'dictation', poolSize: 1 });
    // A fresh decoder's first utterance is poorly recognised: warm it up on a prompt.
    const warm = await c.synthesize(PROMPTS.anythingElse);
    await stt.transcribe({ samples: mulawToPcm(warm.mulaw), sampleRate: 8000 });
    const r = await c.synthesize('Your balance is $42.17. Your next bill is due on 2026-12-05.');
    assert.equal(r.provider, 'pieces');
    assert.deepEqual(summary(r.attempts), [
      'polly:unavailable',
      'google:unavailable',
      'local:unavailable',
      'prerecorded:not_found',
      'pieces:ok',
    ]);
    const heard = await stt.transcribe({ samples: mulawToPcm(r.mulaw), sampleRate: 8000 });
    assert.match(heard.text, /forty two dollars and seventeen cents/, heard.text);
    assert.match(heard.text, /december fifth/, heard.text);
  });

  it('when nothing can serve, throws a retryable failure carrying every attempt', async () => {
    const c = chain({
      TTS_POLLY_ENDPOINT: 'http://127.0.0.1:9',
      TTS_LOCAL_COMMAND: '/nonexistent/flite',
    });
    google.reply = () => ({ kind: 'error', status: 500, code: 'INTERNAL', message: 'down' });
    let err: unknown;
    await c.synthesize(DYNAMIC).catch((e: unknown) => (err = e));
    assert.ok(err instanceof FallbackExhaustedError, String(err));
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.retryable, true);
    assert.deepEqual(summary(err.attempts), [
      'polly:unavailable',
      'google:unavailable',
      'local:unavailable',
      'prerecorded:not_found',
      'pieces:not_found',
    ]);
    assert.ok(!err.message.includes('Ada'), 'the reply text stays out of the failure');
    // What the activity throws: a retryable failure carrying every attempt.
    const failure = toFailure(err);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, FailureType.ProviderUnavailable);
    assert.equal(failure.nonRetryable, false);
    assert.deepEqual(failure.details?.[0], err.attempts);
  });

  it('a failure only final everywhere is final: text every provider refuses', async () => {
    const tooLong = {
      kind: 'error',
      status: 400,
      code: 'TextLengthExceededException',
      message: 'too long',
    } as const;
    polly.reply = () => tooLong;
    google.reply = () => ({
      kind: 'error',
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: 'too long',
    });
    let err: unknown;
    await chain({ TTS_CHAIN: 'polly,google,prerecorded' })
      .synthesize(DYNAMIC)
      .catch((e: unknown) => (err = e));
    assert.ok(err instanceof FallbackExhaustedError, String(err));
    assert.equal(err.kind, 'bad_input');
    assert.equal(err.retryable, false);
    const failure = toFailure(err);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, FailureType.BadInput);
    assert.equal(failure.nonRetryable, true);
  });

  it('follows the configured order and leaves out what is not listed', async () => {
    const c = chain({ TTS_CHAIN: 'prerecorded, local' });
    assert.deepEqual(
      c.links.map((l) => l.provider),
      ['prerecorded', 'local'],
    );
    const r = await c.synthesize(DYNAMIC);
    assert.deepEqual(summary(r.attempts), ['prerecorded:not_found', 'local:ok']);
    assert.equal(polly.requests.length + google.requests.length, 0);
    assert.throws(() => chain({ TTS_CHAIN: 'polly,espeak' }), /invalid TTS configuration/);
    assert.throws(() => chain({ TTS_CHAIN: ' ' }), /invalid TTS configuration/);
  });

  it('puts the Piper voice where TTS_CHAIN names it; a missing model falls through', async () => {
    await ensurePiperVoice();
    const r = await chain({ TTS_CHAIN: 'piper,local' }).synthesize(DYNAMIC);
    assert.deepEqual(summary(r.attempts), ['piper:ok']);
    assert.equal(r.voice, 'piper:en_US-joe-medium');
    const broken = chain({ TTS_CHAIN: 'piper,local', TTS_PIPER_MODEL: '/nonexistent/x.onnx' });
    const fell = await broken.synthesize(DYNAMIC);
    assert.deepEqual(summary(fell.attempts), ['piper:unavailable', 'local:ok']);
  });

  it("the caller's abort stops the chain at once instead of falling through", async () => {
    polly.reply = () => ({ kind: 'hang' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('barge-in')), 100);
    const started = performance.now();
    await assert.rejects(chain().synthesize(TEXT, { signal: ac.signal }), /barge-in/);
    assert.ok(performance.now() - started < 500);
    assert.equal(google.requests.length, 0, 'no fallback after the caller gave up');
  });

  it('refuses empty text without calling anyone', async () => {
    await assert.rejects(
      chain().synthesize('   '),
      (e: unknown) => e instanceof ProviderError && e.kind === 'bad_input' && !e.retryable,
    );
    assert.equal(polly.requests.length, 0);
  });
});
