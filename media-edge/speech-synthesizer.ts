// The edge's voice: the TTS chain behind the cache, so a repeated prompt plays without
// calling any provider. Only the fixed prompts are shared across calls; any other text may
// carry a name, an amount or a date, so it is cached for its call alone and the post-call
// workflow removes it.
//
// When no synthesizer is up, the chain's last links still speak: fixed prompts whole,
// personal sentences assembled from prerecorded pieces. A sentence no link can say (free
// text with words no piece covers) is replaced by the prerecorded apology, which promises
// the text by SMS: the result says so (spokenAs 'apology'), and the turn's report carries
// the follow-up to the workflow.
import type { CacheScope, TtsCache } from '../providers/tts/cache';
import type { TextToSpeech } from '../providers/tts/port';
import { splitSentences } from '../providers/llm/sentence-chunker';
import { PrerecordedTts, UNSAYABLE_APOLOGY } from '../providers/tts/prerecorded';

let prompts: PrerecordedTts | undefined;

/** A fixed message of the call flow (the prerecorded prompts are exactly those). */
export function isFixedPrompt(text: string): boolean {
  prompts ??= new PrerecordedTts();
  return prompts.has(text);
}

/**
 * What to synthesize, in order: a reply's sentences, except that sentences which together
 * make a fixed prompt stay one piece (shared in the cache, and prerecorded as a whole for
 * when every TTS provider is down).
 */
export function speechUnits(text: string): string[] {
  const sentences = splitSentences(text);
  const units: string[] = [];
  for (let i = 0; i < sentences.length;) {
    let j = sentences.length;
    while (j > i + 1 && !isFixedPrompt(sentences.slice(i, j).join(' '))) j--;
    units.push(sentences.slice(i, j).join(' '));
    i = j;
  }
  return units;
}

export const cacheScopeFor = (text: string, callId?: string): CacheScope =>
  callId === undefined || isFixedPrompt(text) ? 'shared' : { callId };

/** The edge's voice as the call session sees it. */
export interface SpeechSynthesizer {
  /**
   * 8 kHz μ-law for the text; a cache hit calls no provider. `callId`: the call it is for
   * (personal text is cached for that call only, and removed after it).
   */
  synthesize(text: string, signal: AbortSignal, callId?: string): Promise<SynthesizedLine>;
}

/** How a line was voiced when the synthesizers were not: from pieces, or the apology. */
export type SpokenAs = 'pieces' | 'apology';

export interface SynthesizedLine {
  mulaw: Buffer;
  cacheHit: boolean;
  servedBy: string;
  /** Absent: said as written by a synthesizer or a whole prompt. */
  spokenAs?: SpokenAs;
}

export interface SynthesisStats {
  cacheHits: number;
  cacheMisses: number;
  /** Lines no link could say, replaced by the apology (each owed by SMS). */
  apologies: number;
}

export function cachedChainSynthesizer(
  chain: TextToSpeech,
  cache: TtsCache,
  apology: TextToSpeech = (prompts ??= new PrerecordedTts()),
): SpeechSynthesizer & { stats: SynthesisStats } {
  const stats: SynthesisStats = { cacheHits: 0, cacheMisses: 0, apologies: 0 };
  // Syntheses under way, by call and text: a reply whose sentence is still being made ready
  // ahead waits for it instead of paying a provider twice.
  const underWay = new Map<string, Promise<SynthesizedLine>>();
  const synthesize = async (
    text: string,
    signal: AbortSignal,
    callId?: string,
  ): Promise<SynthesizedLine> => {
    const key = `${callId ?? ''}\n${text}`;
    const earlier = underWay.get(key);
    if (earlier) {
      const line = await abortable(earlier, signal).catch(() => undefined);
      signal.throwIfAborted();
      if (line) {
        stats.cacheHits++; // paid for by the earlier request
        return { ...line, cacheHit: true };
      }
    }
    const line = synthesizeOnce(text, signal, callId);
    underWay.set(key, line);
    try {
      return await line;
    } finally {
      if (underWay.get(key) === line) underWay.delete(key);
    }
  };
  const synthesizeOnce = async (
    text: string,
    signal: AbortSignal,
    callId?: string,
  ): Promise<SynthesizedLine> => {
    let said;
    try {
      said = await cache.cachedSynthesize(chain, text, {
        signal,
        scope: cacheScopeFor(text, callId),
      });
    } catch (err) {
      if (signal.aborted) throw err;
      // No link could say it: the apology is said instead (rethrowing the chain's failure
      // when even that cannot be played).
      const sorry = await apology
        .synthesize(UNSAYABLE_APOLOGY, { signal })
        .catch(() => Promise.reject(err as Error));
      stats.apologies++;
      return {
        mulaw: sorry.mulaw,
        cacheHit: false,
        servedBy: sorry.provider,
        spokenAs: 'apology',
      };
    }
    const { audio, cacheHit } = said;
    if (cacheHit) stats.cacheHits++;
    else stats.cacheMisses++;
    return {
      mulaw: audio.mulaw,
      cacheHit,
      servedBy: audio.provider,
      ...(audio.provider === 'pieces' && { spokenAs: 'pieces' as const }),
    };
  };
  return { stats, synthesize };
}

/** The promise, or a rejection as soon as the signal is aborted (the promise goes on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
