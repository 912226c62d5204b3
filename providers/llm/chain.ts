// The LLM provider chain as data: links in config order, each
// with a first-token timeout and a total timeout. A provider that times out, is rate limited,
// unavailable, fails or answers nothing hands over to the next — but only while nothing has
// been said: once text went to the caller it cannot be taken back, so a later failure ends
// the answer with what was said (recorded, `complete: false`).
//
// Each provider is pumped in the background into a queue, so its timeouts measure the
// provider, not how fast the caller of the chain (sentence chunker → TTS) reads.
import type { LlmUsage } from '../../contracts/answers';
import { LanguageModelError, type LanguageModel, type LlmFailureKind, type Prompt } from './port';

export interface LlmLink {
  provider: string;
  /** From the call to the first non-blank text. */
  firstTokenTimeoutMs: number;
  /** From the call to the end of the answer. */
  totalTimeoutMs: number;
  model?: LanguageModel;
  /** Why there is no model (not configured): recorded, never called. */
  skipReason?: string;
}

export interface LlmAttempt {
  provider: string;
  /** True for the provider that served (even when its answer was cut short). */
  ok: boolean;
  /** Why it did not serve, or why the served answer was cut short. */
  reason?: string;
  kind?: LlmFailureKind | 'empty' | 'skipped' | 'aborted';
  ms: number;
  /** Time to its first non-blank text. */
  firstTokenMs?: number;
}

export interface LlmChainResult {
  text: string;
  /** Undefined when no provider served. */
  servedBy?: string;
  attempts: LlmAttempt[];
  /** False when the answer was cut short (failure after the first text, or the reader stopped). */
  complete: boolean;
  /** The serving provider's tokens as it reported them; estimated if it was cut off first. */
  usage?: LlmUsage;
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

/** The answer's text, streamed; `result` settles (never rejects) once the stream ends. */
export interface LlmAnswer extends AsyncIterable<string> {
  readonly result: Promise<LlmChainResult>;
}

/** No provider served: carries every attempt. */
export class LlmChainError extends LanguageModelError {
  constructor(readonly attempts: LlmAttempt[]) {
    super(
      'unavailable',
      `no language model served: ${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}`,
    );
    this.name = 'LlmChainError';
  }
}

type LinkEvent =
  | { type: 'piece'; text: string }
  | { type: 'end' }
  | { type: 'fail'; kind: LlmFailureKind; reason: string }
  | { type: 'aborted'; reason: unknown };

export class LlmChain {
  readonly links: readonly LlmLink[];

  constructor(links: LlmLink[]) {
    if (links.length === 0) throw new Error('an LLM chain needs at least one provider');
    this.links = links;
  }

  /** The providers that will be asked, in order (skipped ones excluded). */
  get providers(): string[] {
    return this.links.filter((l) => l.model).map((l) => l.provider);
  }

  /**
   * Streams an answer from the first provider that says something. An abort of `signal`
   * (barge-in, cancellation) stops at once and is rethrown as is; when no provider
   * serves, the stream throws an LlmChainError.
   */
  answer(prompt: Prompt, opts: { signal?: AbortSignal; maxTokens?: number } = {}): LlmAnswer {
    let settle!: (r: LlmChainResult) => void;
    const result = new Promise<LlmChainResult>((resolve) => (settle = resolve));
    const stream = this.run(prompt, opts, settle);
    return { result, [Symbol.asyncIterator]: () => stream };
  }

  /** The whole answer at once (no streaming). */
  async complete(
    prompt: Prompt,
    opts: { signal?: AbortSignal; maxTokens?: number } = {},
  ): Promise<LlmChainResult> {
    const answer = this.answer(prompt, opts);
    for await (const piece of answer) void piece;
    return answer.result;
  }

