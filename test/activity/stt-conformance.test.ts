// One conformance suite for the SpeechToText port, run by every adapter: pocketsphinx on
// real synthesized phone audio, Deepgram against a local server replaying Deepgram's live
// protocol (Deepgram itself cannot be reached from here), and the fallback adapter (over
// pocketsphinx alone, over a failing primary then pocketsphinx, and over a primary passed
// over with pocketsphinx streaming live), Moonshine on the same audio and the fallback over a
// failing primary then Moonshine, the two local engines routed by the question, and open
// speech heard by both with the intent model choosing, and Whisper, which rereads what both
// left unclear. Then each adapter's own checks.
//
// Decided for every adapter (the suite holds them to it): finish() is idempotent — a second
// call returns the same result; writes after finish() or abort() are dropped; finish()
// after abort() rejects; a stream with no audio finishes with empty text.
import assert from 'node:assert/strict';
import os from 'node:os';
import { ProviderError, type ProviderErrorKind } from '../../providers/provider-error';
import type { PcmAudio, SpeechToText, SttStream, Transcript } from '../../providers/stt/port';
import { DeepgramSpeechToText } from '../../providers/stt/deepgram';
import { FakeSpeechToText } from '../../providers/stt/fake';
import { FallbackSpeechToText } from '../../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { MoonshineSpeechToText, type MoonshineOptions } from '../../providers/stt/moonshine';
import { QuestionRoutedSpeechToText } from '../../providers/stt/question-routed';
import { SecondOpinionSpeechToText } from '../../providers/stt/second-opinion';
import {
  ENGINE_NICENESS,
  EngineProcessSpeechToText,
  type EngineName,
} from '../../providers/stt/engine-process';
import { WhisperSpeechToText } from '../../providers/stt/whisper';
import { createEmbeddingIntentClassifier } from '../../providers/intent/embedding';
import { redactText } from '../../conversation/safety/redact';
import { ensureMoonshine, ensureWhisper } from '../../infra/install';
import { silentLog } from '../../infra/paths';
import { localSpeechToText, speechToTextFromEnv } from '../../media-edge/edge-runtime';
import { BACKCHANNELS } from '../../media-edge/call/false-interruption';
import { buildJsgf, normalizeWords } from '../../providers/stt/pocketsphinx/grammar';
import { HINTS, phoneLine } from '../../testing/asr-corpus';
import { expectedPhrases } from '../../workflows/call-state';
import { rms } from '../../audio/level';
import { mulawToPcm, pcmToMulaw } from '../../audio/mulaw';
import { DeepgramReplayServer, loadFixture } from '../../testing/deepgram-replay';
import { concatPcm, silence, speak } from '../../testing/speech-audio';
import { rejection } from '../helpers/rejection';

interface SttUnderTest {
  stt: SpeechToText;
  /** Sessions the adapter holds (decoders in use, sockets open). */
  inUse(): number;
  utterance: { audio: PcmAudio; hints?: string[]; expected: string };
  /** Who serves the utterance (a fallback's serving provider); the adapter's name by default. */
  provider?: string;
  /** Frees what the setup loaded, after the suite. */
  dispose?: () => void;
}

const norm = (s: string) => normalizeWords(s).join(' ');

/** Writes the audio in 20 ms frames, yielding between frames like the edge's socket does. */
async function stream(s: SttStream, audio: PcmAudio): Promise<void> {
  const frame = audio.sampleRate / 50;
  for (let i = 0; i < audio.samples.length; i += frame) {
    s.write(audio.samples.subarray(i, i + frame));
    if ((i / frame) % 10 === 9) await new Promise((r) => setImmediate(r));
  }
}

/** The adapter's one error: a ProviderError of this kind and retryability (and status). */
const kindIs = (kind: ProviderErrorKind, retryable: boolean, status?: number) => (e: unknown) => {
  assert.ok(e instanceof ProviderError, String(e));
  assert.equal(e.kind, kind, e.message);
  assert.equal(e.retryable, retryable, `${kind} retryable`);
  if (status !== undefined) assert.equal(e.status, status);
  return true;
};

async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sttConformance(name: string, setup: () => Promise<SttUnderTest>): void {
  describe(`SpeechToText conformance: ${name}`, function () {
    let t: SttUnderTest;
    before(async () => {
      t = await setup();
    });
    after(() => t?.dispose?.());

    it('streams a known utterance to its text, with a confidence and the provider name', async () => {
      const { audio, hints, expected } = t.utterance;
      const s = await t.stt.open({ sampleRate: audio.sampleRate, hints });
      await stream(s, audio);
      const r = await s.finish();
      assert.equal(norm(r.text), norm(expected));
      assert.ok(r.confidence >= 0 && r.confidence <= 1, `confidence ${r.confidence}`);
      assert.ok(r.confidence > 0, 'a recognised utterance has some confidence');
      assert.equal(r.provider, t.provider ?? t.stt.name);
      await eventually(() => t.inUse() === 0);
    });

    it('transcribes a whole recording the same way', async () => {
      const { audio, hints, expected } = t.utterance;
      const r = await t.stt.transcribe(audio, { hints });
      assert.equal(norm(r.text), norm(expected));
      assert.equal(r.provider, t.provider ?? t.stt.name);
    });

    it('finish() twice returns the same result; later writes are dropped', async () => {
      const { audio, hints } = t.utterance;
      const s = await t.stt.open({ sampleRate: audio.sampleRate, hints });
      await stream(s, audio);
      const first = s.finish();
      const second = s.finish();
      s.write(audio.samples); // after finish: ignored, no throw
      const [a, b] = await Promise.all([first, second]);
      assert.deepEqual(a, b);
      assert.deepEqual(await s.finish(), a);
    });

    it('abort() releases the session; finish() after it rejects', async () => {
      const { audio, hints } = t.utterance;
      const s = await t.stt.open({ sampleRate: audio.sampleRate, hints });
      assert.equal(t.inUse(), 1);
      s.write(audio.samples.subarray(0, audio.samples.length >> 1));
      s.abort();
      s.abort(); // twice is harmless
      s.write(audio.samples); // dropped
      await eventually(() => t.inUse() === 0);
      await assert.rejects(s.finish());
      // The adapter is still usable afterwards.
      const r = await t.stt.transcribe(audio, { hints });
      assert.equal(norm(r.text), norm(t.utterance.expected));
    });

    it('an AbortSignal aborts the stream too', async () => {
      const { audio, hints } = t.utterance;
      const ac = new AbortController();
      const s = await t.stt.open({ sampleRate: audio.sampleRate, hints, signal: ac.signal });
      s.write(audio.samples.subarray(0, 1600));
      ac.abort();
      await eventually(() => t.inUse() === 0);
      await assert.rejects(s.finish());
    });

    it('a stream with no audio gives empty text, not a crash', async () => {
      const s = await t.stt.open({
        sampleRate: t.utterance.audio.sampleRate,
        hints: t.utterance.hints,
      });
      const r = await s.finish();
      assert.equal(r.text, '');
      assert.ok(r.confidence >= 0 && r.confidence <= 1);
      assert.equal(r.provider, t.provider ?? t.stt.name);
      await eventually(() => t.inUse() === 0);
    });
  });
}

