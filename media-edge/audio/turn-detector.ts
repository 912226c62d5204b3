// Whether a caller who just went quiet has finished their turn, asked of a turn model at
// silence onset. Shared by every call of the process (the model is); the caller's audio comes
// with each question. A model that fails is reported once, then each failure is the caller's
// cue to fall back to the fixed hangover.
import type { TurnModel } from './smart-turn';

export interface TurnDetectorOptions {
  /** End-of-turn probability at or above which the turn is over (default 0.5). */
  threshold?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export class TurnDetector {
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
