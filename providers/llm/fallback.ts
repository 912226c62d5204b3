// The LLM fallback: a LanguageModel over providers in order (LLM_CHAIN), each with a
// first-token timeout and a total timeout. A provider that times out, is rate limited,
// unavailable, fails or answers nothing hands over to the next — but only while nothing has
// been said: once text went to the caller it cannot be taken back, so a later failure ends
// the answer with what was said (recorded, `complete: false`).
//
// The phase up to the first non-blank text is a FallbackRunner run: its per-link timeout is
// the first-token timeout, and it records the links skipped, failed or empty. The served
// link's stream then continues here, under its total timeout, and its attempt is rewritten
// when the stream ends (how long it spoke, and why it stopped if cut short).
//
// Each provider is pumped in the background into a queue, so its timeouts measure the
// provider, not how fast the reader of the answer (sentence chunker → TTS) reads.
import type { LlmUsage } from '../../contracts/answers';
import type { ProviderAttempt } from '../../contracts/providers';
import { type FallbackGate, FallbackRunner } from '../fallback';
import { ProviderError } from '../provider-error';
import type { LanguageModel, Prompt } from './port';

export interface LlmLink {
  provider: string;
  /** Absent when the provider is not configured: recorded as skipped, never asked. */
  port?: LanguageModel;
  skipReason?: string;
  /** From the call to the first non-blank text. */
  firstTokenTimeoutMs: number;
  /** From the call to the end of the answer. */
  totalTimeoutMs: number;
}

export interface LlmAnswerResult {
  text: string;
  /** Undefined when no provider served. */
  servedBy?: string;
  attempts: ProviderAttempt[];
  /** False when the answer was cut short (failure after the first text, or the reader stopped). */
  complete: boolean;
  /** The serving provider's tokens as it reported them; estimated if it was cut off first. */
  usage?: LlmUsage;
}

/** The answer's text, streamed; `result` settles (never rejects) once the stream ends. */
export interface LlmAnswer extends AsyncIterable<string> {
  readonly result: Promise<LlmAnswerResult>;
}

export interface LlmRequestOptions {
  signal?: AbortSignal;
  maxTokens?: number;
}

/** ≈ 4 characters a token (English): for a provider that did not say, or was cut off. */
export function estimateUsage(prompt: Prompt, text: string): LlmUsage {
  const chars = prompt.messages.reduce((n, m) => n + m.content.length, 0);
  return {
    inputTokens: Math.ceil(chars / 4),
    outputTokens: Math.ceil(text.length / 4),
    estimated: true,
  };
}

/**
 * Reasons of skipped links start with "skipped": histories written before attempts had a
 * kind tell skipped links from failed ones by that prefix alone.
 */
const skipped = (reason: string) => `skipped: ${reason}`;

export class FallbackLanguageModel implements LanguageModel {
  readonly name = 'fallback';
  private readonly runner: FallbackRunner<LanguageModel>;
  private readonly byProvider: Map<string, LlmLink>;

  constructor(
    readonly links: readonly LlmLink[],
    gate?: FallbackGate,
  ) {
    this.runner = new FallbackRunner(
      'llm',
      links.map((l) => ({
        provider: l.provider,
        ...(l.port ? { port: l.port } : { skipReason: skipped(l.skipReason ?? 'not configured') }),
        timeoutMs: l.firstTokenTimeoutMs,
      })),
      gate && {
        skipReason: (provider) => {
          const why = gate.skipReason(provider);
          return why === undefined ? undefined : skipped(why);
        },
        record: (attempt) => gate.record?.(attempt),
        watch: (provider, check, timeoutMs) => gate.watch?.(provider, check, timeoutMs),
      },
    );
    this.byProvider = new Map(links.map((l) => [l.provider, l]));
  }

  /** The providers that will be asked, in order (skipped ones excluded). */
  get providers(): string[] {
    return this.runner.providers;
  }