// --- pocketsphinx: the real engine on real (synthesized, phone-line) audio ---------------

let sphinx: PocketsphinxSpeechToText;
const balanceAudio = async () =>
  phoneLine(await speak('what is my balance', { engine: 'flite', voice: 'slt' }));

sttConformance('pocketsphinx (grammar from hints)', async () => {
  sphinx = new PocketsphinxSpeechToText({ poolSize: 1 });
  return {
    stt: sphinx,
    inUse: () => sphinx.poolStats.busy,
    utterance: { audio: await balanceAudio(), hints: HINTS.open, expected: 'what is my balance' },
  };
});

describe('pocketsphinx adapter', function () {
  let audio: PcmAudio;
  before(async () => {
    audio = await balanceAudio();
  });
  after(() => sphinx?.dispose());

  it('builds the hint grammar as a loop of phrases and words', () => {
    const g = buildJsgf([['pay', 'my', 'bill'], ['yes']], ['um']);
    assert.match(g, /^#JSGF V1\.0;/);
    assert.match(g, /public <utt> = \(pay my bill \| yes \| um\)\+;/);
    assert.throws(() => buildJsgf([], []), RangeError);
  });

  it('answers off-list speech with words, and yes/no in the confirm state', async () => {
    const yes = phoneLine(await speak('yes please', { engine: 'flite', voice: 'slt' }));
    const r = await sphinx.transcribe(yes, { hints: HINTS.confirm });
    assert.equal(norm(r.text), 'yes please');
    const no = phoneLine(await speak('no thanks', { engine: 'flite', voice: 'slt' }));
    assert.equal(norm((await sphinx.transcribe(no, { hints: HINTS.confirm })).text), 'no thanks');
  });

  it('ignores hint phrases with words outside its dictionary', async () => {
    const r = await sphinx.transcribe(audio, { hints: [...HINTS.open, 'zzyzx qwxpt'] });
    assert.equal(norm(r.text), 'what is my balance');
  });

  it('takes 16 kHz audio as is and refuses other rates', async () => {
    const wide = await speak('what is my balance', {
      engine: 'flite',
      voice: 'slt',
      sampleRate: 16000,
    });
    assert.equal(
      norm((await sphinx.transcribe(wide, { hints: HINTS.open })).text),
      'what is my balance',
    );
    await assert.rejects(sphinx.open({ sampleRate: 44100 }), kindIs('bad_input', false));
  });

  it('dictation mode (no hints) and keyword mode run on the same engine', async () => {
    const dict = new PocketsphinxSpeechToText({ poolSize: 1, mode: 'dictation' });
    const kws = new PocketsphinxSpeechToText({ poolSize: 1, mode: 'keyword' });
    try {
      const d = await dict.transcribe(audio);
      assert.ok(d.text.split(' ').length >= 2, `dictation heard "${d.text}"`);
      assert.ok(d.confidence >= 0 && d.confidence <= 1);
      const k = await kws.transcribe(audio, { hints: HINTS.open });
      assert.ok(k.confidence >= 0 && k.confidence <= 1);
    } finally {
      dict.dispose();
      kws.dispose();
    }
  });

  it('an utterance waits for a free decoder, and fails as unavailable when none frees', async () => {
    const one = new PocketsphinxSpeechToText({ poolSize: 1, acquireTimeoutMs: 200 });
    try {
      const held = await one.open({ sampleRate: 8000, hints: HINTS.open });
      const waiting = one.open({ sampleRate: 8000, hints: HINTS.open });
      assert.equal(one.poolStats.waiting, 1);
      held.write(audio.samples);
      await held.finish(); // frees the decoder for the waiting utterance
      const next = await waiting;
      next.write(audio.samples);
      assert.equal(norm((await next.finish()).text), 'what is my balance');
      const blocker = await one.open({ sampleRate: 8000, hints: HINTS.open });
      await assert.rejects(
        one.open({ sampleRate: 8000, hints: HINTS.open }),
        kindIs('unavailable', true),
      );
      blocker.abort();
      await eventually(() => one.poolStats.busy === 0);
    } finally {
      one.dispose();
    }
  });

  it('keeps the event loop free while decoding (the decoder runs off the main thread)', async () => {
    const long = concatPcm(audio.samples, silence(300), audio.samples, silence(300), audio.samples);
    const s = await sphinx.open({ sampleRate: 8000, hints: HINTS.open });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    s.write(long);
    const r = await s.finish();
    clearInterval(timer);
    assert.match(norm(r.text), /what is my balance/);
    assert.ok(ticks > 0, 'timers ran while the utterance was decoded');
  });
});

// --- Deepgram: the SDK against recorded exchanges on a local server -----------------------

let server: DeepgramReplayServer;
let deepgram: DeepgramSpeechToText;

sttConformance('deepgram (recorded live exchanges)', async () => {
  server = await DeepgramReplayServer.start();
  deepgram = new DeepgramSpeechToText({ apiKey: 'dg-test-key', baseUrl: server.url });
  return {
    stt: deepgram,
    inUse: () => server.openConnections,
    utterance: { audio: await balanceAudio(), hints: HINTS.open, expected: 'What is my balance?' },
  };
});

describe('deepgram adapter on the wire', function () {
  let audio: PcmAudio;

  it('health check: GET /v1/projects with the key on the same host; refused is unavailable', async () => {
    await deepgram.check(AbortSignal.timeout(5_000));
    assert.deepEqual(server.restRequests, ['/v1/projects']);
    assert.equal(server.connections.length, 0, 'no live stream for a check');
    const closed = new DeepgramSpeechToText({ apiKey: 'dg-test-key', baseUrl: 'ws://127.0.0.1:1' });
    const err = await rejection(closed.check(AbortSignal.timeout(5_000)));
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.kind, 'unavailable');
  });

  before(async () => {
    audio = await balanceAudio();
  });
  beforeEach(() => server.reset());
  after(() => server.close());

  it('sends the documented query, the API key as a Token header, and the audio as μ-law', async () => {
    const s = await deepgram.open({ sampleRate: 8000, hints: ['pay my bill', 'talk to an agent'] });
    await stream(s, audio);
    await s.finish();
    const [conn] = server.connections;
    assert.ok(conn);
    assert.equal(conn.url.pathname, '/v1/listen');
    for (const [k, v] of Object.entries(loadFixture('what-is-my-balance').expectQuery!)) {
      assert.equal(conn.url.searchParams.get(k), v, k);
    }
    assert.deepEqual(conn.url.searchParams.getAll('keyterm'), ['pay my bill', 'talk to an agent']);
    assert.equal(conn.headers.authorization, 'Token dg-test-key');
    const sent = Buffer.concat(conn.audio);
    assert.deepEqual(sent, pcmToMulaw(audio.samples));
    // The phone line's PCM came from μ-law, so what Deepgram gets decodes to it exactly.
    assert.deepEqual(mulawToPcm(sent), audio.samples);
    await eventually(() => conn.controls.includes('CloseStream'));
    assert.deepEqual(conn.controls, ['Finalize', 'CloseStream']);
  });

  it('sends linear16 when asked, as little-endian PCM', async () => {
    const pcm = new DeepgramSpeechToText({
      apiKey: 'k',
      baseUrl: server.url,
      encoding: 'linear16',
    });
    await pcm.transcribe(audio);
    const [conn] = server.connections;
    assert.equal(conn!.url.searchParams.get('encoding'), 'linear16');
    const sent = Buffer.concat(conn!.audio);
    assert.deepEqual(new Int16Array(sent.buffer, sent.byteOffset, sent.length / 2), audio.samples);
  });

  it('reports interim results as partials and joins final segments', async () => {
    server.use({ speech: 'pay-my-bill-two-segments', silence: 'no-speech' });
    const s = await deepgram.open({ sampleRate: 8000 });
    const partials: string[] = [];
    s.onPartial = (p) => partials.push(p);
    for (let i = 0; i < audio.samples.length; i += 160) {
      s.write(audio.samples.subarray(i, i + 160));
      await new Promise((r) => setTimeout(r, 1));
    }
    await eventually(() => partials.length > 0);
    assert.deepEqual(partials, ['I want to pay my']);
    const r = await s.finish();
    assert.equal(r.text, 'I want to pay my bill.');
    // Duration-weighted: (0.94 × 0.62 + 0.88 × 0.9) / 1.52
    assert.ok(Math.abs(r.confidence - (0.94 * 0.62 + 0.88 * 0.9) / 1.52) < 1e-9);
  });

  it('maps a refused handshake: 401 → bad_input (final), 429 → rate_limited, 503 → unavailable', async () => {
    server.enqueue('unauthorized', 'rate-limited', 'service-unavailable');
    await assert.rejects(deepgram.open({ sampleRate: 8000 }), kindIs('bad_input', false, 401));
    await assert.rejects(deepgram.open({ sampleRate: 8000 }), kindIs('rate_limited', true, 429));
    await assert.rejects(deepgram.open({ sampleRate: 8000 }), kindIs('unavailable', true, 503));
  });

  it('a server close mid-stream fails the utterance as unavailable', async () => {
    server.enqueue('server-error');
    const s = await deepgram.open({ sampleRate: 8000 });
    await stream(s, audio);
    await assert.rejects(s.finish(), (e: ProviderError) => {
      assert.ok(kindIs('unavailable', true)(e));
      assert.match(e.message, /1011/);
      return true;
    });
  });

  it('gives up when Finalize is never answered', async () => {
    server.enqueue('no-answer');
    const quick = new DeepgramSpeechToText({
      apiKey: 'k',
      baseUrl: server.url,
      finalizeTimeoutMs: 200,
    });
    const s = await quick.open({ sampleRate: 8000 });
    s.write(audio.samples);
    await assert.rejects(s.finish(), kindIs('timeout', true));
    await eventually(() => server.openConnections === 0);
  });

  it('fails fast without an API key, and when nothing listens', async () => {
    const saved = process.env.DEEPGRAM_API_KEY;
    delete process.env.DEEPGRAM_API_KEY;
    try {
      await assert.rejects(
        new DeepgramSpeechToText().open({ sampleRate: 8000 }),
        kindIs('bad_input', false),
      );
    } finally {
      if (saved !== undefined) process.env.DEEPGRAM_API_KEY = saved;
    }
    const nowhere = new DeepgramSpeechToText({ apiKey: 'k', baseUrl: 'ws://127.0.0.1:9' });
    await assert.rejects(nowhere.open({ sampleRate: 8000 }), kindIs('unavailable', true));
  });
});

