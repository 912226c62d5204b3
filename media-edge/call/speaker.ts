// The agent's voice on one call: the one output queue. Fixed replies and streamed answer
// sentences alike are said through a turn's output: each text is synthesized as soon as it
// is said (overlapping what plays before it) and handed to playout in the order said, across
// outputs. A barge-in or the hang-up cancels the current output through its one
// AbortController: its syntheses are aborted, nothing more of it is played. A possible
// barge-in pauses it first (see false-interruption.ts): it then resumes or is cancelled.
import { performance } from 'node:perf_hooks';
import type { SpokenLine } from '../../activities/edge-activities';
import { isFixedPrompt, speechUnits, type SpeechSynthesizer } from '../speech-synthesizer';
import { asksQuestion } from './false-interruption';
import type { Playout } from './playout';
import type { TurnClock } from './turn-clock';

/** How one text went: handed to playout, cut by a cancellation, or not synthesized. */
export type Said = 'played' | 'cancelled' | 'failed';

export interface SpeakerDeps {
  playout: Playout;
  tts: SpeechSynthesizer;
  /** Times and bills the outputs opened as timed. */
  clock: TurnClock;
  /** The call the speech is for (personal text is cached for it alone). */
  callSid: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** One turn's output: what the agent says for it, cancelled as one. */
export class TurnOutput implements SpokenLine {
  private readonly abort = new AbortController();
  /** Settles once everything said so far has been handed to playout (or dropped). */
  private handedOff: Promise<unknown> = Promise.resolve();
  private lastPlayback: Promise<unknown> = Promise.resolve();
  /** The apology for an unsayable line played: it is said once per output, not per line. */
  apologised = false;

  constructor(
    readonly turnId: number,
    private readonly speaker: Speaker,
    /** Whether the turn's first audio and billing go to the turn clock. */
    readonly timed: boolean,
  ) {}

  /** Aborted by a barge-in or the hang-up. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  cancel(): void {
    this.abort.abort();
  }

  /** Queues a sentence of a streamed answer; resolves once queued (synthesis has started). */
  async say(sentence: string): Promise<void> {
    void this.speak(sentence);
  }

  /** Says text after whatever was said before it; resolves once it is handed to playout. */
  speak(text: string): Promise<Said> {
    if (this.signal.aborted) return Promise.resolve('cancelled');
    const said = this.speaker.enqueue(this, text).then((how) => {
      if (how === 'played') this.lastPlayback = this.speaker.lastPlayback;
      return how;
    });
    this.handedOff = said;
    return said;
  }

  /**
   * Synthesizes what the next reply is likely to say into the call's cache, unplayed: if it
   * comes, its personal sentences are cache hits. Billed to this turn; cut by a barge-in.
   */
  async prepare(text: string): Promise<void> {
    for (const unit of speechUnits(text))
      if (!isFixedPrompt(unit) && !this.signal.aborted) await this.speaker.prepare(this, unit);
  }

  /** Resolves once every sentence said so far has been handed to playout. */
  async flush(): Promise<void> {
    await this.handedOff;
  }

  /** Resolves once this output's audio has played (or was cut). */
  async played(): Promise<void> {
    await this.handedOff;
    await this.lastPlayback;
  }
}

/** A reply paused by the caller's sound: where it stopped, and whether it had asked yet. */
export interface PausedReply {
  turnId: number;
  /** Of the sentence being heard, as interrupt() reports it. */
  heardMs: number;
  /** A sentence of the turn that asks a question had started playing. */
  questionAsked: boolean;
}

export class Speaker {
  /** The one queue: each text is handed to playout after everything said before it. */
  private tail: Promise<unknown> = Promise.resolve();
  private current?: TurnOutput;
  /** The latest turn's first question, by its playback (playback ids grow in play order). */
  private question?: { turnId: number; playbackId: number };
  private ended = false;
  /** The sentences made ready ahead for this call (TurnOutput.prepare). */
  private readonly prepared = new Set<string>();
  /** The last audio handed to playout, to let it finish before a hang-up. */
  lastPlayback: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: SpeakerDeps) {}

  get isSpeaking(): boolean {
    return this.deps.playout.isSpeaking;
  }

  /** The turn's output; it becomes the one a barge-in cancels. */
  open(turnId: number, opts: { timed: boolean }): TurnOutput {
    const output = new TurnOutput(turnId, this, opts.timed);
    if (this.ended) output.cancel();
    this.current = output;
    return output;
  }

