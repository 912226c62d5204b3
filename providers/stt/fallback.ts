// The ASR session policy for one utterance, as data: the primary
// provider streams live; if it fails, it is retried with a short backoff (3 attempts in
// all), then the fallback provider gets the utterance; if both fail, the result says so and
// the call goes on (the caller is asked to repeat). Every attempt is recorded: which
// provider served, and why the others did not.
//
// A live stream cannot be replayed from the phone, so the session keeps the utterance's PCM
// (bounded by maxUtteranceMs) and retries and the fallback get exactly the same audio.
import { ApplicationFailure } from '@temporalio/common';
import type { PcmAudio, SpeechToText, SttStream, SttStreamOptions, Transcript } from './port';

export interface SttAttempt {
  provider: string;
  ok: boolean;
  /** 'live' for the stream fed while the caller spoke, 'replay' for one fed the kept audio. */
  kind: 'live' | 'replay';
  ms: number;
  /** Why it failed: the failure type (ApplicationFailure.type) or error name, and message. */
  error?: string;
}

export interface RecognitionResult {
  /** Absent when no provider could recognise the utterance. */
  transcript?: Transcript;
  servedBy?: string;
  attempts: SttAttempt[];
  /** The utterance was longer than maxUtteranceMs; retries got its first part only. */
  truncated?: boolean;
}

export interface FallbackOptions {
  /** Tries of the primary for one utterance, the live stream included (default 3). */
  primaryAttempts?: number;
  /** Waits before the 2nd, 3rd … primary attempt (the last value repeats). */
  backoffMs?: number[];
  /** Tries of the fallback provider (default 1). */
  fallbackAttempts?: number;
  /** Audio kept for retries; beyond it the utterance is truncated (default 30 s). */
  maxUtteranceMs?: number;
  /** Bound on one replay attempt, from open to final transcript (default 5 s). */
  attemptTimeoutMs?: number;
  /** Called after every attempt (an activity heartbeats or logs it). */
  onAttempt?: (attempt: SttAttempt) => void;
}

type Policy = Required<Omit<FallbackOptions, 'onAttempt'>> & Pick<FallbackOptions, 'onAttempt'>;

export class FallbackSpeechToText {
  private readonly opts: Policy;

  constructor(
    readonly primary: SpeechToText,
    readonly fallback: SpeechToText | undefined,
    options: FallbackOptions = {},
  ) {
    this.opts = {
      primaryAttempts: options.primaryAttempts ?? 3,
      backoffMs: options.backoffMs ?? [100, 300],
      fallbackAttempts: options.fallbackAttempts ?? 1,
      maxUtteranceMs: options.maxUtteranceMs ?? 30_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 5_000,
      onAttempt: options.onAttempt,
    };
    if (this.opts.primaryAttempts < 1) throw new RangeError('primaryAttempts must be at least 1');
  }

  /** Starts an utterance: the primary's live stream opens now, audio is kept as it comes. */
  open(opts: SttStreamOptions): RecognitionSession {
    return new RecognitionSession(this, opts, this.opts);
  }

  /** A whole utterance at once (post-call, tests): the same policy, no live stream. */
  async recognize(
    audio: PcmAudio,
    opts: { hints?: string[]; signal?: AbortSignal } = {},
  ): Promise<RecognitionResult> {
    const session = new RecognitionSession(
      this,
      { sampleRate: audio.sampleRate, ...opts },
      this.opts,
      false,
    );
    session.write(audio.samples);
    return session.finish();
  }
}