// --- the fallback adapter: the same suite, the real engine serving -----------------------

sttConformance('fallback over pocketsphinx', async () => {
  const local = new PocketsphinxSpeechToText({ poolSize: 1 });
  return {
    stt: new FallbackSpeechToText(local, undefined),
    inUse: () => local.poolStats.busy,
    utterance: { audio: await balanceAudio(), hints: HINTS.open, expected: 'what is my balance' },
    provider: 'pocketsphinx',
    dispose: () => local.dispose(),
  };
});

sttConformance('fallback over [failing primary, pocketsphinx]', async () => {
  // The primary takes the live stream and fails every utterance at its end (retryable):
  // each one is replayed to it twice more, then served by pocketsphinx.
  const failing = new FakeSpeechToText({ name: 'failing', fail: { kind: 'unavailable' } });
  const local = new PocketsphinxSpeechToText({ poolSize: 1 });
  return {
    stt: new FallbackSpeechToText(failing, local, { backoffMs: [10] }),
    inUse: () => failing.openStreams + local.poolStats.busy,
    utterance: { audio: await balanceAudio(), hints: HINTS.open, expected: 'what is my balance' },
    provider: 'pocketsphinx',
    dispose: () => local.dispose(),
  };
});

sttConformance('fallback over [passed-over primary, pocketsphinx live]', async () => {
  // The gate passes the primary over (its breaker open): pocketsphinx takes the live stream.
  const skipped = new FakeSpeechToText({ name: 'skipped', transcripts: ['never asked'] });
  const local = new PocketsphinxSpeechToText({ poolSize: 1 });
  const gate = { skipReason: (p: string) => (p === 'skipped' ? 'circuit open' : undefined) };
  return {
    stt: new FallbackSpeechToText(skipped, local, { gate }),
    inUse: () => skipped.openStreams + local.poolStats.busy,
    utterance: { audio: await balanceAudio(), hints: HINTS.open, expected: 'what is my balance' },
    provider: 'pocketsphinx',
    dispose: () => local.dispose(),
  };
});

