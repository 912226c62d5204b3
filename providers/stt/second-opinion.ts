// One utterance heard by two engines, keeping the reading the caller's request is clearer in.
// A judge (the intent model) says what a reading asks for and how surely. The main engine's
// reading stands unless it names no request the agent can act on, or names one unsurely;
// then the second engine's reading is taken if it names one more surely. Each local engine
// fails where the other does not: Moonshine mishears some short phrases the same way every
// time in a given voice ("pay my bill" → "be my deal", "yes" → "what"), which a grammar
// primed with those phrases hears; the grammar turns anything outside its phrases into salad
// ("yes" in one voice → "then"), which Moonshine hears. Itself a SpeechToText, so it stands
// wherever one engine can.
//
// Some readings are worth the other engine's word even when clear: both are read, and when
// both name the same request surely, the transcript is as sure as two engines that err apart,
// 1 − (1 − a)(1 − b). Without that agreement, a reading whose corroboration only raises its
// confidence (a yes that moves money, which one engine alone is not sure enough of) stays as
// heard; one that needs it to stand (a goodbye to a yes/no question, which declines the
// question and ends the call) gives way to another request the other engine names surely, or
// more surely, or is doubted.
//
// The reading kept says how it stands, for an engine stacked above the two: agreed by both
// (`agreedBy`), or taken against the other's word (`disputed`), which is no clear reading
// however surely it names its request (the grammar's phrases make sure-sounding salad).
//
// A second reading that lost words is no better reading: the grammar keeps the phrase it
// scores best and drops the rest, so a whole sentence Moonshine misheard can come back from
// it as a sure "no". With a syllable length set, the utterance's voice is weighed (lostWords).
//
// When the main engine is busy with other callers' utterances (a burst of callers ending
// their turns at once) or late, a second reading that is clear alone is taken without it:
// no slower than the second engine alone, and no less sure than it would be alone.
import { splitFrames } from '../../audio/frames';
import { VoiceCount, VoicingMeter, voicedMs, voiceExplained } from '../../audio/voicing';
import type { Intent } from '../../contracts/call';
import type {
  PcmAudio,
  SpeechToText,
  SttStream,
  SttStreamOptions,
  Transcript,
  TranscribeOptions,
  WarmableSpeechToText,
} from './port';

/** What a reading asks for: the intent model's answer for its text. */
export type ReadingJudge = (text: string) => Promise<Intent>;

/**
 * What a reading naming a request (its transcript's confidence, and how many engines already
 * agreed on it) needs from the other engine: nothing; its agreement to be surer, asked only
 * when the reading is clear (`raises`); its agreement to stand at all, clear or not (`required`).
 */
export type NeedsCorroboration = (
  request: Intent,
  reading: Transcript,
) => 'none' | 'raises' | 'required';

export interface SecondOpinionOptions {
  /** Readings the other engine is asked to corroborate (default: none). */
  corroborate?: NeedsCorroboration;
  /**
   * Voiced audio one syllable may account for (ms): a second reading that explains too little
   * of the voice is not taken. Default: off.
   */
  msPerSyllable?: number;
  /**
   * The second engine reads better than the main one, so its word is worth more than the main
   * one's doubt: over a reading in doubt (naming no request, disputed, or needing the other
   * engine's word and not getting it) its request is taken at this confidence or above
   * (default: only above the main reading's own, or at 0.8), and reported at this confidence
   * at least; and its sure "no request" overrules a request the main reading names unsurely,
   * was disputed over, or is in doubt.
   */
  betterReaderAt?: number;
  /**
   * The main engine would keep this utterance waiting (asked at its end): a second reading
   * clear alone (a request named surely that needs no engine's word and, with a syllable
   * length set, whose words could make the voice) is taken without the main one's.
   */
  mainBusy?: () => boolean;
  /**
   * The longest the main reading is waited for (ms from the utterance's end) while the second
   * reading is clear alone (as for mainBusy): past it, the second one is taken. Default: no limit.
   */
  mainWaitMs?: number;
}

/** The main reading's request is trusted at this confidence or above. */
const TRUSTED = 0.8;
/** Under this share of the voice explained, a second reading lost words (unless the main one did too). */
const EXPLAINS_ENOUGH = 0.5;
/**
 * A reading that needed corroboration and did not get it: under the call's default confidence
 * threshold (0.5), so the workflow asks the caller to say it again.
 */
export const DOUBTED_CONFIDENCE = 0.3;

