// The edge's voice: the TTS chain behind the cache, so a repeated prompt plays without
// calling any provider.
import type { TtsChain } from '../activities/speech/tts-chain';
import type { TtsCache } from '../activities/speech/tts-cache';
import type { SpeechSynthesizer } from './call-session';

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
    async synthesize(text, signal) {
      const { audio, cacheHit } = await cache.getOrSynthesize(
        chain.voice,
        text,
        async (s) => (await chain.synthesize(text, { signal: s ?? signal })).audio,
        { signal },
      );
      if (cacheHit) stats.cacheHits++;
      else stats.cacheMisses++;
      return { mulaw: audio.mulaw, cacheHit, servedBy: audio.provider };
    },
  };
}