// --- A local engine in a process of its own (as the edge runs them) ----------------------

sttConformance('pocketsphinx in its own process', async () => {
  const own = new EngineProcessSpeechToText('pocketsphinx', { poolSize: 1 });
  return {
    stt: own,
    inUse: () => own.stats.streams,
    utterance: { audio: await balanceAudio(), hints: HINTS.open, expected: 'what is my balance' },
    dispose: () => own.dispose(),
  };
});

describe('a recognizer in its own process', function () {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const heard = (r: Transcript) => [r.provider, norm(r.text)];
  let audio: PcmAudio;
  before(async () => {
    audio = await balanceAudio();
  });

  /** Kills the engine's process as a native fault would, and waits for a new one. */
  async function fault(stt: EngineProcessSpeechToText, signal: NodeJS.Signals): Promise<void> {
    const pid = stt.pid!;
    process.kill(pid, signal);
    await eventually(() => stt.pid !== undefined && stt.pid !== pid, 10_000);
  }

  it('a fault in the engine fails the utterances it held as unavailable; a new process serves the next', async () => {
    const stt = new EngineProcessSpeechToText('pocketsphinx', { poolSize: 1, log });
    await stt.ready();
    assert.notEqual(stt.pid, process.pid);
    const s = await stt.open({ sampleRate: 8000, hints: HINTS.open });
    s.write(audio.samples.subarray(0, audio.samples.length >> 1));
    await fault(stt, 'SIGABRT');
    await assert.rejects(s.finish(), (e: ProviderError) => {
      assert.ok(kindIs('unavailable', true)(e));
      assert.match(e.message, /pocketsphinx process ended \(SIGABRT\)/);
      return true;
    });
    assert.deepEqual(stt.stats, { streams: 0, restarts: 1 });
    assert.match(
      lines.join('\n'),
      /1 request\(s\) in flight failed as unavailable; a new process in 0 s/,
    );
    assert.deepEqual(heard(await stt.transcribe(audio, { hints: HINTS.open })), [
      'pocketsphinx',
      'what is my balance',
    ]);
    stt.dispose();
  });

  it("the fallback chain replays an utterance whose engine died to the engine's new process", async () => {
    const own = new EngineProcessSpeechToText('pocketsphinx', { poolSize: 1, log });
    const stt = new FallbackSpeechToText(own, undefined, { backoffMs: [200, 400] });
    await own.ready();
    const s = stt.start({ sampleRate: 8000, hints: HINTS.open });
    await stream(s, audio);
    await eventually(() => own.stats.streams === 1);
    process.kill(own.pid!, 'SIGSEGV');
    const r = await s.finish();
    assert.deepEqual(heard(r), ['pocketsphinx', 'what is my balance']);
    assert.deepEqual(
      r.attempts?.map((a) => [a.ok, a.kind ?? null, a.replay ?? false]),
      [
        [false, 'unavailable', false],
        [true, null, true],
      ],
    );
    stt.dispose();
  });

  it('an engine that keeps failing is restarted after a growing pause, and says so meanwhile', async () => {
    const stt = new EngineProcessSpeechToText('pocketsphinx', {
      poolSize: 1,
      log,
      restartDelaysMs: [0, 1_500],
    });
    await stt.ready();
    await fault(stt, 'SIGKILL');
    await stt.ready();
    process.kill(stt.pid!, 'SIGKILL');
    await eventually(() => stt.pid === undefined);
    await assert.rejects(stt.open({ sampleRate: 8000 }), (e: ProviderError) => {
      assert.ok(kindIs('unavailable', true)(e));
      assert.match(e.message, /restarting after its process ended: .*SIGKILL/);
      return true;
    });
    await eventually(() => stt.pid !== undefined, 5_000);
    assert.equal(stt.stats.restarts, 2);
    assert.deepEqual(heard(await stt.transcribe(audio, { hints: HINTS.open })), [
      'pocketsphinx',
      'what is my balance',
    ]);
    stt.dispose();
  });

  it('a whole-utterance engine runs below the edge, after a restart too; the grammar beside it', async () => {
    const burst = new EngineProcessSpeechToText('moonshine', { poolSize: 1, log });
    const grammar = new EngineProcessSpeechToText('pocketsphinx', { poolSize: 1, log });
    const batch = new EngineProcessSpeechToText('pocketsphinx', { poolSize: 1, log, niceness: 3 });
    try {
      await Promise.all([burst.ready(), grammar.ready(), batch.ready()]);
      const edge = os.getPriority();
      assert.equal(os.getPriority(burst.pid), Math.min(19, edge + ENGINE_NICENESS.moonshine));
      assert.ok(ENGINE_NICENESS.moonshine > 0 && ENGINE_NICENESS.whisper > 0);
      assert.equal(os.getPriority(grammar.pid), edge);
      assert.equal(os.getPriority(batch.pid), Math.min(19, edge + 3));
      await fault(burst, 'SIGKILL');
      assert.equal(os.getPriority(burst.pid), Math.min(19, edge + ENGINE_NICENESS.moonshine));
    } finally {
      for (const stt of [burst, grammar, batch]) stt.dispose();
    }
  });

  it('counts the readings asked of it and not yet answered (whether another would wait)', async () => {
    const stt = new EngineProcessSpeechToText('pocketsphinx', { poolSize: 3, log });
    try {
      await stt.ready();
      const streams = await Promise.all([1, 2].map(() => stt.open({ sampleRate: 8000 })));
      for (const s of streams) s.write(audio.samples);
      assert.equal(stt.readingsAwaited, 0); // written, not yet asked for
      const readings = [...streams.map((s) => s.finish()), stt.transcribe(audio)];
      void streams[0]!.finish(); // asked twice, counted once
      assert.equal(stt.readingsAwaited, 3);
      await Promise.all(readings);
      assert.equal(stt.readingsAwaited, 0);
      const lost = await stt.open({ sampleRate: 8000 });
      lost.write(audio.samples);
      const held = lost.finish();
      process.kill(stt.pid!, 'SIGKILL');
      await assert.rejects(held);
      assert.equal(stt.readingsAwaited, 0);
    } finally {
      stt.dispose();
    }
  });

  it('an engine that cannot load says why before any call reaches it', async () => {
    const stt = new EngineProcessSpeechToText('kaldi' as EngineName, { log });
    await assert.rejects(stt.ready(), (e: ProviderError) => {
      assert.ok(kindIs('bad_input', false)(e));
      assert.match(e.message, /no local engine kaldi/);
      return true;
    });
    await assert.rejects(stt.transcribe(audio), /no local engine kaldi|restarting/);
    stt.dispose();
  });
});