function describe(err: unknown): string {
  if (err instanceof ApplicationFailure)
    return `${err.type ?? 'ApplicationFailure'}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** Failures that another try of the same provider cannot fix (bad key, bad input). */
function isFinal(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.nonRetryable === true;
}

/**
 * One utterance under the policy. write() keeps the audio and feeds the live stream;
 * finish() settles the live attempt, then runs retries and the fallback as needed. finish()
 * is idempotent; abort() ends the live stream and any attempt in flight.
 */
export class RecognitionSession {
  onPartial?: (text: string) => void;
  private readonly kept: Int16Array[] = [];
  private keptSamples = 0;
  private readonly maxSamples: number;
  private truncated = false;
  private readonly attempts: SttAttempt[] = [];
  private readonly aborter = new AbortController();
  private live?: Promise<SttStream | undefined>;
  private liveStream?: SttStream;
  private liveError?: unknown;
  private liveStartedAt = 0;
  private result?: Promise<RecognitionResult>;

  constructor(
    private readonly owner: FallbackSpeechToText,
    private readonly opts: SttStreamOptions,
    private readonly policy: Policy,
    streamLive = true,
  ) {
    this.maxSamples = Math.round((policy.maxUtteranceMs * opts.sampleRate) / 1000);
    opts.signal?.addEventListener('abort', () => this.abort(), { once: true });
    if (streamLive) this.openLive();
  }

  write(pcm: Int16Array): void {
    if (this.result || this.aborter.signal.aborted || pcm.length === 0) return;
    const room = this.maxSamples - this.keptSamples;
    const chunk = pcm.length > room ? pcm.slice(0, Math.max(0, room)) : pcm.slice();
    if (chunk.length < pcm.length) this.truncated = true;
    if (chunk.length === 0) return;
    this.kept.push(chunk);
    this.keptSamples += chunk.length;
    if (this.liveStream && !this.liveError) this.feed(this.liveStream, chunk);
  }

  finish(): Promise<RecognitionResult> {
    this.result ??= this.run();
    return this.result;
  }

  abort(): void {
    if (this.aborter.signal.aborted) return;
    this.aborter.abort();
    this.liveStream?.abort();
  }

  private get signal(): AbortSignal {
    return this.aborter.signal;
  }

  private openLive(): void {
    const primary = this.owner.primary;
    this.liveStartedAt = performance.now();
    this.live = primary
      .open({ ...this.opts, signal: this.signal })
      .then((stream) => {
        if (this.signal.aborted) {
          stream.abort();
          return undefined;
        }
        stream.onPartial = (text) => this.onPartial?.(text);
        this.liveStream = stream;
        // Audio that arrived while the stream was opening goes first, in order.
        for (const chunk of this.kept) this.feed(stream, chunk);
        return stream;
      })
      .catch((err: unknown) => {
        this.liveError = err;
        return undefined;
      });
  }

  private feed(stream: SttStream, chunk: Int16Array): void {
    try {
      stream.write(chunk);
    } catch (err) {
      this.liveError ??= err;
    }
  }

  private record(
    provider: string,
    kind: SttAttempt['kind'],
    startedAt: number,
    error?: unknown,
  ): void {
    const attempt: SttAttempt = {
      provider,
      ok: error === undefined,
      kind,
      ms: Math.round(performance.now() - startedAt),
    };
    if (error !== undefined) attempt.error = describe(error);
    this.attempts.push(attempt);
    this.policy.onAttempt?.(attempt);
  }

  private done(transcript?: Transcript): RecognitionResult {
    const result: RecognitionResult = { attempts: this.attempts };
    if (transcript) {
      result.transcript = transcript;
      result.servedBy = transcript.provider;
    }
    if (this.truncated) result.truncated = true;
    return result;
  }

  private async run(): Promise<RecognitionResult> {
    const { primary, fallback } = this.owner;
    let primaryTries = 0;
    let lastError: unknown;
    if (this.live) {
      primaryTries++;
      const stream = await this.live;
      if (stream && !this.liveError) {
        try {
          const t = await this.withTimeout(stream.finish(), stream, this.policy.attemptTimeoutMs);
          this.record(primary.name, 'live', this.liveStartedAt);
          return this.done(t);
        } catch (err) {
          lastError = err;
        }
      } else {
        stream?.abort();
        lastError = this.liveError;
      }
      if (this.signal.aborted) return this.done();
      this.record(primary.name, 'live', this.liveStartedAt, lastError);
    }
    const audio = this.audio();
    while (
      primaryTries < this.policy.primaryAttempts &&
      !isFinal(lastError) &&
      !this.signal.aborted
    ) {
      if (primaryTries > 0) await this.sleep(this.backoff(primaryTries - 1));
      if (this.signal.aborted) break;
      primaryTries++;
      const r = await this.replay(primary, audio);
      if (r.transcript) return this.done(r.transcript);
      lastError = r.error;
    }
    if (fallback) {
      for (let i = 0; i < this.policy.fallbackAttempts && !this.signal.aborted; i++) {
        const r = await this.replay(fallback, audio);
        if (r.transcript) return this.done(r.transcript);
        if (isFinal(r.error)) break;
      }
    }
    return this.done();
  }

  private async replay(
    stt: SpeechToText,
    audio: Int16Array,
  ): Promise<{ transcript?: Transcript; error?: unknown }> {
    const startedAt = performance.now();
    let stream: SttStream | undefined;
    try {
      stream = await stt.open({
        sampleRate: this.opts.sampleRate,
        hints: this.opts.hints,
        signal: this.signal,
      });
      stream.write(audio);
      const transcript = await this.withTimeout(
        stream.finish(),
        stream,
        this.policy.attemptTimeoutMs,
      );
      this.record(stt.name, 'replay', startedAt);
      return { transcript };
    } catch (err) {
      stream?.abort();
      this.record(stt.name, 'replay', startedAt, err);
      return { error: err };
    }
  }

  private withTimeout<T>(p: Promise<T>, stream: SttStream, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stream.abort();
        reject(new Error(`no transcript within ${Math.round(ms)} ms`));
      }, ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private backoff(i: number): number {
    const b = this.policy.backoffMs;
    return b.length ? b[Math.min(i, b.length - 1)]! : 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0 || this.signal.aborted) return resolve();
      const signal = this.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private audio(): Int16Array {
    const out = new Int16Array(this.keptSamples);
    let at = 0;
    for (const c of this.kept) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
