// One conformance suite for every TextToSpeech adapter: Polly and Google against local
// stand-ins that replay their documented wire protocols, the local engine for real, the
// shipped prerecorded prompts, and the fallback chain (over the local engine alone, and
// behind a provider that fails), Piper's neural voice in process (alone and behind a failing
// provider). Then each vendor's request shape and error mapping.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, toFailure } from '../../activities/errors';
import { ProviderError } from '../../providers/provider-error';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { FallbackTextToSpeech } from '../../providers/tts/fallback';
import type { TextToSpeech } from '../../providers/tts/port';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { GoogleTts } from '../../providers/tts/google';
import { LocalTts } from '../../providers/tts/local';
import { PiperTts } from '../../providers/tts/piper';
import { splitClauses } from '../../providers/tts/piper-phonemes';
import { ensurePiperVoice } from '../../infra/install';
import { PollyTts } from '../../providers/tts/polly';
import { PiecewiseSpeech } from '../../providers/tts/piecewise';
import {
  APOLOGY,
  PROMPTS_DIR,
  PrerecordedTts,
  UNSAYABLE_APOLOGY,
  type PromptIndex,
} from '../../providers/tts/prerecorded';
import { rms as pcmRms } from '../../audio/level';
import { mulawToPcm } from '../../audio/mulaw';
import { PROMPTS, initialCallState, step } from '../../workflows/call-state';
import {
  FAKE_AWS_ENV,
  FAKE_GOOGLE_KEY,
  GoogleReplayServer,
  PollyReplayServer,
  recordedPcm,
} from '../helpers/tts-vendors';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { rejection } from '../helpers/rejection';

const PROMPT = PROMPTS.anythingElse; // shipped, so the vendor stand-ins have its audio
const words = (t: string) => t.trim().split(/\s+/).length;

/** RMS level of μ-law audio as 16-bit PCM: speech is far above the ≈ 0 of silence. */
const rms = (mulaw: Buffer): number => pcmRms(mulawToPcm(mulaw));

/** A ProviderError, and the failure the activity boundary makes of it. */
function assertFailure(err: unknown, type: FailureType, nonRetryable: boolean): void {
  assert.ok(err instanceof ProviderError, `expected a ProviderError, got ${String(err)}`);
  assert.equal(err.retryable, !nonRetryable, `retryable for ${err.message}`);
  const failure = toFailure(err);
  assert.ok(failure instanceof ApplicationFailure);
  assert.equal(failure.type, type, err.message);
  assert.equal(failure.nonRetryable, nonRetryable, `nonRetryable for ${err.message}`);
}

interface Subject {
  name: string;
  setup(): Promise<{
    tts: TextToSpeech;
    /** Makes the next synthesis slow enough to abort mid-flight; undefined: not applicable. */
    slowText?: () => string;
    /** Who speaks (a fallback's serving link); default the adapter itself. */
    served?: { provider: string; voice: string };
    /** What it is asked to say; default a shipped prompt. */
    text?: string;
  }>;
  teardown(): Promise<void>;
}

const polly = new PollyReplayServer();
const google = new GoogleReplayServer(FAKE_GOOGLE_KEY);
let pollyTts: PollyTts | undefined;