// --- Moonshine: the real engine on the same phone-line audio ------------------------------

let moonshine: MoonshineSpeechToText;
/** Moonshine with one transcriber, the test's own. */
const ownMoonshine = async (opts: MoonshineOptions = {}) =>
  new MoonshineSpeechToText({ dir: await ensureMoonshine(silentLog), poolSize: 1, ...opts });
// A flite voice it hears right ("slt" gives "what is my talent": it has no hints to lean on).
const moonshineBalance = async () =>
  phoneLine(await speak('what is my balance', { engine: 'flite', voice: 'rms' }));

sttConformance('moonshine (tiny-en, no hints)', async () => {
  moonshine = await ownMoonshine();
  return {
    stt: moonshine,
    inUse: () => moonshine.stats.streams,
    utterance: { audio: await moonshineBalance(), expected: 'what is my balance' },
  };
});

describe('moonshine adapter', function () {
  let audio: PcmAudio;
  before(async () => {
    audio = await moonshineBalance();
  });
  after(() => moonshine?.dispose());

  const spelledRun = (text: string) => /^my card number (?:is )?fou?r(?: one){14,}$/.test(text); // "four", once heard "for"

  it('spells out the numbers it writes as digits, and keeps every digit of a long run', async () => {
    const said = phoneLine(
      await speak(
        'my card number is four one one one one one one one one one one one one one one one',
        {
          engine: 'flite',
          voice: 'slt',
        },
      ),
    );
    // Heard up to three times: on a loaded machine one reading in about ten runs came out otherwise.
    const texts: string[] = [];
    for (let i = 0; i < 3 && !texts.some(spelledRun); i++)
      texts.push((await moonshine.transcribe(said)).text);
    const text = texts.find(spelledRun);
    // It writes a digit run, often with more digits than were said (29 for these 16).
    assert.ok(text !== undefined, `no reading spelled the whole run: ${JSON.stringify(texts)}`);
    assert.doesNotMatch(text, /\d/, text);
    assert.match(redactText(text), /^my card number (?:is )?(?:for )?\[card\]$/);
  });

  it('serves utterances that end together one at a time on a transcriber, each its own text', async () => {
    const yes = phoneLine(await speak('yes please', { engine: 'flite', voice: 'slt' }));
    const one = await ownMoonshine();
    try {
      const inputs = [audio, yes, audio, yes];
      const streams = await Promise.all(inputs.map(() => one.open({ sampleRate: 8000 })));
      streams.forEach((s, i) => s.write(inputs[i]!.samples));
      const texts = (await Promise.all(streams.map((s) => s.finish()))).map((r) => norm(r.text));
      assert.deepEqual(texts, [
        'what is my balance',
        'yes please',
        'what is my balance',
        'yes please',
      ]);
      assert.equal(one.stats.loaded, 1);
    } finally {
      one.dispose();
    }
  });

  it('fails as unavailable when no transcriber frees in time, and as aborted when cut off', async () => {
    const one = await ownMoonshine({ acquireTimeoutMs: 1 });
    try {
      one.warm();
      const long = concatPcm(...Array.from({ length: 8 }, () => audio.samples));
      const busy = await one.open({ sampleRate: 8000 });
      busy.write(long);
      const first = busy.finish();
      const late = await one.open({ sampleRate: 8000 });
      late.write(audio.samples);
      await assert.rejects(late.finish(), kindIs('unavailable', true));
      await first;
      const cut = await one.open({ sampleRate: 8000 });
      cut.write(long);
      const pending = cut.finish();
      cut.abort();
      await assert.rejects(pending, kindIs('aborted', false));
      // The native call runs to its end, then its transcriber is free again.
      await eventually(() => one.stats.busy === 0, 60_000);
      assert.equal(norm((await one.transcribe(audio)).text), 'what is my balance');
    } finally {
      one.dispose();
    }
  });

  describe('transcribing at the pause', () => {
    /** Audio written as the line delivers it: 20 ms frames. */
    const writeFrames = (s: SttStream, pcm: Int16Array) => {
      for (let at = 0; at < pcm.length; at += 160) s.write(pcm.subarray(at, at + 160));
    };
    /** Speech up to its last loud frame: the synthesizer's own quiet tail is left out. */
    const spoken = (pcm: Int16Array) => {
      let end = 0;
      for (let at = 0; at < pcm.length; at += 160) {
        const f = pcm.subarray(at, at + 160);
        if (rms(f) > 200) end = at + f.length;
      }
      return pcm.subarray(0, end);
    };
    let said: Int16Array;
    let yes: Int16Array;
    let one: MoonshineSpeechToText;
    before(async () => {
      said = spoken(audio.samples);
      yes = spoken(phoneLine(await speak('yes please', { engine: 'flite', voice: 'slt' })).samples);
      one = await ownMoonshine();
      one.warm();
    });
    after(() => one.dispose());

    it('a quiet tail after speech starts the transcript; finish() returns it', async () => {
      const s = await one.open({ sampleRate: 8000 });
      writeFrames(s, said);
      assert.equal(one.stats.speculations.started, 0, 'not while the caller speaks');
      writeFrames(s, silence(100));
      assert.equal(one.stats.speculations.started, 0, 'not at the first quiet frames');
      writeFrames(s, silence(300));
      assert.equal(one.stats.speculations.started, 1);
      await eventually(() => one.stats.busy === 0, 30_000);
      const result = await s.finish();
      assert.equal(norm(result.text), 'what is my balance');
      assert.deepEqual(one.stats.speculations, { started: 1, used: 1 });
      assert.equal(one.stats.busy, 0, 'finish() transcribed nothing more');
    });

    it('speech after the pause makes it stale: the whole utterance is heard', async () => {
      const before = one.stats.speculations;
      const s = await one.open({ sampleRate: 8000 });
      writeFrames(s, concatPcm(said, silence(300)));
      assert.equal(one.stats.speculations.started, before.started + 1);
      // A quiet tail shorter than the wait for the next early transcript.
      writeFrames(s, concatPcm(yes, silence(100)));
      const result = await s.finish();
      assert.equal(norm(result.text), 'what is my balance yes please');
      assert.equal(one.stats.speculations.used, before.used, 'the early transcript was not used');
    });

    it('off with speculateAfterMs 0', async () => {
      const off = await ownMoonshine({ speculateAfterMs: 0 });
      try {
        const s = await off.open({ sampleRate: 8000 });
        writeFrames(s, concatPcm(audio.samples, silence(600)));
        assert.equal(norm((await s.finish()).text), 'what is my balance');
        assert.deepEqual(off.stats.speculations, { started: 0, used: 0 });
      } finally {
        off.dispose();
      }
    });
  });

  it('refuses other sample rates, and says so when it is not installed', async () => {
    await assert.rejects(moonshine.open({ sampleRate: 44100 }), kindIs('bad_input', false));
    const missing = new MoonshineSpeechToText({ dir: '/nonexistent/moonshine' });
    await assert.rejects(missing.transcribe(audio), (e: ProviderError) => {
      assert.ok(kindIs('unavailable', true)(e));
      assert.match(e.message, /not installed/);
      return true;
    });
  });

  it("is the edge's local recognizer with LOCAL_STT=moonshine; pocketsphinx stays the default", async () => {
    const edge = await speechToTextFromEnv({ LOCAL_STT: 'moonshine' });
    assert.equal((await edge.transcribe(audio)).provider, 'moonshine');
    const byDefault = await speechToTextFromEnv({});
    const r = await byDefault.transcribe(audio, { hints: HINTS.open });
    assert.equal(r.provider, 'pocketsphinx');
    // Each in a process of its own, already loaded.
    for (const local of [edge.primary, byDefault.primary]) {
      assert.ok(local instanceof EngineProcessSpeechToText);
      assert.ok(local.pid && local.pid !== process.pid);
    }
    await assert.rejects(speechToTextFromEnv({ LOCAL_STT: 'kaldi' }), /LOCAL_STT/);
    edge.dispose();
    byDefault.dispose();
  });

  it('keeps the event loop free while transcribing (the model runs off the main thread)', async () => {
    const long = concatPcm(audio.samples, silence(300), audio.samples, silence(300), audio.samples);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const r = await moonshine.transcribe({ samples: long, sampleRate: 8000 });
    clearInterval(timer);
    assert.match(norm(r.text), /what is my balance/);
    assert.ok(ticks > 0, 'timers ran while the utterance was transcribed');
  });
});

