// Local offline SpeechToText on Moonshine tiny-en (MIT): an encoder-decoder recognizer trained
// on varied speech, so it understands voices and phrasings it was never tuned on, where the
// grammar engine (pocketsphinx) forces them into its phrase list. In-process through its C
// library (ffi.ts); ensureMoonshine (infra/install.ts) puts the package in the tools dir.
//
// The tiny model is not streaming: an utterance's audio is kept as it arrives and
// transcribed once the caller stops (≈ 0.2 s for 2 s of speech on one core), on a
// transcriber from the pool (../engine-pool.ts). It takes the phone line's 8 kHz PCM as
// it is. It takes no hints (no biasing), and reports no score: a non-empty transcript gets
// TRANSCRIPT_CONFIDENCE and the intent model's own confidence decides what is unclear.
// Numerals are spelled out as spoken words (numbers.ts).
import { rms } from '../../../audio/level';
import { moonshineDir } from '../../../infra/install';
import { ProviderError } from '../../provider-error';
import type { PcmAudio, SpeechToText, SttStream, SttStreamOptions, Transcript } from '../port';
import { loadNative, type Native } from './ffi';
import { spokenForm } from '../spoken-numbers';
import { EnginePool } from '../engine-pool';

const PROVIDER = 'moonshine';

/**
 * The confidence of a non-empty transcript. Moonshine exposes no score (this build has no
 * word-timestamp model, the only source of per-word confidence): the value sits above the
 * call's default threshold (0.5) so that what it heard is acted on, and below what a
 * grammar match scores, so a fallback's record shows which engine was sure.
 */
export const TRANSCRIPT_CONFIDENCE = 0.75;

export interface MoonshineOptions {
  /** The package directory holding libmoonshine.so and assets/tiny-en (default: the tools dir's). */
  dir?: string;
  /** Transcribers kept loaded; each serves one utterance at a time. */
  poolSize?: number;
  /** How long a finished utterance waits for a free transcriber before failing (unavailable). */
  acquireTimeoutMs?: number;
  /** Audio beyond this is dropped (the endpointer caps utterances well below it). */
  maxUtteranceMs?: number;
  /**
   * Quiet after speech for this long (ms of audio) starts transcribing what was said, on a
   * transcriber no other utterance waits for, while the endpointer still waits to end the
   * turn; used at finish() if nothing loud came after. 0: only at finish().
   */
  speculateAfterMs?: number;
}

/** RMS (16-bit) at or below which audio is quiet: the line's hiss, not a voice. */
const QUIET_RMS = 200;

const SAMPLE_RATES = [8000, 16000];

export class MoonshineSpeechToText implements SpeechToText {
  readonly name = PROVIDER;
  private readonly opts: Required<MoonshineOptions>;
  private readonly pool: EnginePool<number>;
  private streams = 0;
  private speculations = { started: 0, used: 0 };

  constructor(options: MoonshineOptions = {}) {
    this.opts = {
      dir: options.dir ?? moonshineDir(),
      poolSize: options.poolSize ?? 2,
      acquireTimeoutMs: options.acquireTimeoutMs ?? 3000,
      maxUtteranceMs: options.maxUtteranceMs ?? 30_000,
      speculateAfterMs: options.speculateAfterMs ?? 160,
    };
    if (!Number.isInteger(this.opts.poolSize) || this.opts.poolSize < 1) {
      throw new RangeError(`poolSize must be a positive integer, got ${this.opts.poolSize}`);
    }
    // A transcriber handle is not safe to share: four concurrent calls on one handle gave
    // three corrupt strings. Loading one takes ≈ 0.4 s and ≈ 45 MB of weights.
    this.pool = new EnginePool({
      provider: PROVIDER,
      engine: 'transcriber',
      size: this.opts.poolSize,
      create: () => this.load(),
      destroy: (h) => this.native().free(h),
    });
  }