export class SecondOpinionSpeechToText implements SpeechToText {
  readonly name: string;
  /** Readings taken from the second engine alone while the main one was busy or late. */
  readonly stats = { readWithoutMain: 0 };
  private readonly corroborate: NeedsCorroboration;

  constructor(
    readonly main: WarmableSpeechToText,
    readonly second: WarmableSpeechToText,
    private readonly judge: ReadingJudge,
    private readonly opts: SecondOpinionOptions = {},
  ) {
    this.name = `${main.name}+${second.name}`;
    this.corroborate = opts.corroborate ?? (() => 'none');
  }

  warm(): void {
    this.main.warm?.();
    this.second.warm?.();
  }

  async ready(): Promise<void> {
    await Promise.all([this.main.ready?.(), this.second.ready?.()]);
  }

  dispose(): void {
    this.main.dispose?.();
    this.second.dispose?.();
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    const [main, second] = await Promise.allSettled([this.main.open(opts), this.second.open(opts)]);
    if (main.status === 'rejected' && second.status === 'rejected') throw main.reason;
    const streams = [main, second].flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const voice = this.opts.msPerSyllable ? new VoiceCount(new VoicingMeter(), []) : undefined;
    return new TwoReadingStream(
      streams,
      () => this.choose(streams[0]!, streams[1], voice && (() => voice.ms())),
      voice,
    );
  }

  transcribe(audio: PcmAudio, opts?: TranscribeOptions): Promise<Transcript> {
    const reading = (engine: SpeechToText): Reading => {
      let read: Promise<Transcript> | undefined;
      return { finish: () => (read ??= engine.transcribe(audio, opts)), abort: () => undefined };
    };
    const voiced = () => voicedMs(splitFrames(audio.samples, audio.sampleRate));
    return this.choose(reading(this.main), reading(this.second), voiced);
  }

  /**
   * The main reading, and the second only when the main one is not clear enough to stand:
   * a clear main reading costs the second engine nothing (its stream is dropped unread).
   */
  private async choose(
    main: Reading,
    second?: Reading,
    voiced?: () => number,
  ): Promise<Transcript> {
    const alone = second && (await this.withoutMain(main, second, voiced));
    if (alone) {
      main.abort();
      this.stats.readWithoutMain++;
      return alone;
    }
    let first: Transcript;
    try {
      first = await main.finish();
    } catch (err) {
      if (!second) throw err;
      return second.finish().catch(() => Promise.reject(err as Error));
    }
    if (!second) return first;
    // No judge (the intent model failed): the main engine is the better reader overall.
    const a = await this.judge(first.text).catch(() => undefined);
    if (!a) {
      second.abort();
      return first;
    }
    const trusted = namesSurely(a, first);
    // Agreement that only raises confidence is asked for a clear reading; agreement a reading
    // needs to stand, for any reading of that request, sure or not.
    const asked = a.name === 'out_of_scope' ? 'none' : this.corroborate(a, first);
    const need = asked === 'required' || (trusted && asked === 'raises') ? asked : 'none';
    if (trusted && need === 'none') {
      second.abort();
      return first;
    }
    const other = await second.finish().catch(() => undefined);
    const b = other && (await this.judge(other.text).catch(() => undefined));
    const better = this.opts.betterReaderAt;
    // The better reader surely hearing no request, over a request not clear enough to stand.
    const overruling =
      better !== undefined &&
      a.name !== 'out_of_scope' &&
      other &&
      b?.name === 'out_of_scope' &&
      b.confidence >= TRUSTED &&
      !this.lostWords(other, first, voiced)
        ? other
        : undefined;
    if (need === 'none') {
      if (!other || !b) return first;
      if (b.name === 'out_of_scope') return overruling ?? first;
      const bar = a.name === 'out_of_scope' || first.disputed ? better : undefined;
      if (bar === undefined ? b.confidence <= a.confidence : b.confidence < bar) return first;
      if (this.lostWords(other, first, voiced)) return first;
      // Disputed: the main reading named another request, or surely none.
      const disputed = a.name === 'out_of_scope' ? a.confidence >= TRUSTED : b.name !== a.name;
      // Taken at the bar for its request, it is no less clear than the bar to the workflow,
      // whatever the engine's own score (Whisper's token probability: under 0.5 for a line it heard
      // right, "do you have a discount for seniors", which the caller was then asked again).
      const confidence = bar === undefined ? other.confidence : Math.max(other.confidence, bar);
      const taken = { ...other, confidence, disputed };
      // A reading that needs the other engine's word to stand has not got it here either.
      const doubted = this.corroborate(b, other) === 'required';
      return doubted ? doubt(taken) : taken;
    }
    // Both must name it surely: a mixed answer ("yes no wait") is named unsurely.
    if (other && b && b.name === a.name && b.confidence >= TRUSTED) {
      const confidence = 1 - (1 - first.confidence) * (1 - other.confidence);
      const agreedBy = (first.agreedBy ?? 1) + (other.agreedBy ?? 1);
      return { ...first, confidence, agreedBy, disputed: false };
    }
    if (need === 'raises') return first;
    // Another request named surely, or more surely than the reading in doubt, is taken instead.
    const instead =
      other &&
      b &&
      b.name !== 'out_of_scope' &&
      b.name !== a.name &&
      (b.confidence >= Math.min(TRUSTED, better ?? TRUSTED) || b.confidence > a.confidence);
    if (instead && !this.lostWords(other, first, voiced)) return { ...other, disputed: true };
    return overruling ?? doubt(first);
  }

