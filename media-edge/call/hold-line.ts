// No silence while a turn's reply is slow: while the edge waits on the workflow for a reply
// (a payment retrying against a database that drops packets, a CRM read waiting out its
// bound, an LLM link that hangs), the caller hears "One moment, please." after `afterMs`,
// then "Thanks for holding…" every `everyMs`, until the reply comes. The lines are the
// prerecorded prompts, played straight to playout: no synthesizer is asked, so they play
// when every TTS provider is down (or hanging). Played through the call's playout, they are
// sent as media, cut by a barge-in's clear and recorded on the agent's channel like any
// output. A line that is playing when the reply comes is let finish (each line is one
// sentence); the reply plays right after it.
import { performance } from 'node:perf_hooks';
import { HOLD_LINE, PrerecordedTts, STILL_HOLDING } from '../../providers/tts/prerecorded';
import type { PlaybackHandle, Playout } from './playout';

export interface HoldLineOptions {
  /** A reply not back this long after the turn was sent: the first hold line (ms). */
  afterMs?: number;
  /** Then another line this often while the wait goes on (ms). */
  everyMs?: number;
}

export const HOLD_LINE_DEFAULTS = { afterMs: 2000, everyMs: 8000 } as const;

/** How a turn's wait went on hold: the lines played, and from the first until the reply. */
export interface Held {
  lines: number;
  heldMs: number;
}

export interface HoldLineDeps {
  playout: Pick<Playout, 'play' | 'interrupt' | 'isSpeaking'>;
  /** The prerecorded prompts (the hold lines are among them). */
  prompts?: Pick<PrerecordedTts, 'synthesize'>;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

let shippedPrompts: PrerecordedTts | undefined;

/** One wait: its timer, the lines it played, whether something else answered meanwhile. */
class HoldLoop {
  lines = 0;
  firstAt?: number;
  stopped = false;
  timer?: NodeJS.Timeout;

  constructor(
    /** The reply's speech has begun (a streamed answer's first sentence): no line from then on. */
    readonly answered: () => boolean,
  ) {}

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

export class HoldLine {
  private readonly afterMs: number;
  private readonly everyMs: number;
  private readonly prompts: Pick<PrerecordedTts, 'synthesize'>;
  /** The one loop of the call: a newer wait takes over from an older one. */
  private loop?: HoldLoop;
  /** The hold line being played, until it has played or was cut. */
  private playing?: PlaybackHandle;
  private ended = false;

  constructor(
    private readonly deps: HoldLineDeps,
    opts: HoldLineOptions = {},
  ) {
    this.afterMs = opts.afterMs ?? HOLD_LINE_DEFAULTS.afterMs;
    this.everyMs = opts.everyMs ?? HOLD_LINE_DEFAULTS.everyMs;
    this.prompts = deps.prompts ?? (shippedPrompts ??= new PrerecordedTts());
  }

  /** Whether the caller is hearing a hold line (not the reply) right now. */
  get isPlaying(): boolean {
    return this.playing !== undefined;
  }

  /** A turn's reply is awaited with nothing of it said yet: the caller is on hold. */
  get waiting(): boolean {
    const loop = this.loop;
    return loop !== undefined && !loop.stopped && !loop.answered();
  }

  /**
   * Waits for `reply`, holding the line while it takes long. `answered` tells when the
   * reply's own speech has started before the reply came back (a streamed answer): no
   * hold line is played from then on. Returns the reply and, when any line played, the hold.
   */
  async over<T>(reply: Promise<T>, answered: () => boolean): Promise<{ value: T; held?: Held }> {
    this.loop?.stop();
    const loop = (this.loop = new HoldLoop(answered));
    this.schedule(loop, this.afterMs);
    try {
      const value = await reply;
      const { lines, firstAt } = loop;
      return {
        value,
        ...(firstAt !== undefined && { held: { lines, heldMs: performance.now() - firstAt } }),
      };
    } finally {
      loop.stop();
      if (this.loop === loop) this.loop = undefined;
    }
  }

  /** Barge-in while on hold: the hold line is cut (the loop goes on while the wait does). */
  cut(): void {
    this.deps.playout.interrupt();
  }

  /** The call is over: no further line. */
  end(): void {
    this.ended = true;
    this.loop?.stop();
  }

  private schedule(loop: HoldLoop, ms: number): void {
    if (loop.stopped || this.ended) return;
    loop.timer = setTimeout(() => void this.sayNext(loop), ms);
  }

  private async sayNext(loop: HoldLoop): Promise<void> {
    if (loop.stopped || this.ended) return;
    if (loop.answered()) return loop.stop();
    // The agent is already saying something (a re-prompt): no line on top of it.
    if (!this.deps.playout.isSpeaking) {
      const text = loop.lines === 0 ? HOLD_LINE : STILL_HOLDING;
      let mulaw: Buffer;
      try {
        ({ mulaw } = await this.prompts.synthesize(text));
      } catch (err) {
        this.deps.log('hold line not played', { error: (err as Error).message });
        return this.schedule(loop, this.everyMs);
      }
      // The reply (or the hang-up) may have come while the prompt was read.
      if (loop.stopped || this.ended || loop.answered()) return;
      loop.lines++;
      loop.firstAt ??= performance.now();
      const playback = (this.playing = this.deps.playout.play(mulaw, { label: 'hold' }));
      void playback.done.then(() => {
        if (this.playing === playback) this.playing = undefined;
      });
    }
    this.schedule(loop, this.everyMs);
  }
}