  private async *run(
    prompt: Prompt,
    opts: { signal?: AbortSignal; maxTokens?: number },
    settle: (r: LlmChainResult) => void,
  ): AsyncGenerator<string, void, undefined> {
    const attempts: LlmAttempt[] = [];
    let text = '';
    let servedBy: string | undefined;
    let complete = false;
    let current: RunningLink | undefined;
    let served: RunningLink | undefined;
    try {
      for (const link of this.links) {
        opts.signal?.throwIfAborted();
        if (!link.model) {
          const reason = `skipped: ${link.skipReason ?? 'not configured'}`;
          attempts.push({ provider: link.provider, ok: false, kind: 'skipped', reason, ms: 0 });
          continue;
        }
        current = new RunningLink(link, link.model, prompt, opts);
        let emitted = false;
        for (;;) {
          const ev = await current.next();
          if (ev.type === 'piece') {
            const piece = emitted ? ev.text : ev.text.trimStart();
            if (!piece) continue;
            if (!emitted) {
              servedBy = link.provider;
              served = current;
            }
            emitted = true;
            text += piece;
            yield piece;
            opts.signal?.throwIfAborted(); // aborted while the reader held the piece
            continue;
          }
          if (ev.type === 'aborted') throw ev.reason;
          attempts.push(current.attempt(emitted, ev));
          current.recorded = true;
          if (emitted) {
            complete = ev.type === 'end';
            return;
          }
          break; // nothing said: the next provider
        }
        current.stop();
        current = undefined;
      }
      throw new LlmChainError(attempts);
    } finally {
      if (current && !current.recorded) {
        // Aborted, or the reader stopped reading: still a record of who was speaking.
        attempts.push(current.attempt(servedBy === current.provider, { type: 'stopped' }));
      }
      current?.stop();
      const usage = served?.usage ?? (served?.billed ? estimateUsage(prompt, text) : undefined);
      settle({ text, servedBy, attempts, complete, ...(usage && { usage }) });
    }
  }
}

/** One provider's generation, pumped into a queue and watched by its two timers. */
class RunningLink {
  private readonly queue: LinkEvent[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly own = new AbortController();
  private readonly started = performance.now();
  private firstTokenMs: number | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly onOuterAbort: () => void;
  /** Its attempt is in the record. */
  recorded = false;
  /** The tokens it reported, if it did. */
  usage?: LlmUsage;
  readonly billed: boolean;

  constructor(
    private readonly link: LlmLink,
    model: LanguageModel,
    prompt: Prompt,
    private readonly opts: { signal?: AbortSignal; maxTokens?: number },
  ) {
    this.billed = model.reportsUsage === true;
    const outer = opts.signal;
    this.onOuterAbort = () => this.finish({ type: 'aborted', reason: outer?.reason });
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.timers.push(
      setTimeout(
        () => this.timeout(`no first token within ${link.firstTokenTimeoutMs} ms`),
        link.firstTokenTimeoutMs,
      ),
      setTimeout(
        () => this.timeout(`answer not finished within ${link.totalTimeoutMs} ms`),
        link.totalTimeoutMs,
      ),
    );
    const signal = outer ? AbortSignal.any([outer, this.own.signal]) : this.own.signal;
    void this.pump(model, prompt, signal);
  }

  private async pump(model: LanguageModel, prompt: Prompt, signal: AbortSignal): Promise<void> {
    try {
      const onUsage = (usage: LlmUsage) => void (this.usage = usage);
      const opts = { signal, maxTokens: this.opts.maxTokens, onUsage };
      for await (const piece of model.stream(prompt, opts)) {
        if (this.closed) return;
        if (this.firstTokenMs === undefined && piece.trim()) {
          this.firstTokenMs = this.elapsed();
          clearTimeout(this.timers[0]); // the first-token timer has done its job
        }
        this.push({ type: 'piece', text: piece });
      }
      this.finish({ type: 'end' });
    } catch (err) {
      if (this.opts.signal?.aborted)
        this.finish({ type: 'aborted', reason: this.opts.signal.reason });
      else if (err instanceof LanguageModelError) {
        this.finish({ type: 'fail', kind: err.kind, reason: err.message });
      } else {
        const reason = err instanceof Error ? err.message : String(err);
        this.finish({ type: 'fail', kind: 'error', reason });
      }
    }
  }

  /** The chain moves on now; the provider is told to stop but is not waited for. */
  private timeout(reason: string): void {
    this.finish({ type: 'fail', kind: 'timeout', reason });
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

  async next(): Promise<LinkEvent> {
    for (;;) {
      const ev = this.queue.shift();
      if (ev) return ev;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Stops the provider (if still running) and the timers. Idempotent. */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.opts.signal?.removeEventListener('abort', this.onOuterAbort);
    this.closed = true;
    if (!this.own.signal.aborted)
      this.own.abort(new Error('the LLM chain no longer needs this answer'));
  }

  get provider(): string {
    return this.link.provider;
  }

  attempt(
    emitted: boolean,
    ev: Exclude<LinkEvent, { type: 'piece' | 'aborted' }> | { type: 'stopped' },
  ): LlmAttempt {
    const base = {
      provider: this.link.provider,
      ms: this.elapsed(),
      ...(this.firstTokenMs !== undefined ? { firstTokenMs: this.firstTokenMs } : {}),
    };
    if (ev.type === 'end') {
      return emitted
        ? { ...base, ok: true }
        : { ...base, ok: false, kind: 'empty', reason: 'empty: the answer had no text' };
    }
    if (ev.type === 'stopped') {
      const reason = this.opts.signal?.aborted
        ? 'aborted: the answer was no longer wanted'
        : 'stopped: the reader stopped reading';
      return { ...base, ok: emitted, kind: 'aborted', reason };
    }
    const reason = `${ev.kind}: ${ev.reason}`;
    // Served but cut short: ok (it is what the caller heard), with the reason it stopped.
    return emitted
      ? { ...base, ok: true, kind: ev.kind, reason }
      : { ...base, ok: false, kind: ev.kind, reason };
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.started);
  }
}
