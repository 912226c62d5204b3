// One call's audio pipeline on the edge: caller frames → VAD → endpointer → recognizer
// → one update per final utterance → the reply synthesized and played with marks; the
// caller talking over the agent clears the playback (barge-in). Partials and audio stay
// here; only final text, the recognizer's record and timings reach the workflow.
import { performance } from 'node:perf_hooks';
import type { CallBridge } from './call-bridge';
import { Endpointer, FrameRing, type EndpointerOptions } from './audio/endpointer';
import { FRAME_MS } from '../audio/frames';
import { mulawToPcm } from '../audio/mulaw';
import {
  bargeInSignal,
  type AsrRecord,
  type Reply,
  type TurnTimingReport,
} from '../contracts/call';
import type { SpokenLine } from '../activities/edge-activities';
import type { CallRecorder } from './call-recorder';
import { DtmfCollector, type DtmfEntry } from './dtmf-entry';
import { speechUnits, type SpeechSynthesizer } from './speech-synthesizer';

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
}

export interface PlaybackOut {
  readonly isSpeaking: boolean;
  play(mulaw: Buffer): { done: Promise<unknown> };
  /** Clears queued and buffered agent audio; says how much of the cut reply was heard. */
  interrupt(): { heardMs: number };
}

export interface CallSessionDeps {
  bridge: CallBridge;
  vad: { isSpeech(frame: Int16Array): boolean };
  /** A recognizer for the next utterance, primed with the phrases the dialogue expects. */
  recognizer: (hints?: string[]) => UtteranceRecognizer;
  tts: SpeechSynthesizer;
  out: PlaybackOut;
  /** Gets the caller's side; the agent's side is recorded as it is sent (see EdgeCalls). */
  recorder: CallRecorder;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface CallSessionOptions {
  endpointing?: EndpointerOptions;
  /** Caller speech this long while the agent speaks interrupts the agent. */
  bargeInMinMs?: number;
  /** A pause this long ends a keypad entry ('#' ends it at once). */
  dtmfGapMs?: number;
}

/** Where the time of one turn went, from the caller's last voiced frame (sent as is). */
export type TurnTiming = TurnTimingReport;

interface Played {
  synthesizedAt: number;
  firstFrameAt: number;
  cacheHit: boolean;
}

export class CallSession {
  private readonly endpointer: Endpointer;
  private readonly preRoll: FrameRing;
  private readonly bargeInFrames: number;
  private readonly keypad: DtmfCollector;
  private utterance?: UtteranceRecognizer;
  private speechRun = 0;
  private frameIndex = 0;
  private lastVoicedAt = 0;
  /** The reply being synthesized or played, cancelled by a barge-in. */
  private current?: { turnId: number; abort: AbortController };
  private turnChain: Promise<void> = Promise.resolve();
  private ended = false;
  /** What the workflow expects the caller to say next (from the last reply). */
  private hints?: string[];
  /** When a streamed answer's first sentence was ready and first played, by turn. */
  private streamed = new Map<number, Played & { textReadyAt: number }>();
  private lastPlayback: Promise<unknown> = Promise.resolve();
  /** What each turn's speech cost: the provider and the characters sent to it (not cached). */
  private synthesized = new Map<number, { provider: string; characters: number }>();
  onReply?: (reply: Reply, timing?: TurnTiming) => void;
  onHangup?: (reply: Reply) => void;

  constructor(
    private readonly deps: CallSessionDeps,
    opts: CallSessionOptions = {},
  ) {
    this.endpointer = new Endpointer(opts.endpointing);
    this.preRoll = new FrameRing(this.endpointer.preRollCapacity);
    this.bargeInFrames = Math.ceil((opts.bargeInMinMs ?? 300) / FRAME_MS);
    this.keypad = new DtmfCollector(opts.dtmfGapMs ?? 1000, (entry) => void this.onKeypad(entry));
  }

  /** The greeting: played as soon as the stream is up. */
  async start(greeting: Reply): Promise<void> {
    const at = performance.now();
    // Turn 0: no caller to hear, so its voice to voice is the time to greet.
    const marks = { lastVoicedAt: at, endpointedAt: at, recognizedAt: at, repliedAt: at };
    this.report(greeting, await this.speak(greeting), marks);
  }