  /**
   * Barge-in: clears the audio queued and buffered and cancels the current output.
   * Returns the cut turn and how much of it was heard (undefined with no output open).
   */
  interrupt(): { turnId: number; heardMs: number } | undefined {
    const cut = this.deps.playout.interrupt();
    const current = this.current;
    if (!current) return undefined;
    current.cancel();
    return { turnId: current.turnId, heardMs: cut.playbacks[0]?.heardMs ?? 0 };
  }

  /**
   * A possible barge-in: the audio stops (Twilio's buffer is cleared) but the current output
   * is kept, to resume() from where the caller heard it or be cut by interrupt(). Undefined
   * with no output open or nothing playing.
   */
  pause(): PausedReply | undefined {
    const current = this.current;
    if (!current || current.signal.aborted || !this.deps.playout.isSpeaking) return undefined;
    const heard = this.deps.playout.pause()[0];
    if (!heard) return undefined;
    const q = this.question;
    return {
      turnId: current.turnId,
      heardMs: heard.heardMs,
      questionAsked: q?.turnId === current.turnId && heard.id >= q.playbackId,
    };
  }

  /** The pause was a false alarm: the reply goes on. */
  resume(): void {
    this.deps.playout.resume();
  }

  /** The call is over: the current output is cancelled and playout detached. */
  end(): void {
    this.ended = true;
    this.current?.cancel();
    this.deps.playout.dispose();
  }

  /** @internal TurnOutput.speak: synthesis starts now, playback waits its turn. */
  enqueue(output: TurnOutput, text: string): Promise<Said> {
    const textReadyAt = performance.now();
    const audio = this.synthesize(output, text);
    audio.catch(() => undefined); // reported where it is awaited, in order
    const said = this.tail.then(() => this.handOff(output, audio, textReadyAt, asksQuestion(text)));
    this.tail = said;
    return said;
  }

  private async handOff(
    output: TurnOutput,
    audio: ReturnType<Speaker['synthesize']>,
    textReadyAt: number,
    question: boolean,
  ): Promise<Said> {
    const { signal } = output;
    try {
      const { mulaw, cacheHit, spokenAs } = await audio;
      if (signal.aborted) return 'cancelled';
      if (spokenAs === 'apology') {
        if (output.apologised) return 'played';
        output.apologised = true;
      }
      const synthesizedAt = performance.now();
      const playback = this.deps.playout.play(mulaw);
      this.lastPlayback = playback.done;
      if (question && this.question?.turnId !== output.turnId)
        this.question = { turnId: output.turnId, playbackId: playback.id };
      if (output.timed)
        this.deps.clock.played(output.turnId, {
          textReadyAt,
          synthesizedAt,
          firstFrameAt: performance.now(),
          cacheHit,
        });
      return 'played';
    } catch (err) {
      if (signal.aborted) return 'cancelled';
      this.deps.log('could not speak a sentence', {
        turnId: output.turnId,
        error: (err as Error).message,
      });
      return 'failed';
    }
  }

  /**
   * @internal TurnOutput.prepare: a head start only, so a failure is the reply's to meet. A
   * sentence made ready once for the call is in its cache: the replies that carry it again
   * cost nothing.
   */
  async prepare(output: TurnOutput, text: string): Promise<void> {
    if (this.prepared.has(text)) return;
    try {
      this.bill(output, text, await this.deps.tts.synthesize(text, output.signal, this.deps.callSid)); // prettier-ignore
      this.prepared.add(text);
    } catch {
      // The reply synthesizes the sentence again when it comes (and says why, if it fails).
    }
  }

  /** Speech for the call, billing the turn for what a provider was paid to synthesize. */
  private async synthesize(output: TurnOutput, text: string) {
    const audio = await this.deps.tts.synthesize(text, output.signal, this.deps.callSid);
    this.bill(output, text, audio);
    if (audio.spokenAs === 'apology')
      this.deps.log('a line could not be said: apologised, owed by SMS', { turnId: output.turnId });
    if (audio.spokenAs) this.deps.clock.degraded(output.turnId, audio.spokenAs);
    return audio;
  }

  private bill(output: TurnOutput, text: string, audio: { cacheHit: boolean; servedBy: string }) {
    if (output.timed && !audio.cacheHit)
      this.deps.clock.billed(output.turnId, audio.servedBy, text.length);
  }
}