const SUBJECTS: Subject[] = [
  {
    name: 'polly (replayed wire protocol)',
    async setup() {
      const endpoint = await polly.start();
      pollyTts = new PollyTts({ endpoint }, { ...FAKE_AWS_ENV });
      return {
        tts: pollyTts,
        slowText: () => {
          polly.reply = () => ({ kind: 'hang' });
          return PROMPT;
        },
      };
    },
    async teardown() {
      pollyTts?.destroy();
      await polly.close();
    },
  },
  {
    name: 'google (replayed wire protocol)',
    async setup() {
      const endpoint = await google.start();
      return {
        tts: new GoogleTts({ endpoint }, { GOOGLE_TTS_API_KEY: FAKE_GOOGLE_KEY }),
        slowText: () => {
          google.reply = () => ({ kind: 'hang' });
          return PROMPT;
        },
      };
    },
    teardown: () => google.close(),
  },
  {
    name: 'local (flite, for real)',
    async setup() {
      // ≈ 400 words: several seconds of synthesis, so an abort lands mid-run.
      return { tts: new LocalTts(), slowText: () => `${PROMPTS.unknownCaller} `.repeat(22) };
    },
    teardown: async () => undefined,
  },
  {
    name: 'piper (en_US-joe-medium in process, for real)',
    async setup() {
      await ensurePiperVoice();
      return { tts: new PiperTts(), slowText: () => `${PROMPTS.unknownCaller} `.repeat(22) };
    },
    teardown: async () => undefined,
  },
  {
    name: 'prerecorded (shipped prompt)',
    setup: async () => ({ tts: new PrerecordedTts() }),
    teardown: async () => undefined,
  },
  {
    name: 'pieces (shipped words, joined)',
    setup: async () => ({ tts: new PiecewiseSpeech() }),
    teardown: async () => undefined,
  },
  {
    name: 'fallback over [failing fakes, local with its binary missing, prerecorded, pieces]',
    async setup() {
      const pieces = new PiecewiseSpeech();
      return {
        tts: new FallbackTextToSpeech([
          {
            provider: 'down',
            port: new FakeTextToSpeech({ name: 'down', fail: 'unavailable' }),
            timeoutMs: 1_000,
          },
          {
            provider: 'slow',
            port: new FakeTextToSpeech({ name: 'slow', fail: 'timeout' }),
            timeoutMs: 1_000,
          },
          {
            provider: 'local',
            port: new LocalTts({ command: '/nonexistent/flite' }),
            timeoutMs: 4_000,
          },
          { provider: 'prerecorded', port: new PrerecordedTts(), timeoutMs: 500 },
          { provider: 'pieces', port: pieces, timeoutMs: 500 },
        ]),
        // A personal sentence: no whole prompt says it, the pieces do.
        served: { provider: 'pieces', voice: pieces.voice },
        text: 'Your next bill is due on December 5.',
      };
    },
    teardown: async () => undefined,
  },
  {
    name: 'fallback over local (flite)',
    async setup() {
      const local = new LocalTts();
      return {
        tts: new FallbackTextToSpeech([{ provider: 'local', port: local, timeoutMs: 10_000 }]),
        slowText: () => `${PROMPTS.unknownCaller} `.repeat(22),
        served: { provider: 'local', voice: local.voice },
      };
    },
    teardown: async () => undefined,
  },
  {
    name: 'fallback over [a failing fake, local (flite)]',
    async setup() {
      const local = new LocalTts();
      const down = new FakeTextToSpeech({ name: 'down', fail: 'unavailable' });
      return {
        tts: new FallbackTextToSpeech([
          { provider: 'down', port: down, timeoutMs: 1_000 },
          { provider: 'local', port: local, timeoutMs: 10_000 },
        ]),
        slowText: () => `${PROMPTS.unknownCaller} `.repeat(22),
        served: { provider: 'local', voice: local.voice },
      };
    },
    teardown: async () => undefined,
  },
  {
    name: 'fallback over [a failing fake, piper]',
    async setup() {
      await ensurePiperVoice();
      const piper = new PiperTts();
      const down = new FakeTextToSpeech({ name: 'down', fail: 'unavailable' });
      return {
        tts: new FallbackTextToSpeech([
          { provider: 'down', port: down, timeoutMs: 1_000 },
          { provider: 'piper', port: piper, timeoutMs: 10_000 },
        ]),
        slowText: () => `${PROMPTS.unknownCaller} `.repeat(22),
        served: { provider: 'piper', voice: piper.voice },
      };
    },
    teardown: async () => undefined,
  },
];