sttConformance('fallback over [failing primary, moonshine]', async () => {
  const failing = new FakeSpeechToText({ name: 'failing', fail: { kind: 'unavailable' } });
  const local = await ownMoonshine();
  return {
    stt: new FallbackSpeechToText(failing, local, { backoffMs: [10] }),
    inUse: () => failing.openStreams + local.stats.streams,
    utterance: { audio: await moonshineBalance(), expected: 'what is my balance' },
    provider: 'moonshine',
    dispose: () => local.dispose(),
  };
});

// --- Two local engines routed by the question: Moonshine for open speech ------------------

let routed: QuestionRoutedSpeechToText;
sttConformance('question-routed (open speech: moonshine)', async () => {
  routed = new QuestionRoutedSpeechToText(
    new PocketsphinxSpeechToText({ poolSize: 1 }),
    await ownMoonshine(),
  );
  const open = routed.forOpen as MoonshineSpeechToText;
  return {
    stt: routed,
    inUse: () => open.stats.streams,
    utterance: { audio: await moonshineBalance(), expected: 'what is my balance' },
    provider: 'moonshine',
  };
});

describe('question-routed recognizer', function () {
  after(() => routed?.dispose());

  it('hears the answer to a yes/no question with the grammar, and anything else openly', async () => {
    const yes = phoneLine(await speak('yes please', { engine: 'flite', voice: 'slt' }));
    const closed = await routed.transcribe(yes, { hints: HINTS.confirm, closedQuestion: true });
    assert.deepEqual([closed.provider, norm(closed.text)], ['pocketsphinx', 'yes please']);
    const open = await routed.transcribe(yes, { hints: HINTS.confirm });
    assert.equal(open.provider, 'moonshine');
    const s = await routed.open({ sampleRate: 8000, hints: HINTS.confirm, closedQuestion: true });
    await stream(s, yes);
    assert.equal((await s.finish()).provider, 'pocketsphinx');
  });

  it("is the edge's local recognizer with LOCAL_STT=auto: the question reaches it through the fallback", async () => {
    // Moonshine is waited for however busy the machine: its reading is what is asserted.
    const edge = await speechToTextFromEnv({ LOCAL_STT: 'auto', LOCAL_STT_OPEN_WAIT_MS: '30000' }); // prettier-ignore
    const yes = phoneLine(await speak('yes please', { engine: 'flite', voice: 'slt' }));
    const closed = await edge.transcribe(yes, { hints: HINTS.confirm, closedQuestion: true });
    const open = await edge.transcribe(yes, { hints: HINTS.confirm });
    assert.deepEqual([closed.provider, open.provider], ['pocketsphinx', 'moonshine']);
    // Begun over the agent: the grammar alone, its hints holding the listening words.
    const uhHuh = phoneLine(await speak('uh-huh', { engine: 'flite', voice: 'awb' }));
    const over = await edge.transcribe(uhHuh, {
      hints: [...HINTS.open, ...BACKCHANNELS],
      overAgent: true,
    });
    assert.equal(over.provider, 'pocketsphinx');
    edge.dispose();
  });
});