  /** One 20 ms μ-law frame from the caller. */
  onCallerFrame(mulaw: Buffer): void {
    if (this.ended) return;
    const pcm = mulawToPcm(mulaw);
    this.frameIndex++;
    this.deps.recorder.caller(pcm);
    const voiced = this.deps.vad.isSpeech(pcm);
    if (voiced) this.lastVoicedAt = performance.now();
    this.speechRun = voiced ? this.speechRun + 1 : 0;
    if (this.speechRun === this.bargeInFrames && this.deps.out.isSpeaking) this.bargeIn();

    this.preRoll.push(pcm);
    const event = this.endpointer.push(voiced);
    if (event?.type === 'speech_start') {
      this.utterance?.abort();
      this.utterance = this.deps.recognizer(this.hints);
      for (const f of this.preRoll.since(event.atMs - this.endpointer.preRollMs))
        this.utterance.write(f);
    } else if (this.utterance) {
      this.utterance.write(pcm);
    }
    if (event?.type === 'speech_end' && this.utterance) {
      const utterance = this.utterance;
      this.utterance = undefined;
      const endpointedAt = performance.now();
      const lastVoicedAt = this.lastVoicedAt;
      // Turns are answered in order; the next one waits for this one's reply to start.
      this.turnChain = this.turnChain.then(() =>
        this.answer(utterance, lastVoicedAt, endpointedAt),
      );
    }
  }

  onDtmf(digit: string): void {
    if (!this.ended) this.keypad.push(digit);
  }

  private async onKeypad(entry: DtmfEntry): Promise<void> {
    if (this.ended) return;
    this.turnChain = this.turnChain.then(async () => {
      await this.speak(await this.deps.bridge.dtmf(entry));
    });
    await this.turnChain;
  }

  /** The workflow asked to say something unprompted (a re-prompt after silence). */
  async say(text: string): Promise<void> {
    await this.speak({ turnId: 0, text, action: 'continue' }, true);
  }

  /**
   * A reply spoken sentence by sentence while the workflow's answer is generated on this
   * host. Each sentence is synthesized as it arrives (overlapping the previous one's
   * playback) and played in order; a barge-in aborts the line.
   */
  openLine(turnId: number): SpokenLine {
    const abort = new AbortController();
    this.current = { turnId, abort };
    let queue: Promise<void> = Promise.resolve();
    return {
      signal: abort.signal,
      say: async (sentence) => {
        if (abort.signal.aborted || this.ended) return;
        const textReadyAt = performance.now();
        const audio = this.synthesize(turnId, sentence, abort.signal);
        audio.catch(() => undefined); // reported where it is awaited, in order
        queue = queue.then(async () => {
          try {
            const { mulaw, cacheHit } = await audio;
            if (abort.signal.aborted) return;
            const synthesizedAt = performance.now();
            this.lastPlayback = this.deps.out.play(mulaw).done;
            if (!this.streamed.has(turnId))
              this.streamed.set(turnId, {
                textReadyAt,
                synthesizedAt,
                firstFrameAt: performance.now(),
                cacheHit,
              });
          } catch (err) {
            if (!abort.signal.aborted)
              this.deps.log('could not speak a sentence', { error: (err as Error).message });
          }
        });
      },
      flush: () => queue,
    };
  }

  end(): void {
    this.ended = true;
    this.keypad.dispose();
    this.utterance?.abort();
    this.current?.abort.abort();
  }

  private bargeIn(): void {
    const cut = this.deps.out.interrupt();
    const current = this.current;
    if (!current) return;
    current.abort.abort();
    this.deps.log('barge-in', { turnId: current.turnId, heardMs: cut.heardMs });
    void this.deps.bridge.handle
      .signal(bargeInSignal, { turnId: current.turnId, heardMs: cut.heardMs })
      .catch((err: Error) => this.deps.log('barge-in signal failed', { error: err.message }));
  }

