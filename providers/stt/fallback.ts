// The speech-to-text fallback, itself a SpeechToText (a chain stands wherever one recognizer
// can). The primary streams live while the caller speaks; if it fails, the utterance is
// replayed to it for its remaining tries with a short backoff (3 tries in all), then to the
// fallback provider. Every attempt is recorded on the transcript, the live one first; when
// none serves, finish() rejects with a FallbackExhaustedError carrying them (the edge then
// asks the caller to repeat).
//
// A live stream cannot be replayed from the phone, so the stream keeps the utterance's PCM
// (bounded by maxUtteranceMs) and every replay gets exactly the same audio. The replays are
// the FallbackRunner's links: the primary's remaining tries, then the fallback's.
import { isHealthCheck } from '../health-check';
import type { ProviderAttempt } from '../../contracts/providers';
import {
  FallbackExhaustedError,
  FallbackRunner,
  type FallbackGate,
  type FallbackLink,
} from '../fallback';
import { pause } from '../pause';
import { ProviderError } from '../provider-error';
import type {
  PcmAudio,
  SpeechToText,
  SttStream,
  SttStreamOptions,
  Transcript,
  TranscribeOptions,
} from './port';

export interface FallbackSttOptions {
  /** Tries of the primary for one utterance, the live stream included (default 3). */
  primaryAttempts?: number;
  /** Waits before the 2nd, 3rd … primary try (the last value repeats). */
  backoffMs?: number[];
  /** Tries of the fallback provider (default 1). */
  fallbackAttempts?: number;
  /** Audio kept for replays; beyond it the utterance is truncated (default 30 s). */
  maxUtteranceMs?: number;
  /** Bound on one replay (open to transcript) and on the live stream's finish (default 5 s). */
  attemptTimeoutMs?: number;
  /** Called after every attempt (an activity heartbeats or logs it). */
  onAttempt?: (attempt: ProviderAttempt) => void;
  /** Provider health: may pass a provider over for an utterance. */
  gate?: FallbackGate;
}

interface Policy {
  primary: SpeechToText;
  fallback?: SpeechToText;
  primaryAttempts: number;
  backoffMs: number[];
  fallbackAttempts: number;
  maxUtteranceMs: number;
  attemptTimeoutMs: number;
  onAttempt?: (attempt: ProviderAttempt) => void;
  gate?: FallbackGate;
}

const FAMILY = 'stt';

export class FallbackSpeechToText implements SpeechToText {
  readonly name: string;
  private readonly policy: Policy;

  constructor(
    readonly primary: SpeechToText,
    readonly fallback: SpeechToText | undefined,
    options: FallbackSttOptions = {},
  ) {
    this.policy = {
      primary,
      fallback,
      primaryAttempts: options.primaryAttempts ?? 3,
      backoffMs: options.backoffMs ?? [100, 300],
      fallbackAttempts: options.fallbackAttempts ?? 1,
      maxUtteranceMs: options.maxUtteranceMs ?? 30_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 5_000,
      onAttempt: options.onAttempt,
      gate: options.gate,
    };
    if (this.policy.primaryAttempts < 1) throw new RangeError('primaryAttempts must be at least 1');
    for (const stt of [primary, fallback]) {
      if (isHealthCheck(stt)) options.gate?.watch?.(stt.name, stt);
    }
    this.name = fallback ? `${primary.name}>${fallback.name}` : primary.name;
  }

  /**
   * Starts an utterance at once (the edge writes its first frames right away): the primary's
   * live stream opens in the background and the audio is kept meanwhile.
   */
  start(opts: SttStreamOptions): SttStream {
    return new FallbackSttStream(this.policy, opts, true);
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    return this.start(opts);
  }

  /** A whole recording: the same policy without a live stream. */
  async transcribe(audio: PcmAudio, opts: TranscribeOptions = {}): Promise<Transcript> {
    const stream = new FallbackSttStream(this.policy, { ...opts, sampleRate: audio.sampleRate }, false); // prettier-ignore
    stream.write(audio.samples);
    return stream.finish();
  }
}

/**
 * One utterance under the policy. write() keeps the audio and feeds the live stream;
 * finish() settles the live attempt, then replays as needed. finish() is idempotent; writes
 * after finish() or abort() are dropped; abort() ends the live stream and any replay in
 * flight, and finish() then rejects.
 */
class FallbackSttStream implements SttStream {
  onPartial?: (text: string) => void;
  private readonly kept: Int16Array[] = [];
  private keptSamples = 0;
  private readonly maxSamples: number;
  private truncated = false;
  private readonly attempts: ProviderAttempt[] = [];
  private readonly aborter = new AbortController();
  private live?: Promise<SttStream | undefined>;
  private liveStream?: SttStream;
  private liveError?: unknown;
  private liveStartedAt = 0;
  /** The gate passed the primary over: it is neither streamed to nor replayed to. */
  private primarySkipped = false;
  private result?: Promise<Transcript>;

  constructor(
    private readonly policy: Policy,
    private readonly opts: SttStreamOptions,
    streamLive: boolean,
  ) {
    this.maxSamples = Math.round((policy.maxUtteranceMs * opts.sampleRate) / 1000);
    opts.signal?.addEventListener('abort', () => this.abort(), { once: true });
    if (streamLive) this.openLive();
  }