  /**
   * The second reading, when the main one is busy or late and the second is clear alone;
   * undefined: the main reading is waited for.
   */
  private async withoutMain(
    main: Reading,
    second: Reading,
    voiced?: () => number,
  ): Promise<Transcript | undefined> {
    if (this.opts.mainBusy?.()) {
      const alone = await this.clearAlone(second, voiced);
      if (alone) return alone;
    }
    const waitMs = this.opts.mainWaitMs;
    if (waitMs === undefined) return undefined;
    const reading = main.finish();
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      reading.then(
        () => false,
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), waitMs))),
    ]);
    clearTimeout(timer);
    return late ? this.clearAlone(second, voiced) : undefined;
  }

  /** The second reading, if it could stand with no other engine's word; undefined if not. */
  private async clearAlone(
    second: Reading,
    voiced?: () => number,
  ): Promise<Transcript | undefined> {
    const reading = await second.finish().catch(() => undefined);
    if (!reading) return undefined;
    const b = await this.judge(reading.text).catch(() => undefined);
    if (!b || !namesSurely(b, reading) || this.corroborate(b, reading) !== 'none') return undefined;
    const perSyllable = this.opts.msPerSyllable;
    if (perSyllable && voiced) {
      if (voiceExplained(reading.text, voiced(), perSyllable) < EXPLAINS_ENOUGH) return undefined;
    }
    return reading;
  }

  /** The reading's syllables explain less of the voice than the other's, and under half of it. */
  private lostWords(reading: Transcript, other: Transcript, voiced?: () => number): boolean {
    const perSyllable = this.opts.msPerSyllable;
    if (!perSyllable || !voiced) return false;
    const ms = voiced();
    const explained = voiceExplained(reading.text, ms, perSyllable);
    return explained < EXPLAINS_ENOUGH && explained < voiceExplained(other.text, ms, perSyllable);
  }
}

/**
 * The reading names a request surely: a reading the engines below disputed is not clear,
 * however surely it names its request.
 */
function namesSurely(request: Intent, reading: Transcript): boolean {
  return request.name !== 'out_of_scope' && request.confidence >= TRUSTED && !reading.disputed;
}

/** A reading that needed the other engine's word and lacks it: the caller is asked again. */
function doubt(reading: Transcript): Transcript {
  return { ...reading, confidence: Math.min(reading.confidence, DOUBTED_CONFIDENCE) };
}

/** One engine's reading of the utterance: asked for only when needed. */
interface Reading {
  /** The reading, asked of the engine once however often this is called. */
  finish(): Promise<Transcript>;
  abort(): void;
}

/** Writes go to every engine's stream; the end is the chosen reading. */
class TwoReadingStream implements SttStream {
  private result?: Promise<Transcript>;

  constructor(
    private readonly streams: SttStream[],
    private readonly chosen: () => Promise<Transcript>,
    private readonly voice?: VoiceCount,
  ) {}

  /** Every engine's interim hypotheses as they come: of the local engines, only the grammar streams them. */
  set onPartial(report: ((text: string) => void) | undefined) {
    for (const s of this.streams) s.onPartial = report;
  }

  write(pcm: Int16Array): void {
    for (const s of this.streams) s.write(pcm);
    this.voice?.push(pcm); // judged once, at the end, only if a second reading is weighed
  }

  finish(): Promise<Transcript> {
    this.result ??= this.chosen();
    return this.result;
  }

  abort(): void {
    for (const s of this.streams) s.abort();
  }
}
