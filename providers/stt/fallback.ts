// The speech-to-text fallback, itself a SpeechToText (a chain stands wherever one recognizer
// can). The first link the gate does not pass over (the primary, or the fallback while the
// primary's breaker is open) streams live while the caller speaks, so its answer is ready
// when the caller stops; if it fails, the utterance is replayed to that link for its
// remaining tries (the primary: 3 in all, with a short backoff), then to the links after it.
// A link passed over is never replayed to. Every attempt is recorded on the transcript, the
// skipped and live ones first; when none serves, finish() rejects with a
// FallbackExhaustedError carrying them (the edge then asks the caller to repeat).
//
// A live stream cannot be replayed from the phone, so the stream keeps the utterance's PCM
// (bounded by maxUtteranceMs) and every replay gets exactly the same audio. The replays are
// the FallbackRunner's links.
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
  WarmableSpeechToText,
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

/** One recognizer of the chain with its tries for one utterance, the live one included. */
interface Link {
  stt: SpeechToText;
  tries: number;
  /** Waits before its 2nd, 3rd … try (the last value repeats). */
  backoffMs: number[];
}

interface Policy {
  /** The primary, then the fallback when there is one. */
  links: Link[];
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
    readonly primary: WarmableSpeechToText,
    readonly fallback: WarmableSpeechToText | undefined,
    options: FallbackSttOptions = {},
  ) {
    const primaryAttempts = options.primaryAttempts ?? 3;
    if (primaryAttempts < 1) throw new RangeError('primaryAttempts must be at least 1');
    const links: Link[] = [
      { stt: primary, tries: primaryAttempts, backoffMs: options.backoffMs ?? [100, 300] },
    ];
    if (fallback)
      links.push({ stt: fallback, tries: options.fallbackAttempts ?? 1, backoffMs: [] });
    this.policy = {
      links,
      maxUtteranceMs: options.maxUtteranceMs ?? 30_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 5_000,
      onAttempt: options.onAttempt,
      gate: options.gate,
    };
    for (const stt of [primary, fallback]) {
      if (isHealthCheck(stt)) options.gate?.watch?.(stt.name, stt);
    }
    this.name = fallback ? `${primary.name}>${fallback.name}` : primary.name;
  }

  /**
   * Starts an utterance at once (the edge writes its first frames right away): the live
   * stream of the first link not passed over opens in the background and the audio is kept
   * meanwhile.
   */
  start(opts: SttStreamOptions): SttStream {
    return new FallbackSttStream(this.policy, opts, true);
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    return this.start(opts);
  }

  /** Frees what the links hold loaded (engines, their processes). */
  dispose(): void {
    this.primary.dispose?.();
    this.fallback?.dispose?.();
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
  /** The first link asked: those before it were passed over when the utterance started. */
  private first = 0;
  private live?: Promise<SttStream | undefined>;
  private liveStream?: SttStream;
  private liveError?: unknown;
  private liveStartedAt = 0;
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
    const primary = this.policy.links[0]!.stt.name;
    this.aborter.abort(new ProviderError(primary, 'aborted', 'recognition was aborted'));
    this.liveStream?.abort();
  }

  private get signal(): AbortSignal {
    return this.aborter.signal;
  }

  private get liveLink(): Link | undefined {
    return this.live ? this.policy.links[this.first] : undefined;
  }

  /** Opens the live stream on the first link the gate does not pass over. */
  private openLive(): void {
    const { links, gate } = this.policy;
    for (; this.first < links.length; this.first++) {
      const { name } = links[this.first]!.stt;
      const skip = gate?.skipReason(name);
      if (skip === undefined) break;
      this.record({ provider: name, ok: false, ms: 0, kind: 'skipped', reason: skip });
    }
    const link = links[this.first];
    if (!link) return;
    this.liveStartedAt = performance.now();
    this.live = link.stt
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
    const liveLink = this.liveLink;
    if (liveLink) {
      const live = await this.settleLive(liveLink);
      if ('transcript' in live) {
        this.fellBack(liveLink.stt.name);
        return live.transcript;
      }
      liveError = live.error;
    }
    this.signal.throwIfAborted();
    const links = this.replayLinks(liveError);
    // The live stream was its link's first try: a replay of that link waits a backoff step.
    if (liveLink && liveError?.retryable && liveLink.tries > 1) {
      await pause(liveLink.backoffMs[0] ?? 0, this.signal);
      this.signal.throwIfAborted();
    }
    if (links.length === 0) {
      this.fellBack(undefined);
      throw new FallbackExhaustedError(FAMILY, this.attempts);
    }
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

  /** The replays, from the first link asked on: of the live one, its remaining tries. */
  private replayLinks(liveError?: ProviderError): FallbackLink<SpeechToText>[] {
    const timeoutMs = this.policy.attemptTimeoutMs;
    return this.policy.links.slice(this.first).flatMap((link, i) => {
      const afterLive = i === 0 && liveError !== undefined;
      const tries = !afterLive ? link.tries : liveError.retryable ? link.tries - 1 : 0;
      if (tries < 1) return [];
      const backoffMs =
        afterLive && link.backoffMs.length > 1 ? link.backoffMs.slice(1) : link.backoffMs;
      return [{ provider: link.stt.name, port: link.stt, tries, backoffMs, timeoutMs }];
    });
  }

  /**
   * An utterance settled without the runner (which tells the gate of those it settles): one
   * that failed or was passed over at its start fell back.
   */
  private fellBack(servedBy: string | undefined): void {
    const failed = this.attempts.filter((a) => !a.ok);
    if (failed.length > 0) this.policy.gate?.fellBack?.(failed, servedBy);
  }

  /** The live attempt, recorded: the transcript, or why its link failed. */
  private async settleLive(
    link: Link,
  ): Promise<{ transcript: Transcript } | { error: ProviderError }> {
    const provider = link.stt.name;
    const stream = await this.live;
    let error = this.liveError;
    if (stream && error === undefined) {
      try {
        const t = await withTimeout(
          stream.finish(),
          stream,
          this.policy.attemptTimeoutMs,
          provider,
        );
        this.record({ provider, ok: true, ms: this.liveMs() });
        return { transcript: this.transcript(t) };
      } catch (err) {
        error = err;
      }
    } else {
      stream?.abort();
    }
    this.signal.throwIfAborted();
    const e = ProviderError.from(provider, error);
    this.record({ provider, ok: false, ms: this.liveMs(), kind: e.kind, reason: e.message });
    return { error: e };
  }

  private async replay(stt: SpeechToText, audio: Int16Array, signal: AbortSignal) {
    const { sampleRate, hints, closedQuestion, overAgent } = this.opts;
    const stream = await stt.open({ sampleRate, hints, closedQuestion, overAgent, signal });
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
