// The caller's side of one call, frame by frame: μ-law → PCM (recorded) → VAD → endpointer;
// an utterance's audio, from its pre-roll on, goes to a recognizer, and each ended utterance
// is handed on with its marks. Caller speech long enough to interrupt the agent is reported
// as it happens (the session decides whether anything was playing). This runs for every
// 20 ms frame, so it stays allocation-light.
import { performance } from 'node:perf_hooks';
import { FRAME_MS } from '../../audio/frames';
import { mulawToPcm } from '../../audio/mulaw';
import { Endpointer, FrameRing, type EndpointerOptions } from '../audio/endpointer';
import type { TurnJudge } from '../audio/turn-detector';
import { VoiceCount, VoicingMeter } from '../../audio/voicing';
import type { AsrRecord } from '../../contracts/call';
import type { TranscribeOptions } from '../../providers/stt/port';
import type { CallRecorder } from './recorder';

export interface Recognition {
  text: string;
  confidence: number;
  record: AsrRecord;
}

/** One utterance's recognition, with the retry/fallback policy inside. */
export interface UtteranceRecognizer {
  write(pcm: Int16Array): void;
  finish(): Promise<Recognition>;
  abort(): void;
  /** Set by the listener: the recognizer's interim hypotheses, as they come. */
  onPartial?: (text: string) => void;
}

/** A recognizer for the next utterance, told what the caller is expected to say. */
export type Recognizers = (asked: TranscribeOptions) => UtteranceRecognizer;

/** An ended utterance: its recognition is still to be finished. */
export interface Utterance {
  recognizer: UtteranceRecognizer;
  /** The caller's last voiced frame. */
  lastVoicedAt: number;
  /** The endpointer closed the utterance. */
  endpointedAt: number;
  /** How much of it had a voice (pitch), in ms: a cough or a crackle has next to none. */
  voicedMs(): number;
  /** It began after a reply that asked a yes/no question: it is likely the answer. */
  closedQuestion: boolean;
}

export interface ListenerDeps {
  vad: { isSpeech(frame: Int16Array): boolean };
  /** A recognizer for the next utterance, primed with the phrases the dialogue expects. */
  recognizer: Recognizers;
  /** Gets the caller's channel. */
  recorder: CallRecorder;
  /** The caller has been speaking for the barge-in bound. */
  onSpeaking: () => void;
  /** The utterance being heard has gone on for `longUtteranceMs`. */
  onLongUtterance?: () => void;
  onUtterance: (utterance: Utterance) => void;
  /**
   * Phrases added to the hints of an utterance that starts now, given only while the agent
   * speaks: such an utterance is asked of the recognizer as begun over the agent.
   */
  extraHints?: () => readonly string[];
  /**
   * Whether the open utterance's voice will be weighed though it answers no yes/no question
   * (it is heard over the agent). Voice is counted frame by frame only while it will be, and
   * otherwise only if asked for after all. Without it, always.
   */
  voiceWeighed?: () => boolean;
}

export interface ListenerOptions {
  endpointing?: Omit<EndpointerOptions, 'turn'>;
  /** Asked at each pause whether the caller is done (else the fixed hangover ends turns). */
  turns?: { judge: TurnJudge; probeMs?: number; maxWaitMs?: number };
  /** Caller speech this long while the agent speaks interrupts the agent. */
  bargeInMinMs?: number;
  /** An utterance this long is reported once through onLongUtterance (ms; none without). */
  longUtteranceMs?: number;
}

const TURN_MODEL_FRAMES = 8000 / FRAME_MS;

