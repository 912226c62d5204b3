// Decoders and their pool. Loading one (acoustic model + dictionary) takes ~0.35 s, so
// decoders are pooled and reused; a decoder keeps its compiled grammar searches (LRU) so
// switching between dialogue states costs nothing after the first time. The LM search
// (27 MB) is loaded into a decoder only when dictation is first asked of it.
import path from 'node:path';
import { ProviderError } from '../../provider-error';
import { loadNative } from './ffi';

export const PROVIDER = 'pocketsphinx';
/** The en-us model is 16 kHz: phone audio is upsampled to it. */
export const DECODER_RATE = 16000;

export interface DecoderOptions {
  /** Directory holding en-us/ (acoustic model), en-us.lm.bin and cmudict-en-us.dict. */
  modelDir: string;
  /** Grammar/keyword searches kept compiled per decoder. */
  maxSearchesPerDecoder: number;
  /** Extra decoder arguments (sphinx flags, e.g. ['-wip', '1e-4']) over the defaults. */
  decoderArgs: string[];
}

/** Loads one decoder with the model, the dictionary and the tuned flags. */
export function loadDecoder(opts: DecoderOptions): Decoder {
  let n: ReturnType<typeof loadNative>;
  try {
    n = loadNative();
  } catch (err) {
    throw new ProviderError(PROVIDER, 'unavailable', 'pocketsphinx is not installed', {
      cause: err,
    });
  }
  const dir = opts.modelDir;
  const flags = new Map<string, string>([
    ['-hmm', path.join(dir, 'en-us')],
    ['-dict', path.join(dir, 'cmudict-en-us.dict')],
    ['-samprate', String(DECODER_RATE)],
    ['-logfn', '/dev/null'],
    // A low word insertion penalty keeps short function words from filling pauses
    // (measured: intent accuracy 59 → 72 % on the eval corpus against the default 0.65).
    ['-wip', '1e-4'],
  ]);
  const extra = opts.decoderArgs;
  for (let i = 0; i + 1 < extra.length; i += 2) flags.set(extra[i]!, extra[i + 1]!);
  const cfg = n.parseConfig([...flags].flat());
  if (!cfg) throw new ProviderError(PROVIDER, 'unavailable', 'pocketsphinx rejected its config');
  const ps = n.init(cfg);
  n.freeConfig(cfg); // ps_init holds its own reference
  if (!ps) throw new ProviderError(PROVIDER, 'unavailable', `pocketsphinx could not load ${dir}`);
  return new Decoder(ps, opts);
}

export class Decoder {
  /** Compiled searches by name, oldest use first (Map keeps insertion order). */
  private readonly searches = new Map<string, true>();
  private lmLoaded = false;
  /**
   * Cepstral mean normalisation adapts from one utterance to the next, starting from the
   * model's initial estimate, which is far from phone audio: a fresh decoder's first
   * utterance is decoded twice (measured: 'bye good nine balance' → 'what is my balance').
   */
  fresh = true;

  constructor(
    readonly ptr: unknown,
    private readonly opts: DecoderOptions,
  ) {}

  /** Makes `name` the active search, compiling it with `build` on first use here. */
  use(name: string, build: (ps: unknown) => number): void {
    const n = loadNative();
    if (this.searches.has(name)) {
      this.searches.delete(name);
    } else {
      if (build(this.ptr) < 0) {
        throw new ProviderError(
          PROVIDER,
          'bad_input',
          `pocketsphinx could not build search ${name}`,
        );
      }
      while (this.searches.size >= this.opts.maxSearchesPerDecoder) {
        const oldest = this.searches.keys().next().value as string;
        this.searches.delete(oldest);
        if (oldest !== 'lm') n.unsetSearch(this.ptr, oldest);
        else this.lmLoaded = false;
      }
    }
    this.searches.set(name, true);
    if (n.setSearch(this.ptr, name) < 0) {
      throw new ProviderError(PROVIDER, 'unavailable', `pocketsphinx could not select ${name}`);
    }
  }

  useDictation(): void {
    this.use('lm', (ps) => {
      if (this.lmLoaded) return 0;
      this.lmLoaded = true;
      return loadNative().setLmFile(ps, 'lm', path.join(this.opts.modelDir, 'en-us.lm.bin'));
    });
  }

  dispose(): void {
    loadNative().free(this.ptr);
  }
}
