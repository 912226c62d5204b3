// A LanguageModel for tests: scripted pieces, optionally slow, optionally failing with a
// given ProviderError kind (at once or after some pieces), and a record of its prompts.
import type { LlmUsage } from '../../contracts/answers';
import type { ProviderErrorKind } from '../../contracts/providers';
import { ProviderError } from '../provider-error';
import { pause } from '../pause';
import type { LanguageModel, Prompt } from './port';

export interface FakeLanguageModelOptions {
  name?: string;
  /** The answer's pieces, in order (default: one short sentence in three pieces). */
  pieces?: string[];
  /** Fails with this kind once `failAfter` pieces were given. */
  fail?: ProviderErrorKind;
  /** Pieces given before the failure (default 0: fails before saying anything). */
  failAfter?: number;
  /** Before the first piece (or the failure); Infinity: never starts (until aborted). */
  firstPieceDelayMs?: number;
  /** Between pieces; Infinity: stalls after the first. */
  pieceDelayMs?: number;
  /** Reported through onUsage when the answer ends (a billed provider); none by default. */
  usage?: LlmUsage;
}

export class FakeLanguageModel implements LanguageModel {
  readonly name: string;
  readonly reportsUsage: boolean;
  /** Every prompt it was given, in order. */
  readonly prompts: Prompt[] = [];
  private readonly opts: FakeLanguageModelOptions;

  constructor(opts: FakeLanguageModelOptions = {}) {
    this.name = opts.name ?? 'fake';
    this.reportsUsage = opts.usage !== undefined;
    this.opts = opts;
  }

  async *stream(
    prompt: Prompt,
    opts: { signal?: AbortSignal; maxTokens?: number; onUsage?: (usage: LlmUsage) => void } = {},
  ): AsyncIterable<string> {
    const { signal } = opts;
    signal?.throwIfAborted();
    this.prompts.push(prompt);
    const pieces = this.opts.pieces ?? ['The late fee', ' is $10', '.'];
    const capped = opts.maxTokens === undefined ? pieces : pieces.slice(0, opts.maxTokens);
    const failAt = this.opts.fail ? Math.min(this.opts.failAfter ?? 0, capped.length) : Infinity;
    await pause(this.opts.firstPieceDelayMs ?? 0, signal);
    signal?.throwIfAborted();
    for (const [i, piece] of capped.entries()) {
      if (i === failAt) break;
      if (i > 0) await pause(this.opts.pieceDelayMs ?? 0, signal);
      signal?.throwIfAborted();
      yield piece;
      signal?.throwIfAborted(); // aborted while the reader held the piece
    }
    if (this.opts.fail) {
      throw new ProviderError(this.name, this.opts.fail, `${this.name}: told to fail`);
    }
    if (this.opts.usage) opts.onUsage?.(this.opts.usage);
  }
}
