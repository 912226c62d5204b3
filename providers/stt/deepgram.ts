// Deepgram live streaming (Listen v1 WebSocket) through the official SDK (@deepgram/sdk 5).
// One WebSocket per utterance: opened when the caller starts speaking, audio streamed as it
// arrives, `Finalize` when the edge's endpointer decides the caller stopped (the server
// answers with the remaining final Results, marked from_finalize), then `CloseStream`.
// Interim Results go to onPartial; final Results (is_final) are joined into the transcript.
//
// Failures are ProviderErrors: a refused handshake carries an HTTP status (401/403 →
// bad_input, final; 429 → rate_limited; 5xx → unavailable); a close during the stream or a
// socket error → unavailable, no answer in time → timeout; close code 1008 (Deepgram: the
// payload is not audio in the declared encoding) → bad_input.
//
// The API key comes from DEEPGRAM_API_KEY only. Deepgram cannot be reached from this
// machine: the tests run this adapter against a local server replaying Deepgram's
// documented live protocol (test/fixtures/deepgram).
import { DeepgramClient, DeepgramError, type listen } from '@deepgram/sdk';
import { pcmToMulaw } from '../../audio/mulaw';
import type { HealthCheck } from '../health-check';
import { ProviderError } from '../provider-error';
import type { PcmAudio, SpeechToText, SttStream, SttStreamOptions, Transcript } from './port';

export interface DeepgramSttOptions {
  /** Defaults to process.env.DEEPGRAM_API_KEY. */
  apiKey?: string;
  /** WebSocket base URL; defaults to Deepgram's production endpoint. */
  baseUrl?: string;
  model?: string;
  language?: string;
  /**
   * Deepgram's own endpointing (ms of silence before it finalises a segment) or false.
   * The edge's endpointer decides when the utterance ends; this only makes segments final
   * earlier, so less is left to flush at Finalize.
   */
  endpointingMs?: number | false;
  /**
   * 'mulaw' sends the phone line's own G.711 bytes (half the bandwidth of PCM, no loss:
   * the PCM came from μ-law); only at 8 kHz. 'linear16' sends the PCM as is.
   */
  encoding?: 'mulaw' | 'linear16';
  connectTimeoutMs?: number;
  /** How long finish() waits for the final Results after Finalize. */
  finalizeTimeoutMs?: number;
}

const MAX_KEYTERMS = 100;
const PROVIDER = 'deepgram';

/** What both Deepgram adapters check before a request: a key and a usable sample rate. */
export function checkDeepgramRequest(apiKey: string | undefined, sampleRate: number): void {
  if (!apiKey) throw new ProviderError(PROVIDER, 'bad_input', 'DEEPGRAM_API_KEY is not set');
  if (!Number.isInteger(sampleRate) || sampleRate < 8000) {
    throw new ProviderError(PROVIDER, 'bad_input', `unsupported sample rate ${sampleRate}`);
  }
}

/** Hints as Deepgram keyterms: trimmed, non-empty, at most 100. */
export const deepgramKeyterms = (hints: string[] = []): string[] =>
  hints
    .map((h) => h.trim())
    .filter(Boolean)
    .slice(0, MAX_KEYTERMS);

type Socket = Awaited<ReturnType<DeepgramClient['listen']['v1']['connect']>>;
type Message =
  | listen.ListenV1Results
  | listen.ListenV1Metadata
  | listen.ListenV1UtteranceEnd
  | listen.ListenV1SpeechStarted;

interface Segment {
  text: string;
  confidence: number;
  duration: number;
}

export class DeepgramSpeechToText implements SpeechToText, HealthCheck {
  readonly name = PROVIDER;
  private readonly opts: Required<Omit<DeepgramSttOptions, 'apiKey' | 'baseUrl'>> &
    Pick<DeepgramSttOptions, 'apiKey' | 'baseUrl'>;

  private client?: DeepgramClient;
  private rest?: DeepgramClient;

  constructor(options: DeepgramSttOptions = {}) {
    this.opts = {
      apiKey: options.apiKey ?? process.env.DEEPGRAM_API_KEY,
      baseUrl: options.baseUrl,
      model: options.model ?? 'nova-3',
      language: options.language ?? 'en-US',
      endpointingMs: options.endpointingMs ?? 300,
      encoding: options.encoding ?? 'mulaw',
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      finalizeTimeoutMs: options.finalizeTimeoutMs ?? 3000,
    };
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    checkDeepgramRequest(this.opts.apiKey, opts.sampleRate);
    const encoding =
      this.opts.encoding === 'mulaw' && opts.sampleRate === 8000 ? 'mulaw' : 'linear16';
    const socket = await this.connect(encoding, opts);
    const stream = new DeepgramStream(socket, encoding, this.opts.finalizeTimeoutMs);
    await stream.connect(this.opts.connectTimeoutMs);
    opts.signal?.addEventListener('abort', () => stream.abort(), { once: true });
    return stream;
  }

