// Google Cloud Text-to-Speech over its REST API (v1 text:synthesize) with plain fetch:
// LINEAR16 at 8 kHz (a WAV in base64), companded to μ-law here. The API key comes from
// the environment (GOOGLE_TTS_API_KEY) and travels in a header, never in the URL.
import { pcmToMulaw } from '../../audio/mulaw';
import { resample } from '../../audio/resample';
import { decodeWav } from '../../audio/wav';
import type { HealthCheck } from '../health-check';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';

export interface GoogleTtsOptions {
  /** A voice name such as en-US-Neural2-F; the language code is its first two parts. */
  voiceName: string;
  endpoint: string;
  /** Google's post-processing profile for telephone playback. */
  effectsProfile?: string;
}

export const GOOGLE_TTS_DEFAULTS: GoogleTtsOptions = {
  voiceName: 'en-US-Neural2-F',
  endpoint: 'https://texttospeech.googleapis.com',
  effectsProfile: 'telephony-class-application',
};

export function googleMissingConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.GOOGLE_TTS_API_KEY ? undefined : 'no API key (GOOGLE_TTS_API_KEY)';
}

/** The documented JSON error body of Google APIs. */
interface GoogleError {
  error?: { code?: number; message?: string; status?: string };
}

export class GoogleTts implements TextToSpeech, HealthCheck {
  readonly name = 'google';
  readonly voice: string;
  private readonly opts: GoogleTtsOptions;
  private readonly apiKey: string;

  constructor(options: Partial<GoogleTtsOptions> = {}, env: NodeJS.ProcessEnv = process.env) {
    const missing = googleMissingConfig(env);
    if (missing) throw new Error(`google: ${missing}`);
    this.apiKey = env.GOOGLE_TTS_API_KEY!;
    this.opts = { ...GOOGLE_TTS_DEFAULTS, ...options };
    this.voice = `google:${this.opts.voiceName}`;
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    const body = {
      input: { text },
      voice: { languageCode: this.languageCode, name: this.opts.voiceName },
      audioConfig: {
        audioEncoding: 'LINEAR16',
        sampleRateHertz: 8000,
        ...(this.opts.effectsProfile && { effectsProfileId: [this.opts.effectsProfile] }),
      },
    };
    const json = await this.call('POST', '/v1/text:synthesize', opts.signal, body);
    const audioContent = (json as { audioContent?: unknown } | undefined)?.audioContent;
    if (typeof audioContent !== 'string' || audioContent.length === 0) {
      throw new ProviderError('google', 'unavailable', 'google: response has no audioContent');
    }
    return this.toSpeech(Buffer.from(audioContent, 'base64'));
  }

  /** The health check: `voices.list` for the voice's language, free and without side effects. */
  async check(signal: AbortSignal): Promise<void> {
    await this.call('GET', `/v1/voices?languageCode=${this.languageCode}`, signal);
  }

  private get languageCode(): string {
    return this.opts.voiceName.split('-').slice(0, 2).join('-');
  }

  /** One request with the key in its header; its JSON answer, or the error as a ProviderError. */
  private async call(
    method: 'GET' | 'POST',
    path: string,
    signal: AbortSignal | undefined,
    body?: unknown,
  ): Promise<unknown> {
    let res: Response;
    let json: unknown;
    try {
      res = await fetch(new URL(path, this.opts.endpoint), {
        method,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json; charset=utf-8' }),
          'x-goog-api-key': this.apiKey,
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal,
      });
      json = await res.json().catch(() => undefined);
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = err instanceof Error ? err : new Error(String(err));
      const why = cause.cause instanceof Error ? cause.cause.message : cause.message;
      throw new ProviderError('google', 'unavailable', `google: ${why}`, { cause });
    }
    if (!res.ok) {
      const e = (json as GoogleError | undefined)?.error;
      throw ProviderError.fromStatus(
        'google',
        res.status,
        `google ${res.status} ${e?.status ?? res.statusText}: ${e?.message ?? 'no error body'}`,
      );
    }
    return json;
  }

  private toSpeech(wavBytes: Buffer): SpeechAudio {
    let pcm: Int16Array;
    let rate: number;
    try {
      const wav = decodeWav(wavBytes);
      pcm = wav.channels[0]!;
      rate = wav.sampleRate;
    } catch (err) {
      throw new ProviderError(
        'google',
        'unavailable',
        `google: unreadable audioContent: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (pcm.length === 0) throw new ProviderError('google', 'unavailable', 'google: empty audio');
    // The service honours sampleRateHertz; resample only if a voice ever ignores it.
    const mulaw = pcmToMulaw(rate === 8000 ? pcm : resample(pcm, rate, 8000));
    return { mulaw, durationMs: mulaw.length / 8, provider: this.name, voice: this.voice };
  }
}
