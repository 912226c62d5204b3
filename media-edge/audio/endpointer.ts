// Turns per-frame VAD decisions into utterances: speech must last minSpeechMs to count (so
// clicks and coughs don't start one), and ends after hangoverMs of silence (so pauses between
// words don't split it) or at maxUtteranceMs. With a turn check, the endpointer asks it after
// probeMs of silence instead: a finished turn ends as soon as the answer comes, an unfinished
// one waits up to maxWaitMs (a caller pausing mid-digits is not cut off); a check that fails
// or has no verdict leaves the pause to hangoverMs. The answer arrives asynchronously while frames keep coming.
// Times are ms on the stream's clock: frame k covers [20k, 20k + 20).
import { FRAME_MS } from '../../audio/frames';

export interface EndpointerOptions {
  minSpeechMs?: number;
  hangoverMs?: number;
  maxUtteranceMs?: number;
  /** Audio kept from before speech began, so the first syllable reaches ASR. */
  preRollMs?: number;
  turn?: TurnCheckOptions;
}

export interface TurnCheckOptions {
  /**
   * Resolves true when the turn that just paused is finished, false when it is not, undefined
   * without a verdict; undefined and a rejection leave the pause to the fixed hangover.
   */
  isComplete: () => Promise<boolean | undefined>;
  /** Silence before the check is asked (default 200). */
  probeMs?: number;
  /** The longest pause an unfinished turn is given (default 1500). */
  maxWaitMs?: number;
}

/** What the turn check said about the current pause, if it has answered ('failed': no verdict). */
type Verdict = 'pending' | 'complete' | 'incomplete' | 'failed';

export type EndpointEvent =
  | { type: 'speech_start'; atMs: number }
  | { type: 'speech_end'; atMs: number; reason: 'silence' | 'max_length'; speechMs: number };

function frames(name: string, ms: number, min: number): number {
  if (!Number.isFinite(ms) || ms < min)
    throw new RangeError(`${name} must be ≥ ${min} ms, got ${ms}`);
  return Math.ceil(ms / FRAME_MS);
}

export class Endpointer {
  readonly minSpeechMs: number;
  readonly hangoverMs: number;
  readonly maxUtteranceMs: number;
  readonly preRollMs: number;
  private readonly minSpeechFrames: number;
  private readonly hangoverFrames: number;
  private readonly maxFrames: number;
  /** Frames pushed so far: the clock. */
  private frame = 0;
  private speaking = false;
  /** Consecutive speech frames while idle, or consecutive silent frames while speaking. */
  private run = 0;
  /** First frame of the current (candidate) utterance. */
  private startFrame = 0;
  private readonly turn?: {
    isComplete: () => Promise<boolean | undefined>;
    probe: number;
    maxWait: number;
  };
  /** The check on the current pause; speech drops it, so a late answer lands on nothing. */
  private verdict?: { said: Verdict };

  constructor({
    minSpeechMs = 100,
    hangoverMs = 500,
    maxUtteranceMs = 15000,
    preRollMs = 200,
    turn,
  }: EndpointerOptions = {}) {
    this.minSpeechFrames = frames('minSpeechMs', minSpeechMs, FRAME_MS);
    this.hangoverFrames = frames('hangoverMs', hangoverMs, FRAME_MS);
    this.maxFrames = frames('maxUtteranceMs', maxUtteranceMs, FRAME_MS);
    frames('preRollMs', preRollMs, 0);
    if (this.maxFrames <= this.minSpeechFrames) {
      throw new RangeError('maxUtteranceMs must be longer than minSpeechMs');
    }
    this.minSpeechMs = minSpeechMs;
    this.hangoverMs = hangoverMs;
    this.maxUtteranceMs = maxUtteranceMs;
    this.preRollMs = preRollMs;
    if (turn) {
      const probe = frames('turn.probeMs', turn.probeMs ?? 200, FRAME_MS);
      const maxWait = frames('turn.maxWaitMs', turn.maxWaitMs ?? 1500, FRAME_MS);
      if (maxWait <= probe) throw new RangeError('turn.maxWaitMs must be longer than turn.probeMs');
      this.turn = { isComplete: turn.isComplete, probe, maxWait };
    }
  }

