// Deepgram's pre-recorded API (POST /v1/listen) through the official SDK, against a local
// server replaying recorded exchanges of Deepgram's documented REST protocol (Deepgram
// itself cannot be reached from here): what goes on the wire, what comes back, and how
// each documented error maps onto the provider error kinds (and whether a retry may help).
import assert from 'node:assert/strict';
import { ProviderError, type ProviderErrorKind } from '../../providers/provider-error';
import { DeepgramPrerecordedSpeechToText } from '../../providers/stt/deepgram-prerecorded';
import { decodeWav } from '../../audio/wav';
import {
  DeepgramPrerecordedReplayServer,
  loadPrerecordedFixture,
} from '../fixtures/deepgram/prerecorded-replay-server';
import { speak } from '../../testing/speech-audio';

const kindIs = (kind: ProviderErrorKind, retryable: boolean, status?: number) => (err: unknown) => {
  assert.ok(err instanceof ProviderError, `not a ProviderError: ${String(err)}`);
  assert.equal(err.provider, 'deepgram');
  assert.equal(err.kind, kind, err.message);
  assert.equal(err.retryable, retryable, `${kind} retryable`);
  if (status !== undefined) assert.equal(err.status, status);
  return true;
};

describe('deepgram pre-recorded adapter on the wire (recorded REST exchanges)', function () {
  this.timeout(30_000);
  let server: DeepgramPrerecordedReplayServer;
  let stt: DeepgramPrerecordedSpeechToText;

  before(async () => {
    server = await DeepgramPrerecordedReplayServer.start();
    stt = new DeepgramPrerecordedSpeechToText({ apiKey: 'dg-test-key', baseUrl: server.url });
  });
  after(() => server.close());
  beforeEach(() => server.reset());

  it('posts the audio as a mono WAV with the documented query and reads the transcript', async () => {
    const audio = await speak('what is my balance', { engine: 'flite', voice: 'kal' });
    const r = await stt.transcribe(audio, { hints: ['what is my balance', 'pay my bill'] });
    assert.deepEqual(r, { text: 'What is my balance?', confidence: 0.9912, provider: 'deepgram' });

    assert.equal(server.requests.length, 1);
    const req = server.requests[0]!;
    assert.equal(req.headers.authorization, 'Token dg-test-key');
    for (const [k, v] of Object.entries(loadPrerecordedFixture('what-is-my-balance').expectQuery!))
      assert.equal(req.url.searchParams.get(k), v, `query ${k}`);
    assert.deepEqual(req.url.searchParams.getAll('keyterm'), ['what is my balance', 'pay my bill']);
    // The body is the very audio, in a WAV container Deepgram reads the format from.
    const wav = decodeWav(req.body);
    assert.equal(wav.sampleRate, 8000);
    assert.equal(wav.channels.length, 1);
    assert.deepEqual(wav.channels[0], audio.samples);
  });

  it('empty audio is not sent', async () => {
    const r = await stt.transcribe({ samples: new Int16Array(0), sampleRate: 8000 });
    assert.equal(r.text, '');
    assert.equal(server.requests.length, 0);
  });

  it('maps documented errors: 401 and 400 final, 429 and 503 retried', async () => {
    const audio = await speak('hello', { engine: 'flite', voice: 'kal' });
    server.enqueue('unauthorized', 'bad-audio', 'rate-limited', 'service-unavailable');
    await assert.rejects(stt.transcribe(audio), kindIs('bad_input', false, 401));
    await assert.rejects(stt.transcribe(audio), kindIs('bad_input', false, 400));
    await assert.rejects(stt.transcribe(audio), kindIs('rate_limited', true, 429));
    await assert.rejects(stt.transcribe(audio), kindIs('unavailable', true, 503));
    // One request each: the SDK's own retries are off (Temporal retries the activity).
    assert.equal(server.requests.length, 4);
  });

  it('an error names the status and Deepgram’s err_code, never the key', async () => {
    server.enqueue('unauthorized');
    const audio = await speak('hello', { engine: 'flite', voice: 'kal' });
    const err = await stt.transcribe(audio).then(
      () => assert.fail('expected a failure'),
      (e: Error) => e,
    );
    assert.match(err.message, /HTTP 401 \(INVALID_AUTH: Invalid credentials\.\)/);
    assert.doesNotMatch(err.message, /dg-test-key/);
  });

  it('no key, or no server: clear errors', async () => {
    const saved = process.env.DEEPGRAM_API_KEY;
    delete process.env.DEEPGRAM_API_KEY;
    try {
      await assert.rejects(
        new DeepgramPrerecordedSpeechToText().transcribe({
          samples: new Int16Array(8000),
          sampleRate: 8000,
        }),
        /DEEPGRAM_API_KEY is not set/,
      );
    } finally {
      if (saved !== undefined) process.env.DEEPGRAM_API_KEY = saved;
    }
    const nowhere = new DeepgramPrerecordedSpeechToText({
      apiKey: 'k',
      baseUrl: 'http://127.0.0.1:9',
    });
    await assert.rejects(
      nowhere.transcribe({ samples: new Int16Array(8000), sampleRate: 8000 }),
      kindIs('unavailable', true),
    );
  });
});
