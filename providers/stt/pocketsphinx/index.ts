// Local offline SpeechToText on Debian's libpocketsphinx3, in-process (ffi.ts). Weights ship
// in Debian's pocketsphinx-en-us. The en-us model is 16 kHz, so phone audio is upsampled
// 8 → 16 kHz.
//
// Modes (bench/asr-eval.ts measures them):
// - grammar: a JSGF grammar built from the dialogue state's `hints` (grammar.ts).
// - keyword: keyphrase spotting of the hints; the transcript is the phrases found.
// - dictation: the generic en-us trigram LM (slow and inaccurate on phone audio).
// - auto (default): grammar when hints are given, else dictation.
//
// Decoders are pooled (decoder-pool.ts); one utterance holds one from open() to finish().
import { ProviderError } from '../../provider-error';
import type { PcmAudio, SpeechToText, SttStream, SttStreamOptions, Transcript } from '../port';
import { EnginePool } from '../engine-pool';
import { DECODER_RATE, type Decoder, loadDecoder, PROVIDER } from './decoder-pool';
import { loadNative } from './ffi';
import { CALL_VOCABULARY, SearchBuilder, type PocketsphinxMode } from './grammar';
import { PocketsphinxStream } from './stream';

export interface PocketsphinxOptions {
  /** Directory holding en-us/ (acoustic model), en-us.lm.bin and cmudict-en-us.dict. */
  modelDir?: string;
  mode?: PocketsphinxMode;
  /** Decoders kept loaded; one utterance holds one decoder from open() to finish(). */
  poolSize?: number;
  /** How long open() waits for a free decoder before failing (unavailable). */
  acquireTimeoutMs?: number;
  /** Grammar/keyword searches kept compiled per decoder. */
  maxSearchesPerDecoder?: number;
  /** Words the grammar loop accepts besides the hint phrases (default: CALL_VOCABULARY). */
  vocabulary?: string[];
  /** Audio beyond this is dropped (the endpointer caps utterances well below it). */
  maxUtteranceMs?: number;
  /** Keyword mode: detection threshold exponent per word (threshold 1e-(base + perWord·n)). */
  keywordThreshold?: { base: number; perWord: number };
  /** Extra decoder arguments (sphinx flags, e.g. ['-wip', '1e-4']) over the defaults. */
  decoderArgs?: string[];
}

const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export class PocketsphinxSpeechToText implements SpeechToText {
  readonly name = PROVIDER;
  private readonly opts: Required<PocketsphinxOptions>;
  private readonly pool: EnginePool<Decoder>;
  private readonly searches: SearchBuilder;

  constructor(options: PocketsphinxOptions = {}) {
    this.opts = {
      modelDir: options.modelDir ?? DEFAULT_MODEL_DIR,
      mode: options.mode ?? 'auto',
      poolSize: options.poolSize ?? 2,
      acquireTimeoutMs: options.acquireTimeoutMs ?? 2000,
      maxSearchesPerDecoder: options.maxSearchesPerDecoder ?? 16,
      vocabulary: options.vocabulary ?? CALL_VOCABULARY,
      maxUtteranceMs: options.maxUtteranceMs ?? 30_000,
      keywordThreshold: options.keywordThreshold ?? { base: 10, perWord: 5 },
      decoderArgs: options.decoderArgs ?? [],
    };
    if (!Number.isInteger(this.opts.poolSize) || this.opts.poolSize < 1) {
      throw new RangeError(`poolSize must be a positive integer, got ${this.opts.poolSize}`);
    }
    this.pool = new EnginePool({
      provider: PROVIDER,
      engine: 'decoder',
      size: this.opts.poolSize,
      create: () => loadDecoder(this.opts),
      destroy: (d) => d.dispose(),
    });
    this.searches = new SearchBuilder(this.opts);
  }

  /** Decoders loaded / in use / utterances waiting for one. */
  get poolStats(): { loaded: number; busy: number; waiting: number } {
    return this.pool.stats;
  }

  /** Loads the pool's decoders now rather than on the first utterances. */
  warm(): void {
    this.pool.warm();
  }

  /** Frees the decoders: idle ones now, those in use as their utterances end. */
  dispose(): void {
    this.pool.dispose();
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    if (opts.sampleRate !== 8000 && opts.sampleRate !== DECODER_RATE) {
      throw new ProviderError(
        PROVIDER,
        'bad_input',
        `pocketsphinx takes 8 or 16 kHz, got ${opts.sampleRate}`,
      );
    }
    if (opts.signal?.aborted) throw new ProviderError(PROVIDER, 'aborted', 'aborted');
    const decoder = await this.pool.acquire(this.opts.acquireTimeoutMs, opts.signal);
    try {
      const search = this.searches.searchFor(decoder.ptr, opts.hints);
      if (search.mode === 'dictation') decoder.useDictation();
      else decoder.use(search.name, search.build!);
      if (loadNative().startUtt(decoder.ptr) < 0) {
        throw new ProviderError(
          PROVIDER,
          'unavailable',
          'pocketsphinx could not start an utterance',
        );
      }
      return new PocketsphinxStream(decoder, search, opts, this.opts.maxUtteranceMs, (d) =>
        this.pool.release(d),
      );
    } catch (err) {
      this.pool.release(decoder);
      throw err;
    }
  }

  async transcribe(audio: PcmAudio, opts: { hints?: string[] } = {}): Promise<Transcript> {
    const stream = await this.open({ sampleRate: audio.sampleRate, hints: opts.hints });
    stream.write(audio.samples);
    return stream.finish();
  }
}