  /**
   * The health check: `GET /v1/projects` (Management API), free and without side effects,
   * on the same host as the live socket (its REST scheme).
   */
  async check(signal: AbortSignal): Promise<void> {
    const base = this.opts.baseUrl?.replace(/^ws(s?):/, 'http$1:');
    this.rest ??= new DeepgramClient({ apiKey: this.opts.apiKey, ...(base && { baseUrl: base }) });
    try {
      await this.rest.manage.v1.projects.list({ abortSignal: signal, maxRetries: 0 });
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      if (err instanceof DeepgramError && err.statusCode !== undefined) {
        throw ProviderError.fromStatus(
          PROVIDER,
          err.statusCode,
          `deepgram: HTTP ${err.statusCode}`,
        );
      }
      throw ProviderError.from(PROVIDER, err);
    }
  }

  /** The SDK's socket, not yet connected (an SDK error is a ProviderError like any other). */
  private async connect(encoding: 'mulaw' | 'linear16', opts: SttStreamOptions): Promise<Socket> {
    this.client ??= new DeepgramClient({ apiKey: this.opts.apiKey, baseUrl: this.opts.baseUrl });
    const keyterm = deepgramKeyterms(opts.hints);
    try {
      return await this.client.listen.v1.connect({
        model: this.opts.model,
        language: this.opts.language,
        encoding,
        sample_rate: opts.sampleRate,
        channels: 1,
        interim_results: 'true',
        punctuate: 'true',
        endpointing: this.opts.endpointingMs === false ? 'false' : this.opts.endpointingMs,
        ...(keyterm.length ? { keyterm } : {}),
        // Retries are the session's policy (fallback.ts), with the utterance's audio kept;
        // the SDK's own reconnect would silently drop what was sent before it.
        reconnectAttempts: 0,
        connectionTimeoutInSeconds: this.opts.connectTimeoutMs / 1000,
        abortSignal: opts.signal,
      });
    } catch (err) {
      throw ProviderError.from(PROVIDER, err);
    }
  }

  async transcribe(audio: PcmAudio, opts: { hints?: string[] } = {}): Promise<Transcript> {
    const stream = await this.open({ sampleRate: audio.sampleRate, hints: opts.hints });
    stream.write(audio.samples);
    return stream.finish();
  }
}

/** A refused handshake shows up as ws's "Unexpected server response: 401". */
function errorFromSocket(err: Error): ProviderError {
  const status = /Unexpected server response: (\d{3})/.exec(err.message)?.[1];
  if (status) {
    return ProviderError.fromStatus(
      PROVIDER,
      Number(status),
      `deepgram refused the connection: HTTP ${status}`,
    );
  }
  return new ProviderError(PROVIDER, 'unavailable', `deepgram socket error: ${err.message}`, {
    cause: err,
  });
}

function errorFromClose(code: number, reason: string): ProviderError {
  const why = `deepgram closed the stream: ${code}${reason ? ` ${reason}` : ''}`;
  return new ProviderError(PROVIDER, code === 1008 ? 'bad_input' : 'unavailable', why);
}

function aborted(): ProviderError {
  return new ProviderError(PROVIDER, 'aborted', 'stream was aborted');
}

/**
 * finish() is idempotent (a second call returns the same promise); writes after finish()
 * or abort() are dropped; finish() after abort() rejects. A failure during the stream is
 * kept and thrown by finish().
 */
