// The text-to-speech family: text to audio ready for the phone line.
import type { ProviderAttempt } from '../../contracts/providers';

/** Synthesized speech, ready for the phone line: 8 kHz μ-law mono. */
export interface SpeechAudio {
  mulaw: Buffer;
  durationMs: number;
  /** Who spoke it: the vendor adapter that served, also behind a fallback. */
  provider: string;
  voice: string;
  /** A fallback's record of every provider asked or passed over for this audio. */
  attempts?: ProviderAttempt[];
}

export interface TextToSpeech {
  readonly name: string;
  /** Part of the cache key: the same text in another voice is other audio. */
  readonly voice: string;
  synthesize(text: string, opts?: { signal?: AbortSignal }): Promise<SpeechAudio>;
}