  /** Frames a FrameRing must hold to replay pre-roll plus the speech that confirmed the start. */
  get preRollCapacity(): number {
    return Math.ceil(this.preRollMs / FRAME_MS) + this.minSpeechFrames;
  }

  /** The stream clock: ms of audio pushed so far. */
  get nowMs(): number {
    return this.frame * FRAME_MS;
  }

  /** True between speech_start and speech_end (barge-in looks at this). */
  get inSpeech(): boolean {
    return this.speaking;
  }

  push(isSpeech: boolean): EndpointEvent | undefined {
    const k = this.frame++;
    if (!this.speaking) {
      if (!isSpeech) {
        this.run = 0;
        return undefined;
      }
      if (this.run++ === 0) this.startFrame = k;
      if (this.run < this.minSpeechFrames) return undefined;
      this.speaking = true;
      this.run = 0;
      return { type: 'speech_start', atMs: this.startFrame * FRAME_MS };
    }
    this.run = isSpeech ? 0 : this.run + 1;
    if (isSpeech) this.verdict = undefined;
    if (this.run > 0 && this.run >= this.silenceFrames()) {
      const endFrame = this.frame - this.run; // just after the last speech frame
      return this.end(endFrame, 'silence');
    }
    if (this.frame - this.startFrame >= this.maxFrames) return this.end(this.frame, 'max_length');
    return undefined;
  }

  /** Forgets any utterance in progress; the clock keeps running so times stay on the call's timeline. */
  reset(): void {
    this.speaking = false;
    this.run = 0;
    this.verdict = undefined;
  }

  /** Silent frames that end the utterance now: the fixed hangover, or what the check said. */
  private silenceFrames(): number {
    if (!this.turn) return this.hangoverFrames;
    if (this.run === this.turn.probe) this.ask(this.turn.isComplete);
    switch (this.verdict?.said) {
      case 'complete':
        return this.turn.probe;
      case 'failed':
        return this.hangoverFrames;
      default: // not asked yet, not answered yet, or unfinished
        return this.turn.maxWait;
    }
  }

  private ask(isComplete: () => Promise<boolean | undefined>): void {
    const verdict: { said: Verdict } = { said: 'pending' };
    this.verdict = verdict;
    isComplete().then(
      (complete) =>
        (verdict.said = complete === undefined ? 'failed' : complete ? 'complete' : 'incomplete'),
      () => (verdict.said = 'failed'),
    );
  }

  private end(endFrame: number, reason: 'silence' | 'max_length'): EndpointEvent {
    this.speaking = false;
    this.run = 0;
    this.verdict = undefined;
    return {
      type: 'speech_end',
      atMs: endFrame * FRAME_MS,
      reason,
      speechMs: (endFrame - this.startFrame) * FRAME_MS,
    };
  }
}

/**
 * Bounded ring of the most recent frames, each stamped with its start time, so the caller
 * can replay audio from before speech_start (atMs − preRollMs) into the recognizer.
 */
export class FrameRing<T = Int16Array> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;
  /** Frames ever pushed: frame index `pushed - 1` is the newest. */
  private pushed = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`FrameRing capacity must be a positive integer, got ${capacity}`);
    }
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds the next frame; the oldest drops out when full. Frames must not be reused buffers. */
  push(frame: T): void {
    this.items[this.next] = frame;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.pushed++;
  }

  /** The held frames whose start is at or after `fromMs`, oldest first. */
  since(fromMs: number): T[] {
    const firstIndex = Math.max(Math.ceil(fromMs / FRAME_MS), this.pushed - this.count);
    return this.last(this.pushed - firstIndex);
  }

  /** The newest `n` frames (fewer if not held), oldest first. */
  last(n: number): T[] {
    const take = Math.max(0, Math.min(n, this.count));
    const out: T[] = [];
    for (let j = take; j > 0; j--) {
      out.push(this.items[(this.next - j + this.capacity) % this.capacity]!);
    }
    return out;
  }

  /** Drops the held frames; the clock keeps running. */
  clear(): void {
    this.items.fill(undefined);
    this.count = 0;
  }
}