function concatFrames(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

export class Listener {
  private readonly endpointer: Endpointer;
  private readonly preRoll: FrameRing;
  /** The last 8 s of the caller, what a turn model listens to (only with turn detection). */
  private readonly recent?: FrameRing;
  private readonly bargeInFrames: number;
  private readonly longUtteranceFrames: number;
  private utterance?: UtteranceRecognizer;
  private utteranceFrames = 0;
  private readonly voicing = new VoicingMeter();
  private voice?: VoiceCount;
  private utteranceAnswers = false;
  /** The open utterance: what it is expected to be, and what has been heard of it so far. */
  private utteranceHints: readonly string[] = [];
  private heard = '';
  private speechRun = 0;
  private lastVoicedAt = 0;
  /** What the workflow expects the caller to say next (from the last reply). */
  hints?: string[];
  /** The last reply asked a yes/no question. */
  closedQuestion = false;

  constructor(
    private readonly deps: ListenerDeps,
    opts: ListenerOptions = {},
  ) {
    const turns = opts.turns;
    if (turns) this.recent = new FrameRing(TURN_MODEL_FRAMES);
    this.endpointer = new Endpointer({
      ...opts.endpointing,
      ...(turns && {
        turn: {
          isComplete: () =>
            turns.judge.judge({
              audio: () => concatFrames(this.recent!.last(TURN_MODEL_FRAMES)),
              heard: this.heard,
              expected: this.utteranceHints,
              closedQuestion: this.utteranceAnswers,
            }),
          probeMs: turns.probeMs,
          maxWaitMs: turns.maxWaitMs,
        },
      }),
    });
    this.preRoll = new FrameRing(this.endpointer.preRollCapacity);
    this.bargeInFrames = Math.ceil((opts.bargeInMinMs ?? 300) / FRAME_MS);
    this.longUtteranceFrames = opts.longUtteranceMs
      ? Math.ceil(opts.longUtteranceMs / FRAME_MS)
      : 0;
  }

  /** An utterance is open: the caller is speaking (or has not paused long enough to end it). */
  get hearing(): boolean {
    return this.utterance !== undefined;
  }

  /** One 20 ms μ-law frame from the caller. */
  frame(mulaw: Buffer): void {
    const pcm = mulawToPcm(mulaw);
    this.deps.recorder.caller(pcm);
    const voiced = this.deps.vad.isSpeech(pcm);
    if (voiced) this.lastVoicedAt = performance.now();
    this.speechRun = voiced ? this.speechRun + 1 : 0;
    if (this.speechRun === this.bargeInFrames) this.deps.onSpeaking();

    this.preRoll.push(pcm);
    this.recent?.push(pcm);
    const event = this.endpointer.push(voiced);
    if (event?.type === 'speech_start') {
      this.utterance?.abort();
      const asked = this.asked();
      this.utterance = this.deps.recognizer(asked);
      this.utteranceHints = asked.hints ?? [];
      this.heard = '';
      // A grammar's hypothesis goes empty in the silence after a phrase: keep the last words.
      this.utterance.onPartial = (text) => {
        if (text) this.heard = text;
      };
      this.utteranceAnswers = this.closedQuestion;
      for (const f of this.preRoll.since(event.atMs - this.endpointer.preRollMs))
        this.utterance.write(f);
      // The utterance's length counts from its speech, not from the pre-roll before it.
      this.utteranceFrames = this.preRoll.since(event.atMs).length;
      this.voice = new VoiceCount(this.voicing, this.preRoll.since(event.atMs - FRAME_MS));
      if (this.voiceWeighed()) this.voice.catchUp();
    } else if (this.utterance) {
      this.utterance.write(pcm);
      this.utteranceFrames += 1;
      this.voice!.push(pcm);
      if (this.voiceWeighed()) this.voice!.catchUp();
      if (this.utteranceFrames === this.longUtteranceFrames) this.deps.onLongUtterance?.();
    }
    if (event?.type === 'speech_end' && this.utterance) {
      const recognizer = this.utterance;
      const voice = this.voice!;
      this.utterance = undefined;
      this.voice = undefined;
      // Ended before the hangover: the recognizer still gets the pause it would have heard.
      const heardMs = this.endpointer.nowMs - event.atMs;
      if (event.reason === 'silence' && heardMs < this.endpointer.hangoverMs)
        recognizer.write(new Int16Array(((this.endpointer.hangoverMs - heardMs) * 8000) / 1000));
      this.deps.onUtterance({
        recognizer,
        lastVoicedAt: this.lastVoicedAt,
        endpointedAt: performance.now(),
        voicedMs: () => voice.ms(),
        closedQuestion: this.utteranceAnswers,
      });
    }
  }

  private voiceWeighed(): boolean {
    return this.utteranceAnswers || (this.deps.voiceWeighed?.() ?? true);
  }

  /** What the utterance starting now is expected to be. */
  private asked(): TranscribeOptions {
    const extra = this.deps.extraHints?.() ?? [];
    const hints = extra.length ? [...(this.hints ?? []), ...extra] : this.hints;
    return {
      ...(hints && { hints }),
      ...(this.closedQuestion && { closedQuestion: true }),
      ...(extra.length > 0 && { overAgent: true }),
    };
  }

  /** Hang-up: the utterance being heard is dropped. */
  end(): void {
    this.utterance?.abort();
    this.utterance = undefined;
    this.voice = undefined;
  }
}
