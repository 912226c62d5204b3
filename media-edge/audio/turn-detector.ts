// Whether a caller who just went quiet has finished their turn, asked of a turn model at
// silence onset. Shared by every call of the process (the model is); the caller's audio comes
// with each question. A model that fails is reported once, then each failure is the caller's
// cue to fall back to the fixed hangover.
import type { TurnModel } from './smart-turn';

/** What a turn check is told about the pause it is asked about. */
export interface PausedTurn {
  /** The caller's last seconds (up to 8 s of 8 kHz PCM), read only when asked for. */
  audio(): Int16Array;
  /** The recognizer's latest hypothesis of the utterance ('' before its first). */
  heard: string;
  /** The phrases the dialogue expects now (the utterance's hints). */
  expected: readonly string[];
  /** The utterance answers a yes/no question (a payment's confirmation among them). */
  closedQuestion: boolean;
}

/**
 * Whether a caller who paused is done: true ends the turn now, false waits for more (up to
 * the longest pause), undefined has no verdict (the fixed hangover ends it). Rejects when it
 * cannot tell (the fixed hangover too).
 */
export interface TurnJudge {
  judge(turn: PausedTurn): Promise<boolean | undefined>;
}

export interface TurnDetectorOptions {
  /** End-of-turn probability at or above which the turn is over (default 0.5). */
  threshold?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Smart Turn's judgement: from the sound of the caller's last seconds. */
export class TurnDetector implements TurnJudge {
  readonly threshold: number;
  private failed = false;

  constructor(
    private readonly model: TurnModel,
    private readonly opts: TurnDetectorOptions = {},
  ) {
    this.threshold = opts.threshold ?? 0.5;
    if (!(this.threshold > 0 && this.threshold < 1))
      throw new RangeError(`turn threshold must be in (0, 1), got ${this.threshold}`);
  }

  judge(turn: PausedTurn): Promise<boolean> {
    return this.isComplete(turn.audio());
  }

  /** True: the turn sounds finished. Rejects when the model cannot answer. */
  async isComplete(pcm8k: Int16Array): Promise<boolean> {
    try {
      return (await this.model.endOfTurnProbability(pcm8k)) >= this.threshold;
    } catch (err) {
      if (!this.failed) {
        this.failed = true;
        this.opts.log?.('turn model failed: ending turns after the fixed pause', {
          model: this.model.name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      throw err;
    }
  }
}