for (const subject of SUBJECTS) {
  describe(`TextToSpeech conformance: ${subject.name}`, () => {
    let tts: TextToSpeech;
    let slowText: (() => string) | undefined;
    let served: { provider: string; voice: string } | undefined;
    let PROMPT: string = PROMPTS.anythingElse;

    before(async () => {
      let text: string | undefined;
      ({ tts, slowText, served, text } = await subject.setup());
      PROMPT = text ?? PROMPT;
    });
    after(() => subject.teardown());

    it('returns non-empty 8 kHz μ-law speech of a plausible length', async () => {
      const audio = await tts.synthesize(PROMPT);
      assert.ok(audio.mulaw.length > 0);
      assert.equal(audio.durationMs, audio.mulaw.length / 8, 'durationMs is bytes at 8 kHz');
      const perWord = audio.durationMs / words(PROMPT);
      assert.ok(perWord >= 150 && perWord <= 500, `${perWord.toFixed(0)} ms per word`);
      assert.ok(rms(audio.mulaw) > 500, `speech, not silence (rms ${rms(audio.mulaw).toFixed(0)})`);
    });

    it('names its provider and voice', async () => {
      const audio = await tts.synthesize(PROMPT);
      const expected = served ?? { provider: tts.name, voice: tts.voice };
      assert.equal(audio.provider, expected.provider);
      assert.equal(audio.voice, expected.voice);
      assert.match(tts.voice, /^[a-z-]+:\S+/, 'voice is qualified by its engine or vendor');
    });

    it('rejects at once when the signal is already aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      const started = performance.now();
      await rejection(tts.synthesize(PROMPT, { signal: ac.signal }));
      assert.ok(performance.now() - started < 200);
    });

    it('honours an abort in flight', async function () {
      if (!slowText) return this.skip(); // a file read: nothing in flight to stop
      const text = slowText();
      const ac = new AbortController();
      const started = performance.now();
      setTimeout(() => ac.abort(), 100);
      const err = await rejection(tts.synthesize(text, { signal: ac.signal }));
      const ms = performance.now() - started;
      assert.ok(ac.signal.aborted);
      assert.ok(!(err instanceof ProviderError), 'an abort is not a provider failure');
      assert.ok(!(toFailure(err) instanceof ApplicationFailure), 'nor an activity failure');
      assert.ok(ms < 600, `stopped ${ms.toFixed(0)} ms after the start`);
    });
  });
}

