// A SpeechToText for tests: scripted transcripts, one per utterance, and failures on demand
// (a ProviderError of a given kind, on open or on finish, for the first n utterances), with
// an optional delay before each answer. It keeps what it heard, so a test can check that a
// retry got the same audio, and counts the samples its streams were written as they arrive,
// so a test can tell a live stream from a replay at finish.
import type { ProviderErrorKind } from '../../contracts/providers';
import { pause } from '../pause';
import { ProviderError } from '../provider-error';
import type { PcmAudio, SpeechToText, SttStream, SttStreamOptions, Transcript } from './port';

export interface FakeSttFailure {
  kind: ProviderErrorKind;
  /** Where the utterance fails: opening the stream, or at its end (default). */
  on?: 'open' | 'finish';
  /** Fails this many utterances, then answers (default: every one). */
  times?: number;
  message?: string;
}

export interface FakeSttOptions {
  name?: string;
  /** The text of each answered utterance in order; the last one repeats (default ''). */
  transcripts?: string[];
  confidence?: number;
  fail?: FakeSttFailure;
  /** Wait before each answer or failure at finish (the stream's signal cuts it short). */
  delayMs?: number;
  /** Interim hypotheses, one reported per write while a stream is open (as a streaming engine). */
  partials?: string[];
}

export class FakeSpeechToText implements SpeechToText {
  readonly name: string;
  /** Utterances asked of it (opened or transcribed), answered or not. */
  requests = 0;
  /** The audio of every utterance that reached its end, in order. */
  readonly heard: Int16Array[] = [];
  /** Samples written to its streams so far (counted on write, before any finish). */
  samplesWritten = 0;
  private answered = 0;
  private failed = 0;
  private live = 0;

  constructor(private readonly opts: FakeSttOptions = {}) {
    this.name = opts.name ?? 'fake';
  }

  get partials(): readonly string[] {
    return this.opts.partials ?? [];
  }

  /** Streams opened and neither finished nor aborted. */
  get openStreams(): number {
    return this.live;
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    this.requests++;
    if (opts.signal?.aborted) throw new ProviderError(this.name, 'aborted', 'aborted');
    if (this.opts.fail?.on === 'open' && this.failing()) throw this.failure();
    this.live++;
    return new FakeStream(this, opts.signal, () => this.live--);
  }

  async transcribe(audio: PcmAudio): Promise<Transcript> {
    this.requests++;
    if (this.opts.fail?.on === 'open' && this.failing()) throw this.failure();
    return this.answer(audio.samples);
  }

  /** The end of one utterance: after the delay, its scripted answer or the failure. */
  async answer(audio: Int16Array, signal?: AbortSignal): Promise<Transcript> {
    if (this.opts.delayMs) await pause(this.opts.delayMs, signal);
    if (signal?.aborted) throw new ProviderError(this.name, 'aborted', 'stream was aborted');
    this.heard.push(audio);
    if (this.opts.fail && this.opts.fail.on !== 'open' && this.failing()) throw this.failure();
    const script = this.opts.transcripts ?? [''];
    const text = script[Math.min(this.answered++, script.length - 1)] ?? '';
    return { text, confidence: text ? (this.opts.confidence ?? 0.9) : 0, provider: this.name };
  }

  /** Counts the failure when this utterance is to fail. */
  private failing(): boolean {
    const times = this.opts.fail?.times ?? Infinity;
    if (this.failed >= times) return false;
    this.failed++;
    return true;
  }

  private failure(): ProviderError {
    const { kind, message } = this.opts.fail!;
    return new ProviderError(this.name, kind, message ?? `${this.name} failed (${kind})`);
  }
}

/**
 * finish() is idempotent; writes after finish() or abort() are dropped; finish() after
 * abort() rejects (the port's contract, as the conformance suite holds the adapters to it).
 */
class FakeStream implements SttStream {
  onPartial?: (text: string) => void;
  private readonly parts: Int16Array[] = [];
  private result?: Promise<Transcript>;
  private readonly aborter = new AbortController();
  private closed = false;

  constructor(
    private readonly owner: FakeSpeechToText,
    signal: AbortSignal | undefined,
    private readonly close: () => void,
  ) {
    signal?.addEventListener('abort', () => this.abort(), { once: true });
  }

  write(pcm: Int16Array): void {
    if (this.result || this.aborter.signal.aborted || pcm.length === 0) return;
    this.parts.push(pcm.slice());
    this.owner.samplesWritten += pcm.length;
    const partial = this.owner.partials[this.parts.length - 1];
    if (partial !== undefined) this.onPartial?.(partial);
  }

  finish(): Promise<Transcript> {
    if (this.result) return this.result;
    if (this.aborter.signal.aborted) {
      return Promise.reject(new ProviderError(this.owner.name, 'aborted', 'stream was aborted'));
    }
    const audio = new Int16Array(this.parts.reduce((n, p) => n + p.length, 0));
    this.parts.reduce((at, p) => (audio.set(p, at), at + p.length), 0);
    this.result = this.owner.answer(audio, this.aborter.signal).finally(() => this.release());
    return this.result;
  }

  abort(): void {
    if (this.aborter.signal.aborted) return;
    this.aborter.abort();
    this.release();
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    this.close();
  }
}
