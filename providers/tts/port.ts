// The text-to-speech family: text to audio ready for the phone line.

/** Synthesized speech, ready for the phone line: 8 kHz μ-law mono. */
export interface SpeechAudio {
  mulaw: Buffer;
  durationMs: number;
  provider: string;
  voice: string;
}

export interface TextToSpeech {
  readonly name: string;
  /** Part of the cache key: the same text in another voice is other audio. */
  readonly voice: string;
  synthesize(text: string, opts?: { signal?: AbortSignal }): Promise<SpeechAudio>;
}