  write(pcm: Int16Array): void {
    if (this.result || this.signal.aborted || pcm.length === 0) return;
    const room = this.maxSamples - this.keptSamples;
    const chunk = pcm.length > room ? pcm.slice(0, Math.max(0, room)) : pcm.slice();
    if (chunk.length < pcm.length) this.truncated = true;
    if (chunk.length === 0) return;
    this.kept.push(chunk);
    this.keptSamples += chunk.length;
    if (this.liveStream && !this.liveError) this.feed(this.liveStream, chunk);
  }

  finish(): Promise<Transcript> {
    if (this.result) return this.result;
    if (this.signal.aborted) return Promise.reject(this.signal.reason as Error);
    this.result = this.run();
    return this.result;
  }

  abort(): void {
    if (this.signal.aborted) return;
    const primary = this.policy.primary.name;
    this.aborter.abort(new ProviderError(primary, 'aborted', 'recognition was aborted'));
    this.liveStream?.abort();
  }

  private get signal(): AbortSignal {
    return this.aborter.signal;
  }

  private openLive(): void {
    const { primary, gate } = this.policy;
    const skip = gate?.skipReason(primary.name);
    if (skip !== undefined) {
      this.primarySkipped = true;
      this.record({ provider: primary.name, ok: false, ms: 0, kind: 'skipped', reason: skip });
      return;
    }
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

  /** The live stream's attempts (the replays' are the runner's, which tells the gate itself). */
  private record(attempt: ProviderAttempt): void {
    this.attempts.push(attempt);
    if (attempt.kind !== 'skipped') this.policy.gate?.record?.(attempt);
    this.policy.onAttempt?.(attempt);
  }

  private async run(): Promise<Transcript> {
    let liveError: ProviderError | undefined;
    if (this.live) {
      const live = await this.settleLive();
      if ('transcript' in live) return live.transcript;
      liveError = live.error;
    }
    this.signal.throwIfAborted();
    const { primary, fallback, backoffMs, attemptTimeoutMs } = this.policy;
    const links: FallbackLink<SpeechToText>[] = [];
    const primaryTries = this.primaryReplays(liveError);
    if (primaryTries > 0) {
      // The live stream was the first try: the first replay waits the first backoff step.
      if (liveError) await pause(backoffMs[0] ?? 0, this.signal);
      this.signal.throwIfAborted();
      links.push({
        provider: primary.name,
        port: primary,
        tries: primaryTries,
        backoffMs: liveError && backoffMs.length > 1 ? backoffMs.slice(1) : backoffMs,
        timeoutMs: attemptTimeoutMs,
      });
    }
    if (fallback) {
      links.push({
        provider: fallback.name,
        port: fallback,
        tries: this.policy.fallbackAttempts,
        timeoutMs: attemptTimeoutMs,
      });
    }
    if (links.length === 0) throw new FallbackExhaustedError(FAMILY, this.attempts);
    const audio = this.audio();
    const runner = new FallbackRunner(FAMILY, links, this.policy.gate);
    const { value } = await runner.run((stt, call) => this.replay(stt, audio, call.signal), {
      signal: this.signal,
      attempts: this.attempts,
      onAttempt: (a) => {
        // The runner reports the very record it keeps in the attempts list.
        if (a.kind !== 'skipped') a.replay = true;
        this.policy.onAttempt?.(a);
      },
    });
    return this.transcript(value);
  }

  /** Tries of the primary on the kept audio: all of them without a live stream. */
  private primaryReplays(liveError?: ProviderError): number {
    if (this.primarySkipped) return 0;
    if (!liveError) return this.policy.primaryAttempts;
    return liveError.retryable ? this.policy.primaryAttempts - 1 : 0;
  }

  /** The live attempt, recorded: the transcript, or why the primary failed. */
  private async settleLive(): Promise<{ transcript: Transcript } | { error: ProviderError }> {
    const primary = this.policy.primary.name;
    const stream = await this.live;
    let error = this.liveError;
    if (stream && error === undefined) {
      try {
        const t = await withTimeout(stream.finish(), stream, this.policy.attemptTimeoutMs, primary);
        this.record({ provider: primary, ok: true, ms: this.liveMs() });
        return { transcript: this.transcript(t) };
      } catch (err) {
        error = err;
      }
    } else {
      stream?.abort();
    }
    this.signal.throwIfAborted();
    const e = ProviderError.from(primary, error);
    this.record({
      provider: primary,
      ok: false,
      ms: this.liveMs(),
      kind: e.kind,
      reason: e.message,
    });
    return { error: e };
  }

  private async replay(stt: SpeechToText, audio: Int16Array, signal: AbortSignal) {
    const { sampleRate, hints, closedQuestion } = this.opts;
    const stream = await stt.open({ sampleRate, hints, closedQuestion, signal });
    try {
      stream.write(audio);
      return await stream.finish();
    } catch (err) {
      stream.abort();
      throw err;
    }
  }

  private transcript(t: Transcript): Transcript {
    return { ...t, attempts: this.attempts, ...(this.truncated && { truncated: true }) };
  }

  private liveMs(): number {
    return Math.round(performance.now() - this.liveStartedAt);
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

/** The live stream's final answer, bounded: on expiry the stream is aborted. */
function withTimeout<T>(
  p: Promise<T>,
  stream: SttStream,
  ms: number,
  provider: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stream.abort();
      reject(new ProviderError(provider, 'timeout', `no transcript within ${Math.round(ms)} ms`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
