// The TTS fallback: a TextToSpeech over providers in order (TTS_CHAIN), each with its own
// timeout; the first that returns audio serves, and every provider asked or passed over —
// including those skipped for missing credentials — is recorded on the audio.
//
// No retries inside the chain, by design: a failed provider is not asked again; the next one
// is. The activity calling the chain has a Temporal retry policy, so a retry is one visible
// history event per whole chain run, and a flaky primary costs one timeout per attempt
// rather than several (the cloud SDKs are built with their own retries off for the same
// reason). Links therefore carry no tries or backoff.
import { type FallbackGate, type FallbackLink, FallbackRunner } from '../fallback';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';

/** One position in the chain: an adapter (or why there is none) and its timeout. */
export type TtsLink = Omit<FallbackLink<TextToSpeech>, 'tries' | 'backoffMs'>;

export class FallbackTextToSpeech implements TextToSpeech {
  readonly name = 'fallback';
  private readonly runner: FallbackRunner<TextToSpeech>;

  constructor(links: readonly TtsLink[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('tts', links, gate);
  }

  get links(): readonly TtsLink[] {
    return this.runner.links;
  }

  /** The voice of the first usable provider: the one the chain means to speak in. */
  get voice(): string {
    return this.runner.primary?.voice ?? 'none';
  }

  /** Releases adapters' connections (the Polly SDK keeps HTTP/2 sessions open). */
  close(): void {
    for (const l of this.links) (l.port as { destroy?: () => void } | undefined)?.destroy?.();
  }

  /**
   * Audio from the first provider that serves, its `attempts` saying who was asked. Throws a
   * FallbackExhaustedError (retryable unless every provider refused the text for good) when
   * none serves. An abort of `signal` (barge-in, activity cancelled) stops the chain at once
   * and is rethrown as is.
   */
  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    if (!text.trim())
      throw new ProviderError('tts', 'bad_input', 'nothing to synthesize (empty text)');
    const { value, attempts } = await this.runner.run(
      (tts, { signal }) => tts.synthesize(text, { signal }),
      { signal: opts.signal },
    );
    return { ...value, attempts };
  }
}