describe('LOCAL_STT=auto with Moonshine busy', function () {
  it("takes the grammar's clear reading of a request while Moonshine reads other callers'", async () => {
    // No deadline here: only Moonshine's being busy decides (the deadline's rule: with fakes).
    const edge = localSpeechToText('auto', undefined, { recheck: false, openWaitMs: 30_000 });
    try {
      await edge.ready();
      const say = async (text: string) => phoneLine(await speak(text, { engine: 'flite', voice: 'awb' })); // prettier-ignore
      const balance = await say("what's my balance");
      const long = await say(
        'I was wondering whether you could tell me about the different ways I can pay my bill every month',
      );
      const free = await edge.transcribe(balance, { hints: HINTS.open });
      const balanceRead = /^what('s| is)? my balance$/;
      assert.equal(free.provider, 'moonshine');
      assert.match(norm(free.text), balanceRead);
      // Two callers' long requests take both of Moonshine's readers.
      const others = [edge.transcribe(long, { hints: HINTS.open }), edge.transcribe(long, { hints: HINTS.open })]; // prettier-ignore
      const busy = await edge.transcribe(balance, { hints: HINTS.open });
      assert.equal(busy.provider, 'pocketsphinx');
      assert.match(norm(busy.text), balanceRead);
      // A request the grammar cannot hear clearly still waits for Moonshine.
      const unclear = edge.transcribe(long, { hints: HINTS.open });
      assert.deepEqual((await Promise.all([...others, unclear])).map((r) => r.provider), ['moonshine', 'moonshine', 'moonshine']); // prettier-ignore
      // More callers speaking at once than its readers can read in time: the grammar again.
      const speaking = await Promise.all([1, 2, 3, 4, 5].map(() => edge.open({ sampleRate: 8000, hints: HINTS.open }))); // prettier-ignore
      await stream(speaking[0]!, balance);
      const crowded = await speaking[0]!.finish();
      for (const s of speaking) s.abort();
      assert.equal(crowded.provider, 'pocketsphinx');
      const alone = await edge.open({ sampleRate: 8000, hints: HINTS.open });
      await stream(alone, balance);
      assert.equal((await alone.finish()).provider, 'moonshine');
    } finally {
      edge.dispose();
    }
  });
});

// --- Open speech heard by both local engines, the intent model choosing -------------------

let pair: SecondOpinionSpeechToText;
sttConformance('second opinion (moonshine, then the grammar)', async () => {
  const intent = createEmbeddingIntentClassifier();
  pair = new SecondOpinionSpeechToText(
    await ownMoonshine(),
    new PocketsphinxSpeechToText({ poolSize: 1 }),
    (text) => intent.classify(text),
  );
  const [open, grammar] = [
    pair.main as MoonshineSpeechToText,
    pair.second as PocketsphinxSpeechToText,
  ];
  return {
    stt: pair,
    // Each engine holds one session per utterance: both are taken and both given back.
    inUse: () => Math.max(open.stats.streams, grammar.poolStats.busy),
    utterance: {
      audio: await moonshineBalance(),
      hints: HINTS.open,
      expected: 'what is my balance',
    },
    provider: 'moonshine',
  };
});

describe('second opinion on real audio', function () {
  after(() => pair?.dispose());

  it('a phrase Moonshine mishears in one voice is taken from the grammar, a free one from Moonshine', async () => {
    // flite awb's "pay my bill" is "be my deal" to Moonshine every time: no request; the
    // grammar, primed with the phrase, hears it.
    const bill = phoneLine(await speak('pay my bill', { engine: 'flite', voice: 'awb' }));
    const r = await pair.transcribe(bill, { hints: HINTS.open });
    assert.deepEqual([r.provider, norm(r.text)], ['pocketsphinx', 'pay my bill']);
    assert.equal(norm((await pair.main.transcribe(bill)).text), 'be my deal');
    // Outside the hints the grammar makes salad, and Moonshine's clear reading stands.
    const owe = phoneLine(
      await speak('I need to pay what I owe', { engine: 'flite', voice: 'awb' }),
    );
    const s = await pair.open({ sampleRate: 8000, hints: HINTS.open });
    await stream(s, owe);
    const heard = await s.finish();
    assert.deepEqual([heard.provider, norm(heard.text)], ['moonshine', 'i need to pay what i owe']);
  });
});

// --- Whisper: the recheck's engine, in its Python process ----------------------------------

let whisper: WhisperSpeechToText;
sttConformance('whisper (tiny.en, the hints as its prompt)', async () => {
  await ensureWhisper(silentLog);
  whisper = new WhisperSpeechToText();
  return {
    stt: whisper,
    inUse: () => whisper.stats.streams,
    utterance: { audio: await balanceAudio(), hints: HINTS.open, expected: 'what is my balance' },
  };
});

describe('whisper adapter', function () {
  let audio: PcmAudio;
  before(async () => {
    audio = await balanceAudio();
  });
  after(() => whisper?.dispose());

  it('rereads a request both fast engines left unclear, in the edge stack with LOCAL_STT=auto', async () => {
    // espeak's f3 voice: Moonshine hears "ok then i'd like to bid", the grammar salad.
    const payIt = phoneLine(
      await speak("okay, then I'd like to pay it", { engine: 'espeak-ng', voice: 'en-us+f3' }),
    );
    const edge = await speechToTextFromEnv({ LOCAL_STT: 'auto' });
    const withoutRecheck = await speechToTextFromEnv({
      LOCAL_STT: 'auto',
      LOCAL_STT_RECHECK: 'off',
    });
    try {
      const r = await edge.transcribe(payIt, { hints: HINTS.open });
      assert.equal(r.provider, 'whisper');
      assert.match(norm(r.text), /i'?d like to pay it$/);
      const before = await withoutRecheck.transcribe(payIt, { hints: HINTS.open });
      assert.notEqual(before.provider, 'whisper');
      assert.doesNotMatch(norm(before.text), /pay it/);
    } finally {
      edge.dispose();
      withoutRecheck.dispose();
    }
  });

  it('rereads a closed answer both fast engines left unclear, in the edge stack', async () => {
    // espeak's m7 voice: the grammar hears "correct" as "can", which Moonshine does not mend.
    const correct = phoneLine(
      await speak('correct', { engine: 'espeak-ng', voice: 'en+m7', rate: 140 }),
    );
    const hints = expectedPhrases('confirm_payment', { notAnswers: true });
    const edge = await speechToTextFromEnv({ LOCAL_STT: 'auto' });
    const withoutRecheck = await speechToTextFromEnv({ LOCAL_STT: 'auto', LOCAL_STT_RECHECK: 'off' }); // prettier-ignore
    try {
      const r = await edge.transcribe(correct, { hints, closedQuestion: true });
      assert.deepEqual([r.provider, norm(r.text)], ['whisper', 'correct']);
      const before = await withoutRecheck.transcribe(correct, { hints, closedQuestion: true });
      assert.notEqual(norm(before.text), 'correct');
    } finally {
      edge.dispose();
      withoutRecheck.dispose();
    }
  });

  it("is the edge's local recognizer alone with LOCAL_STT=whisper, in a process of its own", async () => {
    const edge = await speechToTextFromEnv({ LOCAL_STT: 'whisper' });
    try {
      const r = await edge.transcribe(audio, { hints: HINTS.open });
      assert.deepEqual([r.provider, norm(r.text)], ['whisper', 'what is my balance']);
    } finally {
      edge.dispose();
    }
  });

  it('an utterance still waiting after timeoutMs fails as a timeout; the next one is served', async () => {
    const hasty = new WhisperSpeechToText({ timeoutMs: 1 });
    const patient = new WhisperSpeechToText();
    try {
      await hasty.ready();
      await assert.rejects(hasty.transcribe(audio, { hints: HINTS.open }), kindIs('timeout', true));
      await patient.ready();
      const r = await patient.transcribe(audio, { hints: HINTS.open });
      assert.equal(norm(r.text), 'what is my balance');
    } finally {
      hasty.dispose();
      patient.dispose();
    }
  });

  it('a process that ends fails what it held, says so once, and the next utterance starts another', async () => {
    const ended: ProviderError[] = [];
    const stt = new WhisperSpeechToText({ onEnded: (e) => ended.push(e) });
    try {
      await stt.ready();
      const first = stt.stats.pid!;
      const held = stt.transcribe(audio, { hints: HINTS.open });
      process.kill(first, 'SIGKILL');
      await assert.rejects(held, kindIs('unavailable', true));
      await eventually(() => ended.length === 1);
      assert.match(ended[0]!.message, /the whisper process ended \(SIGKILL\)/);
      const r = await stt.transcribe(audio, { hints: HINTS.open });
      assert.equal(norm(r.text), 'what is my balance');
      assert.notEqual(stt.stats.pid, first);
      assert.equal(ended.length, 1);
    } finally {
      stt.dispose();
    }
  });

  it('a model that cannot load says why, and audio at another rate is refused', async () => {
    const stt = new WhisperSpeechToText({ modelDir: '/nonexistent/whisper' });
    await assert.rejects(stt.ready(), (e: ProviderError) => {
      assert.ok(kindIs('unavailable', true)(e));
      assert.match(e.message, /whisper could not load its model/);
      return true;
    });
    await assert.rejects(stt.transcribe(audio), /could not load its model/);
    await assert.rejects(stt.open({ sampleRate: 44_100 }), kindIs('bad_input', false));
    stt.dispose();
  });
});
