// The edge's voice: the TTS chain behind the cache, so a repeated prompt plays without
// calling any provider. Only the fixed prompts are shared across calls; any other text may
// carry a name, an amount or a date, so it is cached for its call alone and the post-call
// workflow removes it (seed §7).
import type { CacheScope, TtsCache } from '../activities/speech/tts-cache';
import type { TtsChain } from '../activities/speech/tts-chain';
import { PROMPTS } from '../workflows/call-state';
import type { SpeechSynthesizer } from './call-session';

const SHARED_TEXTS: ReadonlySet<string> = new Set(Object.values(PROMPTS));

export const cacheScopeFor = (text: string, callId?: string): CacheScope =>
  callId === undefined || SHARED_TEXTS.has(text) ? 'shared' : { callId };

export interface SynthesisStats {
  cacheHits: number;
  cacheMisses: number;
}

export function cachedChainSynthesizer(
  chain: TtsChain,
  cache: TtsCache,
): SpeechSynthesizer & { stats: SynthesisStats } {
  const stats: SynthesisStats = { cacheHits: 0, cacheMisses: 0 };
  return {
    stats,
    async synthesize(text, signal, callId) {
      const { audio, cacheHit } = await cache.getOrSynthesize(
        chain.voice,
        text,
        async (s) => (await chain.synthesize(text, { signal: s ?? signal })).audio,
        { signal, scope: cacheScopeFor(text, callId) },
      );
      if (cacheHit) stats.cacheHits++;
      else stats.cacheMisses++;
      return { mulaw: audio.mulaw, cacheHit, servedBy: audio.provider };
    },
  };
}
