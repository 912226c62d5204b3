// Two local recognizers, each where it measures best: the answer to a closed (yes/no)
// question goes to the grammar recognizer built from the hints, which hears short closed
// answers best, and so does a sound begun over the agent (a listening word, "uh-huh", is
// among its hints: the open engine heard fewer than 6 in 10 of them); anything else goes to
// the open-vocabulary recognizer, which hears free speech from unseen voices best. Itself a
// SpeechToText, so it stands wherever one engine can.
import type {
  PcmAudio,
  SpeechToText,
  SttStream,
  SttStreamOptions,
  Transcript,
  TranscribeOptions,
  WarmableSpeechToText,
} from './port';

export class QuestionRoutedSpeechToText implements SpeechToText {
  readonly name: string;

  constructor(
    readonly forClosed: WarmableSpeechToText,
    readonly forOpen: WarmableSpeechToText,
    readonly forOverAgent: WarmableSpeechToText = forClosed,
  ) {
    this.name = `${forOpen.name}|${forClosed.name}`;
  }

  warm(): void {
    this.forClosed.warm?.();
    this.forOpen.warm?.();
    this.forOverAgent.warm?.();
  }

  async ready(): Promise<void> {
    await Promise.all([
      this.forClosed.ready?.(),
      this.forOpen.ready?.(),
      this.forOverAgent.ready?.(),
    ]);
  }

  dispose(): void {
    this.forClosed.dispose?.();
    this.forOpen.dispose?.();
    this.forOverAgent.dispose?.();
  }

  open(opts: SttStreamOptions): Promise<SttStream> {
    return this.engineFor(opts).open(opts);
  }

  transcribe(audio: PcmAudio, opts: TranscribeOptions = {}): Promise<Transcript> {
    return this.engineFor(opts).transcribe(audio, opts);
  }

  private engineFor(opts: TranscribeOptions): SpeechToText {
    if (opts.overAgent) return this.forOverAgent;
    return opts.closedQuestion ? this.forClosed : this.forOpen;
  }
}