  /** The port: the answer's text; throws a FallbackExhaustedError when no provider serves. */
  async *stream(
    prompt: Prompt,
    opts: LlmRequestOptions & { onUsage?: (usage: LlmUsage) => void } = {},
  ): AsyncIterable<string> {
    const answer = this.answer(prompt, opts);
    for await (const piece of answer) yield piece;
    const { usage } = await answer.result;
    if (usage) opts.onUsage?.(usage);
  }

  /**
   * Streams an answer from the first provider that says something, with a record of who
   * served and who was asked. An abort of `signal` (barge-in, cancellation) stops at once and
   * is rethrown as is; when no provider serves, the stream throws a FallbackExhaustedError.
   */
  answer(prompt: Prompt, opts: LlmRequestOptions = {}): LlmAnswer {
    let settle!: (r: LlmAnswerResult) => void;
    const result = new Promise<LlmAnswerResult>((resolve) => (settle = resolve));
    const stream = this.run(prompt, opts, settle);
    return { result, [Symbol.asyncIterator]: () => stream };
  }

  /** The whole answer at once (no streaming). */
  async complete(prompt: Prompt, opts: LlmRequestOptions = {}): Promise<LlmAnswerResult> {
    const answer = this.answer(prompt, opts);
    for await (const piece of answer) void piece;
    return answer.result;
  }

  private async *run(
    prompt: Prompt,
    opts: LlmRequestOptions,
    settle: (r: LlmAnswerResult) => void,
  ): AsyncGenerator<string, void, undefined> {
    const attempts: ProviderAttempt[] = [];
    let text = '';
    let complete = false;
    /** The link being asked before anything was said, and the attempts recorded before it. */
    let asking: { link: RunningLink; recordedBefore: number } | undefined;
    let served: RunningLink | undefined;
    let servedAt = -1;
    let ended = false;
    try {
      const outcome = await this.runner.run(
        (model, ctx) => {
          const link = new RunningLink(
            this.byProvider.get(ctx.provider)!,
            model,
            prompt,
            opts,
            ctx.signal,
          );
          asking = { link, recordedBefore: attempts.length };
          return link.firstText();
        },
        {
          signal: opts.signal,
          attempts,
          reject: (link) => (link.first === undefined ? 'the answer had no text' : undefined),
        },
      );
      served = outcome.value;
      servedAt = attempts.length - 1; // the runner's record of it, rewritten when it ends
      asking = undefined;
      text = served.first!;
      yield text;
      opts.signal?.throwIfAborted(); // aborted while the reader held the piece
      for (;;) {
        const ev = await served.next();
        if (ev.type === 'piece') {
          if (!ev.text) continue;
          text += ev.text;
          yield ev.text;
          opts.signal?.throwIfAborted();
          continue;
        }
        if (ev.type === 'aborted') throw ev.reason;
        attempts[servedAt] = served.attempt(ev);
        ended = true;
        complete = ev.type === 'end';
        return;
      }
    } finally {
      if (served && !ended) {
        // Aborted, or the reader stopped reading: still a record of who was speaking.
        attempts[servedAt] = served.attempt({ type: 'stopped' });
      }
      if (asking && attempts.length === asking.recordedBefore) {
        // Aborted while this link was being asked: the runner rethrew without a record.
        attempts.push({ ...asking.link.attempt({ type: 'stopped' }), ok: false });
      }
      served?.stop();
      asking?.link.stop();
      const usage = served?.usage ?? (served?.billed ? estimateUsage(prompt, text) : undefined);
      settle({
        text,
        ...(served && { servedBy: served.provider }),
        attempts,
        complete,
        ...(usage && { usage }),
      });
    }
  }
}

type LinkEnd = { type: 'end' } | { type: 'fail'; error: ProviderError };
type LinkEvent = { type: 'piece'; text: string } | LinkEnd | { type: 'aborted'; reason: unknown };

