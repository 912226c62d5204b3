// What the edge and a recognizer's own process say to each other over the IPC channel
// (structured clone, so the audio travels as Int16Array). One id per utterance.
import type { ProviderErrorKind } from '../../provider-error';
import type { PcmAudio, TranscribeOptions, Transcript } from '../port';

/** The local engines that load a native library (or start one), and so run in a process of their own. */
export type EngineName = 'pocketsphinx' | 'moonshine' | 'whisper';

export interface EngineSettings {
  /** Engines the process keeps loaded (each serves one utterance at a time). */
  poolSize?: number;
}

export type ToEngine =
  | { op: 'open'; id: number; sampleRate: number; asked: TranscribeOptions }
  | { op: 'write'; id: number; pcm: Int16Array }
  | { op: 'finish'; id: number }
  | { op: 'abort'; id: number }
  | { op: 'transcribe'; id: number; audio: PcmAudio; asked: TranscribeOptions };

export type FromEngine =
  /** The engine loaded; utterances are served. */
  | { op: 'ready' }
  /** The engine could not load; the process ends after saying so. */
  | { op: 'failed'; error: WireError }
  | { op: 'opened'; id: number }
  | { op: 'partial'; id: number; text: string }
  | { op: 'result'; id: number; transcript: Transcript }
  | { op: 'error'; id: number; error: WireError };

/** A ProviderError as it crosses the channel. */
export interface WireError {
  kind: ProviderErrorKind;
  message: string;
  retryable: boolean;
  status?: number;
}