describe('Polly adapter on the wire', () => {
  let endpoint: string;
  let tts: PollyTts;
  before(async () => {
    endpoint = await polly.start();
    tts = new PollyTts({ endpoint, voiceId: 'Matthew', engine: 'standard' }, { ...FAKE_AWS_ENV });
  });
  beforeEach(() => {
    polly.requests.length = 0;
    polly.reply = async (_r, text) => ({ kind: 'audio', pcm: (await recordedPcm(text))! });
  });
  after(async () => {
    tts.destroy();
    await polly.close();
  });

  it('sends a SigV4-signed SynthesizeSpeech for 8 kHz PCM and μ-law-encodes the reply', async () => {
    const audio = await tts.synthesize(PROMPT);
    assert.equal(polly.requests.length, 1);
    const req = polly.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/speech');
    assert.match(String(req.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(req.body), {
      Text: PROMPT,
      TextType: 'text',
      OutputFormat: 'pcm',
      SampleRate: '8000',
      VoiceId: 'Matthew',
      Engine: 'standard',
    });
    assert.match(
      String(req.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDSWITCHBOARDTEST\/\d{8}\/us-east-1\/polly\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/,
    );
    assert.ok(req.headers['x-amz-date'], 'signed with a date');
    assert.ok(!req.body.includes(FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY), 'no secret on the wire');
    // Same audio: each sample within μ-law's quantization step of what Polly sent.
    const sent = (await recordedPcm(PROMPT))!;
    const got = mulawToPcm(audio.mulaw);
    assert.equal(got.length, sent.length);
    for (let i = 0; i < sent.length; i += 97) {
      assert.ok(Math.abs(got[i]! - sent[i]!) <= Math.abs(sent[i]!) / 16 + 8, `sample ${i}`);
    }
    assert.equal(audio.voice, 'polly:Matthew:standard');
  });

  const cases: [string, number, string, FailureType, boolean][] = [
    ['InvalidSampleRateException', 400, 'bad input, final', FailureType.BadInput, true],
    ['TextLengthExceededException', 400, 'bad input, final', FailureType.BadInput, true],
    ['ThrottlingException', 429, 'rate limited, retried', FailureType.RateLimited, false],
    [
      'ThrottlingException',
      400,
      'rate limited (as Polly models it)',
      FailureType.RateLimited,
      false,
    ],
    [
      'ServiceFailureException',
      500,
      'unavailable, retried',
      FailureType.ProviderUnavailable,
      false,
    ],
  ];
  for (const [code, status, what, type, nonRetryable] of cases) {
    it(`maps ${status} ${code} → ${what}`, async () => {
      polly.reply = () => ({ kind: 'error', status, code, message: `${code} from the stand-in` });
      const err = await rejection(tts.synthesize(PROMPT));
      assertFailure(err, type, nonRetryable);
      assert.match((err as Error).message, new RegExp(code));
      assert.equal(polly.requests.length, 1, 'the SDK does not retry on its own');
    });
  }

  it('maps a refused connection to a retryable ProviderUnavailable', async () => {
    const dead = new PollyTts({ endpoint: 'http://127.0.0.1:9' }, { ...FAKE_AWS_ENV });
    assertFailure(await rejection(dead.synthesize(PROMPT)), FailureType.ProviderUnavailable, false);
    dead.destroy();
  });

  it('takes credentials from the environment only', () => {
    assert.throws(() => new PollyTts({ endpoint }, {}), /no AWS credentials/);
    assert.throws(
      () => new PollyTts({ endpoint }, { ...FAKE_AWS_ENV, AWS_REGION: undefined }),
      /no AWS region/,
    );
  });
});

describe('vendor TTS health checks (voice lists)', () => {
  let pollyTts: PollyTts;
  let googleTts: GoogleTts;
  before(async () => {
    pollyTts = new PollyTts(
      { endpoint: await polly.start(), engine: 'neural' },
      { ...FAKE_AWS_ENV },
    );
    googleTts = new GoogleTts(
      { endpoint: await google.start(), voiceName: 'en-GB-Wavenet-B' },
      { GOOGLE_TTS_API_KEY: FAKE_GOOGLE_KEY },
    );
  });
  beforeEach(() => {
    polly.requests.length = 0;
    google.requests.length = 0;
  });
  afterEach(() => {
    polly.outage = undefined;
    google.outage = undefined;
  });
  after(async () => {
    pollyTts.destroy();
    await polly.close();
    await google.close();
  });

  it('Polly: DescribeVoices for its engine; an outage fails it as a request would', async () => {
    await pollyTts.check(AbortSignal.timeout(5_000));
    assert.equal(polly.requests[0]!.method, 'GET');
    assert.equal(polly.requests[0]!.path, '/v1/voices?Engine=neural');
    polly.outage = () => ({
      kind: 'error',
      status: 503,
      code: 'ServiceFailureException',
      message: 'down',
    });
    assertFailure(
      await rejection(pollyTts.check(AbortSignal.timeout(5_000))),
      FailureType.ProviderUnavailable,
      false,
    );
  });

  it('Google: voices.list for its language with the key in a header; an outage fails it', async () => {
    await googleTts.check(AbortSignal.timeout(5_000));
    const req = google.requests[0]!;
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/v1/voices?languageCode=en-GB');
    assert.equal(req.headers['x-goog-api-key'], FAKE_GOOGLE_KEY);
    google.outage = () => ({ kind: 'error', status: 503, code: 'UNAVAILABLE', message: 'down' });
    assertFailure(
      await rejection(googleTts.check(AbortSignal.timeout(5_000))),
      FailureType.ProviderUnavailable,
      false,
    );
  });

  it("a vendor that never answers is cut by the check's signal", async () => {
    google.outage = () => ({ kind: 'hang' });
    const bound = new AbortController();
    const reason = new ProviderError('tts:google', 'timeout', 'health check: no answer');
    setTimeout(() => bound.abort(reason), 200);
    assert.equal(await rejection(googleTts.check(bound.signal)), reason);
  });
});

describe('Google TTS adapter on the wire', () => {
  let endpoint: string;
  beforeEach(() => {
    google.requests.length = 0;
    google.reply = async (_r, text) => ({ kind: 'audio', pcm: (await recordedPcm(text))! });
  });
  before(async () => {
    endpoint = await google.start();
  });
  after(() => google.close());
  const make = (key = FAKE_GOOGLE_KEY) =>
    new GoogleTts({ endpoint, voiceName: 'en-GB-Wavenet-B' }, { GOOGLE_TTS_API_KEY: key });

  it('posts text:synthesize for 8 kHz LINEAR16 with the key in a header', async () => {
    const audio = await make().synthesize(PROMPT);
    const req = google.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/text:synthesize', 'the key never goes into the URL');
    assert.equal(req.headers['x-goog-api-key'], FAKE_GOOGLE_KEY);
    assert.deepEqual(JSON.parse(req.body), {
      input: { text: PROMPT },
      voice: { languageCode: 'en-GB', name: 'en-GB-Wavenet-B' },
      audioConfig: {
        audioEncoding: 'LINEAR16',
        sampleRateHertz: 8000,
        effectsProfileId: ['telephony-class-application'],
      },
    });
    assert.equal(audio.mulaw.length, (await recordedPcm(PROMPT))!.length, 'WAV header stripped');
    assert.equal(audio.voice, 'google:en-GB-Wavenet-B');
  });

  const cases: [number, string, FailureType, boolean][] = [
    [400, 'INVALID_ARGUMENT', FailureType.BadInput, true],
    [403, 'PERMISSION_DENIED', FailureType.BadInput, true],
    [408, 'DEADLINE_EXCEEDED', FailureType.ProviderUnavailable, false],
    [429, 'RESOURCE_EXHAUSTED', FailureType.RateLimited, false],
    [500, 'INTERNAL', FailureType.ProviderUnavailable, false],
    [503, 'UNAVAILABLE', FailureType.ProviderUnavailable, false],
  ];
  for (const [status, code, type, nonRetryable] of cases) {
    it(`maps ${status} ${code} → ${type}${nonRetryable ? ' (final)' : ''}`, async () => {
      google.reply = () => ({ kind: 'error', status, code, message: `${code} from the stand-in` });
      const err = await rejection(make().synthesize(PROMPT));
      assertFailure(err, type, nonRetryable);
      assert.match((err as Error).message, new RegExp(`${status} ${code}`));
    });
  }

  it('a wrong key is a final error whose message does not carry the key', async () => {
    const err = await rejection(make('wrong-key-123').synthesize(PROMPT));
    assertFailure(err, FailureType.BadInput, true);
    assert.ok(!(err as Error).message.includes('wrong-key-123'));
  });

  it('an answer without audioContent is a provider failure', async () => {
    google.reply = () => ({ kind: 'audio', pcm: new Int16Array(0) });
    assertFailure(
      await rejection(make().synthesize(PROMPT)),
      FailureType.ProviderUnavailable,
      false,
    );
  });
});

describe('local engine (flite)', () => {
  it('is understood by the local ASR (pocketsphinx dictation)', async () => {
    const tts = new LocalTts();
    const stt = new PocketsphinxSpeechToText({ mode: 'dictation', poolSize: 1 });
    // A fresh decoder's first utterance is poorly recognised (its cepstral mean starts cold),
    // whatever the voice: warm it up once, as a live call's greeting would.
    const warm = await tts.synthesize(PROMPTS.anythingElse);
    await stt.transcribe({ samples: mulawToPcm(warm.mulaw), sampleRate: 8000 });
    const audio = await tts.synthesize('Your balance is forty two dollars and fifty cents.');
    const heard = await stt.transcribe({ samples: mulawToPcm(audio.mulaw), sampleRate: 8000 });
    assert.match(heard.text.toLowerCase(), /forty two dollars/, `heard "${heard.text}"`);
  });

  it('trims the engine’s leading silence (it is latency the caller hears)', async () => {
    const audio = await new LocalTts().synthesize(PROMPT);
    const pcm = mulawToPcm(audio.mulaw);
    const firstVoiced = pcm.findIndex((s) => Math.abs(s) > 64);
    assert.ok(firstVoiced >= 0 && firstVoiced / 8 <= 25, `first voice at ${firstVoiced / 8} ms`);
  });

  it('speaks with espeak-ng too, and fails cleanly when the engine is missing', async () => {
    const audio = await new LocalTts({ engine: 'espeak-ng' }).synthesize(PROMPT);
    assert.equal(audio.voice, 'espeak-ng:en-us');
    assert.ok(audio.durationMs / words(PROMPT) > 150);
    const missing = new LocalTts({ command: '/nonexistent/flite' });
    assertFailure(
      await rejection(missing.synthesize(PROMPT)),
      FailureType.ProviderUnavailable,
      false,
    );
  });

  it('refuses empty text as bad input', async () => {
    assertFailure(await rejection(new LocalTts().synthesize('  ')), FailureType.BadInput, true);
  });

  it('its health check passes with the engine and voice there, and fails without either', async () => {
    const signal = new AbortController().signal;
    await new LocalTts().check(signal);
    await new LocalTts({ engine: 'espeak-ng' }).check(signal);
    for (const broken of [
      new LocalTts({ command: '/nonexistent/flite' }),
      new LocalTts({ voice: 'no-such-voice' }),
      new LocalTts({ engine: 'espeak-ng', command: '/nonexistent/espeak-ng' }),
    ]) {
      const err = await rejection(broken.check(signal));
      assert.ok(err instanceof ProviderError, String(err));
      assert.deepEqual([err.provider, err.kind, err.retryable], ['local', 'unavailable', true]);
    }
  });
});

describe('piper voice (en_US-joe-medium)', () => {
  before(() => ensurePiperVoice());

  it('is understood by the local ASR, amounts spoken as money', async () => {
    const tts = new PiperTts();
    const stt = new PocketsphinxSpeechToText({ mode: 'dictation', poolSize: 1 });
    const warm = await tts.synthesize(PROMPTS.anythingElse); // a fresh decoder starts cold
    await stt.transcribe({ samples: mulawToPcm(warm.mulaw), sampleRate: 8000 });
    // The model samples its noise afresh on each run, and dictation now and then drops a
    // word of one rendering ("forty dollars", once in a fresh-clone run; 20 of 20 heard right
    // here): the line is said up to three times and one of them must be heard.
    const heard: string[] = [];
    for (let i = 0; i < 3 && !heard.some((t) => /forty two dollars/.test(t)); i++) {
      const audio = await tts.synthesize('Your balance is $42.50.');
      const { text } = await stt.transcribe({ samples: mulawToPcm(audio.mulaw), sampleRate: 8000 }); // prettier-ignore
      heard.push(text.toLowerCase());
    }
    assert.match(heard.at(-1)!, /forty two dollars/, `heard ${JSON.stringify(heard)}`);
  });

  it('streams a clause at a time, the clauses together being the whole line', async () => {
    const tts = new PiperTts();
    const text = 'Hello, your balance is $42.17; is there anything else?';
    assert.deepEqual(
      splitClauses(text).map((c) => c.text),
      ['hello', 'your balance is forty two dollars and seventeen cents', 'is there anything else'],
    );
    const parts: Buffer[] = [];
    for await (const clause of tts.clauses(text)) parts.push(clause);
    assert.equal(parts.length, 3);
    for (const part of parts) assert.ok(rms(part) > 500, 'each clause is speech');
    // The model samples its noise afresh on each run: the same line, not the same samples.
    const whole = (await tts.synthesize(text)).mulaw.length;
    const streamed = Buffer.concat(parts).length;
    assert.ok(Math.abs(whole - streamed) < whole * 0.1, `${streamed} vs ${whole} bytes`);
  });

  it('fails cleanly when espeak-ng or the model is missing, and refuses empty text', async () => {
    const noEspeak = new PiperTts({ espeakCommand: '/nonexistent/espeak-ng' });
    assertFailure(
      await rejection(noEspeak.synthesize(PROMPT)),
      FailureType.ProviderUnavailable,
      false,
    );
    const noModel = new PiperTts({ model: '/nonexistent/voice.onnx' });
    assertFailure(
      await rejection(noModel.synthesize(PROMPT)),
      FailureType.ProviderUnavailable,
      false,
    );
    assertFailure(await rejection(new PiperTts().synthesize(' , ')), FailureType.BadInput, true);
  });
});

describe('prerecorded prompts', () => {
  const tts = new PrerecordedTts();

  it('ships every fixed message of the call flow, the unnamed greeting and the apologies', () => {
    const index = JSON.parse(
      readFileSync(path.join(PROMPTS_DIR, 'index.json'), 'utf8'),
    ) as PromptIndex;
    const greeting = step(initialCallState(), { kind: 'identified' }).say!;
    for (const text of [...Object.values(PROMPTS), greeting, APOLOGY, UNSAYABLE_APOLOGY]) {
      assert.ok(tts.has(text), `no prompt for "${text}" (run npx tsx scripts/build-prompts.ts)`);
      const file = index.prompts[text]!;
      assert.ok(statSync(path.join(PROMPTS_DIR, file)).size > 8000, `${file} holds audio`);
    }
    assert.equal(index.voice, new LocalTts().voice, 'voiced by the default local engine');
  });

  it('matches exact text up to case and whitespace only', async () => {
    const exact = await tts.synthesize(PROMPTS.goodbye);
    const loose = await tts.synthesize(`  thank you   for calling.\nGOODBYE. `);
    assert.deepEqual(loose.mulaw, exact.mulaw);
    for (const other of ['Thank you for calling, goodbye.', 'Thank you for calling.']) {
      assertFailure(await rejection(tts.synthesize(other)), FailureType.NotFound, true);
    }
  });
});
