// Amazon Polly: SynthesizeSpeech as 8 kHz 16-bit PCM (the phone line's rate, so no
// resampling), companded to μ-law here. Credentials and region come from the environment
// only (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_REGION).
import {
  DescribeVoicesCommand,
  PollyClient,
  SynthesizeSpeechCommand,
  type VoiceId,
} from '@aws-sdk/client-polly';
import { pcmToMulaw } from '../../audio/mulaw';
import type { HealthCheck } from '../health-check';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';

export interface PollyOptions {
  voiceId: string;
  engine: 'standard' | 'neural' | 'long-form' | 'generative';
  /** Overrides the regional endpoint (a VPC endpoint; a local replay server in tests). */
  endpoint?: string;
}

export const POLLY_DEFAULTS: PollyOptions = { voiceId: 'Joanna', engine: 'neural' };

/** Why Polly cannot be used with this environment, or undefined when it can. */
export function pollyMissingConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
    return 'no AWS credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)';
  }
  if (!(env.AWS_REGION || env.AWS_DEFAULT_REGION)) return 'no AWS region (AWS_REGION)';
  return undefined;
}

/** AWS error codes that mean "too many requests", whatever the HTTP status. */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ThrottledException',
  'RequestLimitExceeded',
]);

export class PollyTts implements TextToSpeech, HealthCheck {
  readonly name = 'polly';
  readonly voice: string;
  private readonly opts: PollyOptions;
  private readonly client: PollyClient;

  constructor(options: Partial<PollyOptions> = {}, env: NodeJS.ProcessEnv = process.env) {
    const missing = pollyMissingConfig(env);
    if (missing) throw new Error(`polly: ${missing}`);
    this.opts = { ...POLLY_DEFAULTS, ...options };
    this.voice = `polly:${this.opts.voiceId}:${this.opts.engine}`;
    this.client = new PollyClient({
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION,
      endpoint: this.opts.endpoint,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
        sessionToken: env.AWS_SESSION_TOKEN || undefined,
      },
      // One attempt: the TTS chain falls through to the next provider and the activity
      // calling the chain owns retries; SDK retries would hide a slow vendor behind them.
      maxAttempts: 1,
    });
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    let bytes: Uint8Array;
    try {
      const out = await this.client.send(
        new SynthesizeSpeechCommand({
          Text: text,
          TextType: 'text',
          OutputFormat: 'pcm',
          SampleRate: '8000',
          VoiceId: this.opts.voiceId as VoiceId,
          Engine: this.opts.engine,
        }),
        { abortSignal: opts.signal },
      );
      if (!out.AudioStream) {
        throw new ProviderError('polly', 'unavailable', 'polly: no audio stream');
      }
      bytes = await out.AudioStream.transformToByteArray();
    } catch (err) {
      throw this.mapError(err, opts.signal);
    }
    // Polly's PCM is signed 16-bit little-endian mono; copy so the samples are aligned.
    const samples = new Int16Array(bytes.length >> 1);
    Buffer.from(samples.buffer).set(bytes.subarray(0, samples.length * 2));
    if (samples.length === 0) throw new ProviderError('polly', 'unavailable', 'polly: empty audio');
    const mulaw = pcmToMulaw(samples);
    return { mulaw, durationMs: mulaw.length / 8, provider: this.name, voice: this.voice };
  }

  /** The health check: `DescribeVoices` for the voice's engine, free and without side effects. */
  async check(signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(new DescribeVoicesCommand({ Engine: this.opts.engine }), {
        abortSignal: signal,
      });
    } catch (err) {
      throw this.mapError(err, signal);
    }
  }

  /** Closes the SDK's HTTP/2 sessions (tests, shutdown). */
  destroy(): void {
    this.client.destroy();
  }

  private mapError(err: unknown, signal: AbortSignal | undefined): unknown {
    // The caller gave up (timeout, barge-in): not the vendor's fault, pass it through.
    if (signal?.aborted) return err;
    if (err instanceof ProviderError) return err;
    if (!(err instanceof Error)) return new ProviderError('polly', 'unavailable', String(err));
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // Polly models ThrottlingException as HTTP 400; the name, not the status, says "slow down".
    if (THROTTLING.has(err.name)) {
      return new ProviderError('polly', 'rate_limited', `polly ${err.name}: ${err.message}`, {
        status,
        cause: err,
      });
    }
    if (status) {
      return ProviderError.fromStatus(
        'polly',
        status,
        `polly ${status} ${err.name}: ${err.message}`,
      );
    }
    return new ProviderError('polly', 'unavailable', `polly: ${err.message}`, { cause: err });
  }
}
