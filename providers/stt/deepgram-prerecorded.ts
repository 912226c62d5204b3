// Deepgram pre-recorded transcription (REST `POST /v1/listen`) through the official SDK
// (@deepgram/sdk 5, listen.v1.media.transcribeFile): a whole recording in one request, for
// the post-call batch transcript. The audio goes up as a mono 16-bit WAV (Deepgram reads
// the container's header, so no encoding parameters are needed). Streaming (open) is the
// live adapter's: the pre-recorded API has no stream.
//
// Failures are ProviderErrors by HTTP status (401/403/400 → bad_input, final; 429 →
// rate_limited; 5xx → unavailable); a timeout → timeout, a network error → unavailable.
// The SDK's own retries are off: Temporal retries the activity.
//
// The API key comes from DEEPGRAM_API_KEY only. Deepgram cannot be reached from this
// machine: the tests replay recorded exchanges of the documented REST protocol on a local
// HTTP server (test/fixtures/deepgram/prerecorded-*.json).
import { DeepgramClient, DeepgramError, DeepgramTimeoutError } from '@deepgram/sdk';
import { encodeWav } from '../../audio/wav';
import { ProviderError } from '../provider-error';
import type { PcmAudio, SpeechToText, SttStream, SttStreamOptions, Transcript } from './port';
import {
  checkDeepgramRequest,
  deepgramKeyterms,
  DeepgramSpeechToText,
  type DeepgramSttOptions,
} from './deepgram';

export interface DeepgramPrerecordedOptions {
  /** Defaults to process.env.DEEPGRAM_API_KEY. */
  apiKey?: string;
  /** HTTP base URL of the REST API; defaults to https://api.deepgram.com. */
  baseUrl?: string;
  model?: string;
  language?: string;
  /** Per request; a long recording takes a few seconds. */
  timeoutMs?: number;
  /** Options of the live adapter that serves open(). */
  live?: DeepgramSttOptions;
}

/** The part of Deepgram's pre-recorded response this adapter reads (ListenV1Response). */
interface PrerecordedResponse {
  results?: {
    channels?: { alternatives?: { transcript?: string; confidence?: number }[] }[];
  };
  /** Present instead of results when a callback was asked for (never by this adapter). */
  request_id?: string;
}

const PROVIDER = 'deepgram';

export class DeepgramPrerecordedSpeechToText implements SpeechToText {
  readonly name = PROVIDER;
  private readonly opts: Required<Omit<DeepgramPrerecordedOptions, 'apiKey' | 'baseUrl' | 'live'>> &
    Pick<DeepgramPrerecordedOptions, 'apiKey' | 'baseUrl' | 'live'>;
  private client?: DeepgramClient;
  private live?: DeepgramSpeechToText;

  constructor(options: DeepgramPrerecordedOptions = {}) {
    this.opts = {
      apiKey: options.apiKey ?? process.env.DEEPGRAM_API_KEY,
      baseUrl: options.baseUrl,
      model: options.model ?? 'nova-3',
      language: options.language ?? 'en-US',
      timeoutMs: options.timeoutMs ?? 60_000,
      live: options.live,
    };
  }

  open(opts: SttStreamOptions): Promise<SttStream> {
    this.live ??= new DeepgramSpeechToText({ apiKey: this.opts.apiKey, ...this.opts.live });
    return this.live.open(opts);
  }

  async transcribe(audio: PcmAudio, opts: { hints?: string[] } = {}): Promise<Transcript> {
    checkDeepgramRequest(this.opts.apiKey, audio.sampleRate);
    if (audio.samples.length === 0) return { text: '', confidence: 0, provider: this.name };
    this.client ??= new DeepgramClient({
      apiKey: this.opts.apiKey,
      ...(this.opts.baseUrl && { baseUrl: this.opts.baseUrl }),
    });
    const keyterm = deepgramKeyterms(opts.hints);
    const wav = encodeWav({ channels: [audio.samples], sampleRate: audio.sampleRate });
    let body: PrerecordedResponse;
    try {
      body = await this.client.listen.v1.media.transcribeFile(
        wav,
        {
          model: this.opts.model,
          language: this.opts.language,
          punctuate: true,
          smart_format: true,
          ...(keyterm.length && { keyterm }),
        },
        { timeoutInSeconds: this.opts.timeoutMs / 1000, maxRetries: 0 },
      );
    } catch (err) {
      throw errorFromRest(err);
    }
    const alt = body.results?.channels?.[0]?.alternatives?.[0];
    if (!alt) {
      throw new ProviderError(this.name, 'unavailable', 'deepgram answered without results');
    }
    const confidence = Math.min(1, Math.max(0, alt.confidence ?? 0));
    return { text: (alt.transcript ?? '').trim(), confidence, provider: this.name };
  }
}

function errorFromRest(err: unknown): ProviderError {
  if (err instanceof DeepgramTimeoutError) {
    return new ProviderError(PROVIDER, 'timeout', `deepgram timed out: ${err.message}`, {
      cause: err,
    });
  }
  if (err instanceof DeepgramError && err.statusCode !== undefined) {
    const detail = describeBody(err.body);
    return ProviderError.fromStatus(
      PROVIDER,
      err.statusCode,
      `deepgram refused the request: HTTP ${err.statusCode}${detail ? ` (${detail})` : ''}`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(PROVIDER, 'unavailable', `deepgram request failed: ${message}`, {
    cause: err,
  });
}

/** Deepgram's error body: { err_code, err_msg, request_id }. */
function describeBody(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { err_code?: unknown; err_msg?: unknown };
    return [b.err_code, b.err_msg].filter((x) => typeof x === 'string').join(': ');
  }
  return '';
}
