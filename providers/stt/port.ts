// The speech-to-text family: one utterance streamed in while the caller speaks.
import type { ProviderAttempt } from '../../contracts/providers';

/** Telephone audio inside the system: 16-bit signed PCM, mono. */
export interface PcmAudio {
  samples: Int16Array;
  sampleRate: number;
}

export interface Transcript {
  text: string;
  /** In [0, 1]; adapters map their engine's score onto it. */
  confidence: number;
  /** Which adapter produced it (for the record of who served each utterance). */
  provider: string;
  /** A fallback's record of every provider asked for this utterance, in order. */
  attempts?: ProviderAttempt[];
  /** The utterance outran the audio a fallback keeps: its replays got the first part only. */
  truncated?: boolean;
  /** Engines whose readings named the same request (a second opinion's agreement); 1 when absent. */
  agreedBy?: number;
  /**
   * The engines disagreed (the other named another request, or surely none) and this reading
   * was taken: it stands on one engine's word against another's.
   */
  disputed?: boolean;
}

export interface SttStreamOptions {
  /** Sample rate of the PCM written to the stream (8000 from the phone line). */
  sampleRate: number;
  /** Phrases expected in the current dialogue state (keyterms / a grammar's phrases). */
  hints?: string[];
  /** The caller answers a closed (yes/no) question: the hints hold its likely answers. */
  closedQuestion?: boolean;
  /** The caller began while the agent spoke: most likely a listening word, among the hints. */
  overAgent?: boolean;
  signal?: AbortSignal;
}

/** What is expected of an utterance: the stream's options without the audio's rate. */
export type TranscribeOptions = Pick<SttStreamOptions, 'hints' | 'closedQuestion' | 'overAgent'>;

/** One utterance's recognition: audio in while the caller speaks, the final text at the end. */
export interface SttStream {
  write(pcm: Int16Array): void;
  /** The caller stopped: flush and return the final transcript. */
  finish(): Promise<Transcript>;
  /** Abandon (barge-in, hang-up): free the session without a result. */
  abort(): void;
  /** Interim hypotheses, for logs and barge-in decisions; never sent to the workflow. */
  onPartial?: (text: string) => void;
}

export interface SpeechToText {
  readonly name: string;
  open(opts: SttStreamOptions): Promise<SttStream>;
  /** A whole recording at once (post-call transcription, evaluation). */
  transcribe(audio: PcmAudio, opts?: TranscribeOptions): Promise<Transcript>;
}

/** An engine that can load its models ahead of the first utterance, and free them. */
export type WarmableSpeechToText = SpeechToText & {
  warm?(): void;
  /** Resolves once loaded; rejects with why the engine cannot serve. */
  ready?(): Promise<void>;
  dispose?(): void;
};