  /**
   * Streams open, transcribers loaded / transcribing, utterances waiting for one, and
   * transcriptions begun at a pause / taken as an utterance's result.
   */
  get stats(): {
    streams: number;
    loaded: number;
    busy: number;
    waiting: number;
    speculations: { started: number; used: number };
  } {
    return { streams: this.streams, ...this.pool.stats, speculations: { ...this.speculations } };
  }

  /** Loads the pool's transcribers now rather than on the first utterances. */
  warm(): void {
    this.pool.warm();
  }

  /** Frees the transcribers: idle ones now, busy ones as their utterances end. */
  dispose(): void {
    this.pool.dispose();
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    if (!SAMPLE_RATES.includes(opts.sampleRate)) {
      throw new ProviderError(
        PROVIDER,
        'bad_input',
        `moonshine takes 8 or 16 kHz, got ${opts.sampleRate}`,
      );
    }
    if (opts.signal?.aborted) throw new ProviderError(PROVIDER, 'aborted', 'aborted');
    this.streams++;
    let open = true;
    const speculateAfter = Math.round((this.opts.speculateAfterMs * opts.sampleRate) / 1000);
    return new MoonshineStream(opts, this.opts.maxUtteranceMs, {
      transcribe: (audio, signal) => this.run(audio, opts.sampleRate, signal),
      close: () => {
        if (open) this.streams--;
        open = false;
      },
      speculation:
        speculateAfter > 0
          ? {
              afterSamples: speculateAfter,
              // Never ahead of a finished utterance: only on a transcriber free now.
              allowed: () => {
                const pool = this.pool.stats;
                return pool.waiting === 0 && pool.busy < this.opts.poolSize;
              },
              started: () => void this.speculations.started++,
              used: () => void this.speculations.used++,
            }
          : undefined,
    });
  }

  async transcribe(audio: PcmAudio): Promise<Transcript> {
    const stream = await this.open({ sampleRate: audio.sampleRate });
    stream.write(audio.samples);
    return stream.finish();
  }