/** One provider's generation, pumped into a queue and watched by its total timer. */
class RunningLink {
  /** The first non-blank text (leading blanks trimmed), once it came. */
  first: string | undefined;
  /** The tokens it reported, if it did. */
  usage?: LlmUsage;
  readonly billed: boolean;
  private readonly queue: LinkEvent[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly own = new AbortController();
  private readonly started = performance.now();
  private firstTokenMs: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: () => void;

  constructor(
    private readonly link: LlmLink,
    model: LanguageModel,
    prompt: Prompt,
    private readonly opts: LlmRequestOptions,
    /** The runner's: aborted by the caller or on the first-token timeout. */
    private readonly signal: AbortSignal,
  ) {
    this.billed = model.reportsUsage === true;
    this.onAbort = () => {
      const outer = this.opts.signal;
      if (outer?.aborted) this.finish({ type: 'aborted', reason: outer.reason });
      else this.finish({ type: 'fail', error: ProviderError.from(this.provider, signal.reason) });
    };
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => {
      const why = `answer not finished within ${link.totalTimeoutMs} ms`;
      this.finish({ type: 'fail', error: new ProviderError(this.provider, 'timeout', why) });
    }, link.totalTimeoutMs);
    void this.pump(model, prompt, AbortSignal.any([signal, this.own.signal]));
  }

  get provider(): string {
    return this.link.provider;
  }

  /** Resolves with itself at its first non-blank text, or at its end without any. */
  async firstText(): Promise<this> {
    for (;;) {
      const ev = await this.next();
      if (ev.type === 'piece') {
        const text = ev.text.trimStart();
        if (!text) continue;
        this.first = text;
        return this;
      }
      if (ev.type === 'end') return this;
      throw ev.type === 'fail' ? ev.error : ev.reason;
    }
  }

  async next(): Promise<LinkEvent> {
    for (;;) {
      const ev = this.queue.shift();
      if (ev) return ev;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Stops the provider (if still running) and the timer. Idempotent. */
  stop(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
    this.closed = true;
    if (!this.own.signal.aborted) this.own.abort(new Error('the answer is no longer needed'));
  }

  /** The record of a link that spoke: why it stopped, if it did not finish. */
  attempt(ev: LinkEnd | { type: 'stopped' }): ProviderAttempt {
    const base = {
      provider: this.provider,
      ok: true,
      ms: Math.round(performance.now() - this.started),
      ...(this.firstTokenMs !== undefined && { firstTokenMs: this.firstTokenMs }),
    };
    if (ev.type === 'end') return base;
    if (ev.type === 'fail') return { ...base, kind: ev.error.kind, reason: ev.error.message };
    const reason = this.opts.signal?.aborted
      ? 'the answer was no longer wanted'
      : 'the reader stopped reading';
    return { ...base, kind: 'aborted', reason };
  }

  private async pump(model: LanguageModel, prompt: Prompt, signal: AbortSignal): Promise<void> {
    try {
      const onUsage = (usage: LlmUsage) => void (this.usage = usage);
      const opts = { signal, maxTokens: this.opts.maxTokens, onUsage };
      for await (const piece of model.stream(prompt, opts)) {
        if (this.closed) return;
        if (this.firstTokenMs === undefined && piece.trim()) {
          this.firstTokenMs = Math.round(performance.now() - this.started);
        }
        this.push({ type: 'piece', text: piece });
      }
      this.finish({ type: 'end' });
    } catch (err) {
      if (this.opts.signal?.aborted)
        this.finish({ type: 'aborted', reason: this.opts.signal.reason });
      else this.finish({ type: 'fail', error: ProviderError.from(this.provider, err) });
    }
  }

  private push(ev: LinkEvent): void {
    this.queue.push(ev);
    this.wake?.();
  }

  private finish(ev: Exclude<LinkEvent, { type: 'piece' }>): void {
    if (this.closed) return;
    this.closed = true;
    this.push(ev);
    this.stop();
  }
}