class DeepgramStream implements SttStream {
  onPartial?: (text: string) => void;
  private readonly finals: Segment[] = [];
  private state: 'connecting' | 'open' | 'finishing' | 'done' | 'aborted' = 'connecting';
  private error?: ProviderError;
  private result?: Promise<Transcript>;
  /** Settles when the server has answered Finalize, closed, or failed. */
  private finalized?: () => void;
  private closed?: () => void;
  /**
   * A send on a socket the server is closing fails before the close event says why; the
   * send's error stands only if no close or error event explains it.
   */
  private sendError?: ProviderError;
  private readonly socketClosed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly encoding: 'mulaw' | 'linear16',
    private readonly finalizeTimeoutMs: number,
  ) {
    socket.on('message', (m: Message) => this.onMessage(m));
    socket.on('error', (err: Error) => this.fail(errorFromSocket(err)));
    let closed!: () => void;
    this.socketClosed = new Promise((resolve) => (closed = resolve));
    socket.on('close', (ev: { code: number; reason?: string }) => {
      closed();
      this.closed?.();
      // A close we did not ask for is a failure unless the final answer already came.
      if (this.state === 'done' || this.state === 'aborted') return;
      if (this.state === 'finishing' && ev.code === 1000) this.finalized?.();
      else if (this.state === 'connecting') {
        // A refused handshake reports the close first and the error with the HTTP status
        // just after: give the error the chance to be the recorded cause.
        setTimeout(() => this.fail(errorFromClose(ev.code, ev.reason ?? '')), 20);
      } else this.fail(errorFromClose(ev.code, ev.reason ?? ''));
    });
  }

  async connect(timeoutMs: number): Promise<void> {
    this.socket.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        // An abort while connecting has no failure recorded: reject all the same.
        this.finalized = () => reject(this.error ?? aborted());
        timer = setTimeout(() => {
          this.fail(
            new ProviderError(PROVIDER, 'timeout', `deepgram did not answer in ${timeoutMs} ms`),
          );
        }, timeoutMs);
        this.socket.waitForOpen().then(
          () => resolve(),
          () => undefined,
        );
      });
      this.state = 'open';
    } catch (err) {
      this.socket.close();
      throw err;
    } finally {
      clearTimeout(timer);
      this.finalized = undefined;
    }
  }

  write(pcm: Int16Array): void {
    if (this.state !== 'open' || this.error || this.sendError || pcm.length === 0) return;
    const bytes =
      this.encoding === 'mulaw'
        ? pcmToMulaw(pcm)
        : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    try {
      this.socket.sendMedia(bytes);
    } catch (err) {
      this.sendError ??= errorFromSocket(err as Error);
    }
  }

  finish(): Promise<Transcript> {
    if (this.result) return this.result;
    if (this.state === 'aborted') return Promise.reject(aborted());
    this.result = this.end();
    return this.result;
  }

  abort(): void {
    if (this.state === 'done' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.finalized?.();
    this.socket.close();
  }

  private async end(): Promise<Transcript> {
    if (!this.error && !this.sendError) {
      this.state = 'finishing';
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.finalized = resolve;
        timer = setTimeout(() => {
          this.fail(
            new ProviderError(PROVIDER, 'timeout', 'deepgram sent no final result in time'),
          );
        }, this.finalizeTimeoutMs);
        try {
          this.socket.sendFinalize({ type: 'Finalize' });
        } catch (err) {
          this.sendError ??= errorFromSocket(err as Error);
          resolve();
        }
      });
      clearTimeout(timer);
      this.finalized = undefined;
    }
    if (this.sendError && !this.error) {
      await Promise.race([this.socketClosed, new Promise((r) => setTimeout(r, 500))]);
    }
    const error = this.error ?? this.sendError;
    this.state = 'done';
    if (error) {
      this.socket.close();
      throw error;
    }
    this.closeGracefully();
    const text = this.finals
      .map((s) => s.text)
      .filter(Boolean)
      .join(' ');
    // Duration-weighted mean of the final segments' confidences (Deepgram's are in [0, 1]).
    const spoken = this.finals.filter((s) => s.text);
    const weight = spoken.reduce((w, s) => w + Math.max(s.duration, 1e-3), 0);
    const confidence = weight
      ? spoken.reduce((c, s) => c + s.confidence * Math.max(s.duration, 1e-3), 0) / weight
      : 0;
    return { text, confidence: Math.min(1, Math.max(0, confidence)), provider: PROVIDER };
  }

  /**
   * CloseStream lets Deepgram send its Metadata and close the socket itself; the transcript
   * is already complete, so the caller does not wait for that.
   */
  private closeGracefully(): void {
    const timer = setTimeout(() => this.socket.close(), 1000);
    this.closed = () => clearTimeout(timer);
    try {
      this.socket.sendCloseStream({ type: 'CloseStream' });
    } catch {
      clearTimeout(timer);
      this.socket.close();
    }
  }

  private onMessage(m: Message): void {
    if (m.type !== 'Results') return;
    const alt = m.channel?.alternatives?.[0];
    const text = (alt?.transcript ?? '').trim();
    if (m.is_final) {
      this.finals.push({ text, confidence: alt?.confidence ?? 0, duration: m.duration ?? 0 });
      if (m.from_finalize) this.finalized?.();
    } else if (this.state === 'open' && this.onPartial) {
      const sofar = [...this.finals.map((s) => s.text), text].filter(Boolean).join(' ');
      this.onPartial(sofar);
    }
  }

  private fail(err: ProviderError): void {
    if (this.state === 'done' || this.state === 'aborted') return;
    this.error ??= err;
    this.finalized?.();
  }
}