  /** One utterance on a pooled transcriber; the handle goes back when the native call returns. */
  private async run(
    audio: Float32Array,
    sampleRate: number,
    signal: AbortSignal,
  ): Promise<Transcript> {
    const handle = await this.pool.acquire(this.opts.acquireTimeoutMs, signal);
    let said: string;
    try {
      said = await this.native().transcribe(handle, audio, sampleRate);
    } catch (err) {
      throw new ProviderError(
        PROVIDER,
        'unavailable',
        `moonshine failed: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      this.pool.release(handle);
    }
    const text = spokenForm(said);
    return { text, confidence: text ? TRANSCRIPT_CONFIDENCE : 0, provider: PROVIDER };
  }

  private native(): Native {
    try {
      return loadNative(this.opts.dir);
    } catch (err) {
      throw new ProviderError(
        PROVIDER,
        'unavailable',
        `moonshine is not installed in ${this.opts.dir} (./switchboard infra up installs it)`,
        { cause: err },
      );
    }
  }

  private load(): number {
    // Its own voice-activity detector would cut an utterance into pieces: the edge's
    // endpointer has already cut it.
    const handle = this.native().load(`${this.opts.dir}/assets/tiny-en`, { vad_threshold: '0' });
    if (handle < 0) {
      throw new ProviderError(
        PROVIDER,
        'unavailable',
        `moonshine could not load its model: ${this.native().errorText(handle)}`,
      );
    }
    return handle;
  }
}

interface StreamDeps {
  transcribe: (audio: Float32Array, signal: AbortSignal) => Promise<Transcript>;
  close: () => void;
  speculation?: {
    afterSamples: number;
    allowed: () => boolean;
    started: () => void;
    used: () => void;
  };
}

/**
 * One utterance: audio kept as float PCM while the caller speaks, transcribed at finish() —
 * or at the pause before it: once the caller has been quiet for a while, what they said is
 * transcribed while the endpointer waits out its hangover, and that transcript is the
 * result if only quiet audio followed (anything loud makes it stale).
 * finish() is idempotent; writes after finish() or abort() are dropped; finish() after
 * abort() rejects; abort() during the transcription rejects finish() at once (the native
 * call runs to its end and its transcriber then goes back to the pool).
 */
class MoonshineStream implements SttStream {
  private readonly chunks: Float32Array[] = [];
  private samples = 0;
  private readonly maxSamples: number;
  private state: 'open' | 'finishing' | 'aborted' = 'open';
  private result?: Promise<Transcript>;
  private readonly abortion = new AbortController();
  private heardVoice = false;
  /** Samples of quiet since the last loud audio. */
  private quietRun = 0;
  /** A transcript of everything written before the current quiet run began. */
  private early?: Promise<Transcript>;
  /** One early transcription at a time, stale or not: a stream never holds two transcribers. */
  private earlyRunning = false;

  constructor(
    opts: SttStreamOptions,
    maxUtteranceMs: number,
    private readonly deps: StreamDeps,
  ) {
    this.maxSamples = Math.round((maxUtteranceMs * opts.sampleRate) / 1000);
    opts.signal?.addEventListener('abort', () => this.abort(), { once: true });
  }

  write(pcm: Int16Array): void {
    if (this.state !== 'open') return;
    const n = Math.min(pcm.length, this.maxSamples - this.samples);
    if (n <= 0) return;
    const kept = pcm.subarray(0, n);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = kept[i]! / 32768;
    this.chunks.push(f);
    this.samples += n;
    if (rms(kept) > QUIET_RMS) {
      this.heardVoice = true;
      this.quietRun = 0;
      this.early = undefined; // the caller went on: what was said before is not all of it
      return;
    }
    this.quietRun += n;
    const speculation = this.deps.speculation;
    if (
      speculation &&
      this.heardVoice &&
      !this.early &&
      !this.earlyRunning &&
      this.quietRun >= speculation.afterSamples &&
      speculation.allowed()
    ) {
      speculation.started();
      this.earlyRunning = true;
      this.early = this.deps.transcribe(concat(this.chunks, this.samples), this.abortion.signal);
      // Read at finish(), or never.
      this.early.catch(() => undefined).finally(() => (this.earlyRunning = false));
    }
  }

  finish(): Promise<Transcript> {
    if (this.result) return this.result;
    if (this.state === 'aborted') return Promise.reject(aborted());
    this.state = 'finishing';
    const audio = concat(this.chunks, this.samples);
    this.chunks.length = 0;
    const work =
      audio.length === 0
        ? Promise.resolve<Transcript>({ text: '', confidence: 0, provider: PROVIDER })
        : this.fromEarly(audio);
    const cut = new Promise<never>((_, reject) =>
      this.abortion.signal.addEventListener('abort', () => reject(aborted()), { once: true }),
    );
    this.result = Promise.race([work, cut]).finally(() => this.deps.close());
    // An abort after the result settled changes nothing; one before it leaves `work` unread.
    work.catch(() => undefined);
    return this.result;
  }

  /** The transcript begun at the pause, if it still stands and succeeds; else all of it now. */
  private async fromEarly(audio: Float32Array): Promise<Transcript> {
    const early = this.early;
    if (early) {
      try {
        const transcript = await early;
        this.deps.speculation?.used();
        return transcript;
      } catch {
        // It could not be had (no transcriber in time): the whole utterance is asked for below.
      }
    }
    return this.deps.transcribe(audio, this.abortion.signal);
  }

  abort(): void {
    if (this.state === 'aborted') return;
    const finishing = this.state === 'finishing';
    this.state = 'aborted';
    this.chunks.length = 0;
    this.abortion.abort();
    if (!finishing) this.deps.close();
  }
}

function concat(parts: Float32Array[], total: number): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function aborted(): ProviderError {
  return new ProviderError(PROVIDER, 'aborted', 'stream was aborted');
}