  private async answer(
    u: UtteranceRecognizer,
    lastVoicedAt: number,
    endpointedAt: number,
  ): Promise<void> {
    let recognition: Recognition;
    try {
      recognition = await u.finish();
    } catch (err) {
      // The recognizer policy reports failures in its record; a throw here is a bug.
      this.deps.log('recognizer failed', { error: (err as Error).message });
      recognition = { text: '', confidence: 0, record: { attempts: [] } };
    }
    if (this.ended) return;
    const recognizedAt = performance.now();
    const reply = await this.deps.bridge.utterance(
      recognition.text,
      recognition.confidence,
      undefined,
      recognition.record,
    );
    const spokenAt = performance.now();
    const streamed = this.streamed.get(reply.turnId);
    this.streamed.delete(reply.turnId);
    const rest = await this.speak(reply);
    // A streamed answer's first audio went out before the reply came back.
    const played = streamed ?? rest;
    const repliedAt = streamed?.textReadyAt ?? spokenAt;
    this.report(reply, played, { lastVoicedAt, endpointedAt, recognizedAt, repliedAt });
  }

  /** The turn's timing report, with what its speech cost (forgotten here, played or not). */
  private report(
    reply: Reply,
    played: Played | undefined,
    t: { lastVoicedAt: number; endpointedAt: number; recognizedAt: number; repliedAt: number },
  ): void {
    const tts = this.synthesized.get(reply.turnId);
    this.synthesized.delete(reply.turnId);
    if (!played) return;
    this.onReply?.(reply, {
      turnId: reply.turnId,
      endpointingMs: t.endpointedAt - t.lastVoicedAt,
      asrMs: t.recognizedAt - t.endpointedAt,
      orchestrationMs: t.repliedAt - t.recognizedAt,
      ttsMs: played.synthesizedAt - t.repliedAt,
      firstFrameMs: played.firstFrameAt - played.synthesizedAt,
      voiceToVoiceMs: played.firstFrameAt - t.lastVoicedAt,
      cacheHit: played.cacheHit,
      ...(tts && { ttsProvider: tts.provider, ttsCharacters: tts.characters }),
    });
  }

  /** Speech for the call, noting what a provider was paid to synthesize for the turn. */
  private async synthesize(turnId: number, text: string, signal: AbortSignal) {
    const audio = await this.deps.tts.synthesize(text, signal, this.deps.bridge.callSid);
    if (!audio.cacheHit) {
      const seen = this.synthesized.get(turnId);
      const characters = (seen?.characters ?? 0) + text.length;
      this.synthesized.set(turnId, { provider: audio.servedBy, characters });
    }
    return audio;
  }

  private async speak(reply: Reply, waitPlayed = false): Promise<Played | undefined> {
    if (reply.hints) this.hints = reply.hints;
    // The part of a streamed answer already played is not said again.
    const text = reply.text.slice(reply.spokenChars ?? 0).trim();
    if (!text) {
      // All of it was streamed: let it finish playing before a hang-up or transfer.
      if (reply.text && reply.action !== 'continue') {
        await this.lastPlayback;
        this.onHangup?.(reply);
      }
      return undefined;
    }
    const abort = new AbortController();
    this.current = { turnId: reply.turnId, abort };
    // Sentence by sentence: the first plays as soon as it is synthesized (a short one is
    // quick), the next is synthesized while it plays, and a fixed sentence ("Is there
    // anything else…") is a shared cache hit even after a personal one.
    let first: Played | undefined;
    let playback: { done: Promise<unknown> } | undefined;
    try {
      for (const sentence of speechUnits(text)) {
        const audio = await this.synthesize(reply.turnId, sentence, abort.signal);
        if (abort.signal.aborted) return first; // a barge-in: what played was timed
        const synthesizedAt = performance.now();
        playback = this.deps.out.play(audio.mulaw);
        first ??= { synthesizedAt, firstFrameAt: performance.now(), cacheHit: audio.cacheHit };
      }
    } catch (err) {
      if (abort.signal.aborted) return first;
      this.deps.log('could not speak the reply', { error: (err as Error).message });
      if (!first) return undefined; // nothing said: no hang-up on silence either
    }
    if (reply.action !== 'continue' || waitPlayed) await playback?.done;
    if (reply.action !== 'continue') this.onHangup?.(reply);
    return first;
  }
}
