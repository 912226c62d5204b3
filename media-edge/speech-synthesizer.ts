// The edge's voice: the TTS chain behind the cache, so a repeated prompt plays without
// calling any provider. Only the fixed prompts are shared across calls; any other text may
// carry a name, an amount or a date, so it is cached for its call alone and the post-call
// workflow removes it.
import type { CacheScope, TtsCache } from '../providers/tts/cache';
import type { TextToSpeech } from '../providers/tts/port';
import { splitSentences } from '../providers/llm/sentence-chunker';
import { PrerecordedTts } from '../providers/tts/prerecorded';

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
  synthesize(
    text: string,
    signal: AbortSignal,
    callId?: string,
  ): Promise<{ mulaw: Buffer; cacheHit: boolean; servedBy: string }>;
}

export interface SynthesisStats {
  cacheHits: number;
  cacheMisses: number;
}

export function cachedChainSynthesizer(
  chain: TextToSpeech,
  cache: TtsCache,
): SpeechSynthesizer & { stats: SynthesisStats } {
  const stats: SynthesisStats = { cacheHits: 0, cacheMisses: 0 };
  return {
    stats,
    async synthesize(text, signal, callId) {
      const { audio, cacheHit } = await cache.cachedSynthesize(chain, text, {
        signal,
        scope: cacheScopeFor(text, callId),
      });
      if (cacheHit) stats.cacheHits++;
      else stats.cacheMisses++;
      return { mulaw: audio.mulaw, cacheHit, servedBy: audio.provider };
    },
  };
}
