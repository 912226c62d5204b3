// One utterance on one pooled decoder: phone audio upsampled and fed as it comes, interim
// hypotheses, and the final transcript (decoded twice on a fresh decoder, and once more
// with the wider grammar when no phrase path fitted).
import { Resampler } from '../../../audio/resample';
import { ProviderError } from '../../provider-error';
import type { SttStream, SttStreamOptions, Transcript } from '../port';
import { CONFIDENCE_KEYWORD, pathConfidence } from './confidence';
import { DECODER_RATE, PROVIDER, type Decoder } from './decoder-pool';
import { loadNative } from './ffi';
import type { Search } from './grammar';

/**
 * One utterance on one decoder. Writes are queued and fed to ps_process_raw on koffi's
 * worker thread, batched while a call is in flight, so the event loop never waits on the
 * decoder. finish() is idempotent (a second call returns the same promise); writes after
 * finish() or abort() are dropped; finish() after abort() rejects.
 */
export class PocketsphinxStream implements SttStream {
  onPartial?: (text: string) => void;
  private readonly upsampler: Resampler | undefined;
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private fedSamples = 0;
  private readonly maxSamples: number;
  private pump: Promise<void> = Promise.resolve();
  private pumping = false;
  private state: 'open' | 'finishing' | 'done' | 'aborted' = 'open';
  private result?: Promise<Transcript>;
  private error?: ProviderError;
  private lastPartial = '';
  private partialAt = 0;
  private released = false;
  /** The utterance's 16 kHz audio, kept only when a second pass may need it. */
  private readonly kept: Int16Array[] = [];

  constructor(
    private readonly decoder: Decoder,
    private readonly search: Search,
    opts: SttStreamOptions,
    maxUtteranceMs: number,
    private readonly release: (d: Decoder) => void,
  ) {
    this.upsampler =
      opts.sampleRate === DECODER_RATE ? undefined : new Resampler(opts.sampleRate, DECODER_RATE);
    this.maxSamples = Math.round((maxUtteranceMs * DECODER_RATE) / 1000);
    opts.signal?.addEventListener('abort', () => this.abort(), { once: true });
  }

  write(pcm: Int16Array): void {
    if (this.state !== 'open' || pcm.length === 0) return;
    this.enqueue(this.upsampler ? this.upsampler.process(pcm) : pcm.slice());
    this.kick();
  }

  finish(): Promise<Transcript> {
    if (this.result) return this.result;
    if (this.state === 'aborted') return Promise.reject(aborted());
    this.state = 'finishing';
    if (this.upsampler) this.enqueue(this.upsampler.flush());
    this.kick();
    this.result = this.pump.then(() => this.end());
    return this.result;
  }

  abort(): void {
    if (this.state === 'done' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.pending = [];
    // The decoder goes back only after its in-flight call returns and the utterance ends.
    void this.pump.then(async () => {
      await loadNative()
        .endUtt(this.decoder.ptr)
        .catch(() => undefined);
      this.giveBack();
    });
  }

  private enqueue(x: Int16Array): void {
    const room = this.maxSamples - this.fedSamples - this.pendingSamples;
    if (room <= 0 || x.length === 0) return;
    const chunk = x.length > room ? x.subarray(0, room) : x;
    this.pending.push(chunk);
    this.pendingSamples += chunk.length;
  }

  private kick(): void {
    if (this.pumping || !this.pending.length) return;
    this.pumping = true;
    this.pump = this.drain().finally(() => {
      this.pumping = false;
    });
  }

  private async drain(): Promise<void> {
    const n = loadNative();
    while (this.pending.length && this.state !== 'aborted') {
      const batch = concat(this.pending, this.pendingSamples);
      this.pending = [];
      this.pendingSamples = 0;
      try {
        if ((await n.processRaw(this.decoder.ptr, batch)) < 0) {
          throw new ProviderError(PROVIDER, 'unavailable', 'pocketsphinx failed to process audio');
        }
      } catch (err) {
        this.error ??= ProviderError.from(PROVIDER, err);
        this.pending = [];
        return;
      }
      this.fedSamples += batch.length;
      if (this.search.second || this.decoder.fresh) this.kept.push(batch);
      this.partial();
    }
  }

  /**
   * Interim hypothesis at most every 100 ms of audio, only when it changed: a pause's first
   * 200 ms then always hold one that heard the last word (the edge may end the turn on it).
   */
  private partial(): void {
    if (!this.onPartial || this.state !== 'open') return;
    if (this.fedSamples - this.partialAt < 0.1 * DECODER_RATE) return;
    this.partialAt = this.fedSamples;
    const { text } = loadNative().getHyp(this.decoder.ptr);
    if (text !== this.lastPartial) {
      this.lastPartial = text;
      this.onPartial(tidy(text));
    }
  }

  private async end(): Promise<Transcript> {
    const n = loadNative();
    const ps = this.decoder.ptr;
    try {
      if (this.state === 'aborted') throw aborted();
      const ended = await n.endUtt(ps);
      if (this.error) throw this.error;
      if (ended < 0) {
        throw new ProviderError(
          PROVIDER,
          'unavailable',
          'pocketsphinx failed to end the utterance',
        );
      }
      let hyp = n.getHyp(ps);
      if (this.decoder.fresh && this.fedSamples > 0) {
        const search = this.search.mode === 'dictation' ? undefined : this.search;
        hyp = await this.redecode(search && { name: search.name, build: search.build! }, false);
      }
      this.decoder.fresh = false;
      const second = this.search.second;
      if (!hyp.text.trim() && second && this.fedSamples > 0)
        hyp = await this.redecode(second, true);
      const text = tidy(hyp.text);
      const mode = this.search.mode;
      let confidence = 0;
      if (text) {
        if (mode === 'keyword') {
          confidence = CONFIDENCE_KEYWORD;
        } else {
          const frames = Math.max(1, n.nFrames(ps));
          confidence = pathConfidence(n.logToLn(ps, hyp.score) / frames);
          if (mode === 'dictation') {
            const words = text.split(' ').length;
            confidence *= Math.exp(n.logToLn(ps, n.getProb(ps)) / words);
          }
        }
      }
      this.state = 'done';
      return { text, confidence: clamp01(confidence), provider: PROVIDER };
    } catch (err) {
      throw ProviderError.from(PROVIDER, err); // a native call that threw
    } finally {
      if (this.state !== 'aborted') {
        this.state = 'done';
        this.giveBack();
      }
    }
  }

  /** Decodes the kept audio again, with `search` (the current one when undefined). */
  private async redecode(
    search: { name: string; build: (ps: unknown) => number } | undefined,
    last: boolean,
  ): Promise<{ text: string; score: number }> {
    const n = loadNative();
    const ps = this.decoder.ptr;
    if (search) this.decoder.use(search.name, search.build);
    if (n.startUtt(ps) < 0) {
      throw new ProviderError(PROVIDER, 'unavailable', 'pocketsphinx could not restart');
    }
    const audio = concat(this.kept, this.fedSamples);
    if (last) this.kept.length = 0;
    const ok = (await n.processRaw(ps, audio)) >= 0;
    if ((await n.endUtt(ps)) < 0 || !ok) {
      throw new ProviderError(PROVIDER, 'unavailable', 'pocketsphinx failed on the second pass');
    }
    return n.getHyp(ps);
  }

  private giveBack(): void {
    if (this.released) return;
    this.released = true;
    this.release(this.decoder);
  }
}

/** Keyword hypotheses repeat and trail spaces; fillers never reach the text. */
function tidy(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

function concat(parts: Int16Array[], total: number): Int16Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Int16Array(total);
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
