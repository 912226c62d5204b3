// Open speech heard by two engines at once, keeping the reading the caller's request is
// clearer in. The open-vocabulary engine (the main one) hears unseen voices and phrasings
// best, but mishears some short phrases the same way every time in a given voice ("pay my
// bill" → "be my deal"); the grammar engine (the second) hears exactly those phrases when
// they are among the dialogue's hints, and turns anything else into word salad. A judge (the
// intent model) says what each reading asks for and how surely: the main reading stands
// unless it names no request the agent can act on, or names one unsurely, and the second
// names one more surely. Itself a SpeechToText, so it stands wherever one engine can.
import type { Intent } from '../../contracts/call';
import type {
  PcmAudio,
  SpeechToText,
  SttStream,
  SttStreamOptions,
  Transcript,
  TranscribeOptions,
} from './port';

/** What a reading asks for: the intent model's answer for its text. */
export type ReadingJudge = (text: string) => Promise<Intent>;

/** An engine that loads its models ahead of the first utterance. */
type Warmable = SpeechToText & { warm?(): void; dispose?(): void };

export interface SecondOpinionOptions {
  /** The main reading is trusted at this confidence or above (default 0.8). */
  trustAbove?: number;
}

export class SecondOpinionSpeechToText implements SpeechToText {
  readonly name: string;
  private readonly trustAbove: number;

  constructor(
    readonly main: Warmable,
    readonly second: Warmable,
    private readonly judge: ReadingJudge,
    opts: SecondOpinionOptions = {},
  ) {
    this.name = `${main.name}+${second.name}`;
    this.trustAbove = opts.trustAbove ?? 0.8;
  }

  warm(): void {
    this.main.warm?.();
    this.second.warm?.();
  }

  dispose(): void {
    this.main.dispose?.();
    this.second.dispose?.();
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    const [main, second] = await Promise.allSettled([this.main.open(opts), this.second.open(opts)]);
    if (main.status === 'rejected' && second.status === 'rejected') throw main.reason;
    return new TwoReadingStream(
      [main, second].flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
      (readings) => this.choose(readings),
    );
  }

  async transcribe(audio: PcmAudio, opts?: TranscribeOptions): Promise<Transcript> {
    return this.choose(
      await Promise.allSettled([
        this.main.transcribe(audio, opts),
        this.second.transcribe(audio, opts),
      ]),
    );
  }

  /** The main engine's reading first; one engine failing leaves the other's. */
  private async choose(readings: PromiseSettledResult<Transcript>[]): Promise<Transcript> {
    const heard = readings.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (heard.length === 0) throw (readings[0] as PromiseRejectedResult).reason;
    const [main, second] = heard;
    if (!second) return main!;
    try {
      const [a, b] = await Promise.all([this.judge(main!.text), this.judge(second.text)]);
      const mainActionable = a.name !== 'out_of_scope' && a.confidence >= this.trustAbove;
      const secondClearer = b.name !== 'out_of_scope' && b.confidence > a.confidence;
      return !mainActionable && secondClearer ? second : main!;
    } catch {
      // No judge (the intent model failed): the main engine is the better reader overall.
      return main!;
    }
  }
}

/** Writes go to every engine's stream; the end waits for all and takes the chosen reading. */
class TwoReadingStream implements SttStream {
  private result?: Promise<Transcript>;

  constructor(
    private readonly streams: SttStream[],
    private readonly choose: (r: PromiseSettledResult<Transcript>[]) => Promise<Transcript>,
  ) {}

  write(pcm: Int16Array): void {
    for (const s of this.streams) s.write(pcm);
  }

  finish(): Promise<Transcript> {
    this.result ??= Promise.allSettled(this.streams.map((s) => s.finish())).then(this.choose);
    return this.result;
  }

  abort(): void {
    for (const s of this.streams) s.abort();
  }
}
