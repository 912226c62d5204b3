// The TTS provider chain as data as data: TTS_CHAIN lists the
// providers in order; each gets its own timeout; the first that returns audio serves, and
// every attempt — including providers skipped for missing credentials — is recorded.
//
// No retries inside the chain, by design: a failed provider is not asked again; the next one
// is. The activity calling the chain has a Temporal retry policy, so a retry is one visible
// history event per whole chain run, and a flaky primary costs one timeout per attempt
// rather than several (the cloud SDKs are built with their own retries off for the same
// reason).
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType, NON_RETRYABLE, failure } from '../../activities/errors';
import type { SpeechAudio, TextToSpeech } from './port';
import { GoogleTts, googleMissingConfig } from './google';
import { LocalTts } from './local';
import { PollyTts, pollyMissingConfig } from './polly';
import { PrerecordedTts } from './prerecorded';

export const TTS_PROVIDERS = ['polly', 'google', 'local', 'prerecorded'] as const;
export type TtsProviderName = (typeof TTS_PROVIDERS)[number];

export interface TtsAttempt {
  provider: string;
  ok: boolean;
  /** Why it did not serve: the failure message, "timeout after N ms", or the skip reason. */
  error?: string;
  /** The failure type from activities/errors.ts, when the provider threw one. */
  errorType?: string;
  /** Not configured (no credentials): never called. */
  skipped?: boolean;
  ms: number;
}

export interface TtsChainResult {
  audio: SpeechAudio;
  servedBy: string;
  attempts: TtsAttempt[];
}

/** One position in the chain: an adapter, or the reason there is none. */
export interface TtsLink {
  provider: string;
  timeoutMs: number;
  tts?: TextToSpeech;
  skipReason?: string;
}

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const TtsEnv = z.object({
  TTS_CHAIN: z
    .string()
    .default(TTS_PROVIDERS.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(TTS_PROVIDERS)).min(1)),
  TTS_POLLY_TIMEOUT_MS: ms(2000),
  TTS_GOOGLE_TIMEOUT_MS: ms(2000),
  TTS_LOCAL_TIMEOUT_MS: ms(4000),
  TTS_PRERECORDED_TIMEOUT_MS: ms(500),
  TTS_POLLY_VOICE: z.string().optional(),
  TTS_POLLY_ENGINE: z.enum(['standard', 'neural', 'long-form', 'generative']).optional(),
  TTS_POLLY_ENDPOINT: z.string().url().optional(),
  TTS_GOOGLE_VOICE: z.string().optional(),
  TTS_GOOGLE_ENDPOINT: z.string().url().optional(),
  TTS_LOCAL_ENGINE: z.enum(['flite', 'espeak-ng']).optional(),
  TTS_LOCAL_VOICE: z.string().optional(),
  TTS_LOCAL_COMMAND: z.string().optional(),
  TTS_PROMPTS_DIR: z.string().optional(),
});

export type TtsChainConfig = z.infer<typeof TtsEnv>;

export function loadTtsChainConfig(env: NodeJS.ProcessEnv = process.env): TtsChainConfig {
  const parsed = TtsEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid TTS configuration: ${problems}`);
  }
  return parsed.data;
}

/** Builds the links TTS_CHAIN names; a provider without credentials becomes a skipped link. */
export function ttsLinksFromEnv(env: NodeJS.ProcessEnv = process.env): TtsLink[] {
  const cfg = loadTtsChainConfig(env);
  const build: Record<TtsProviderName, () => Omit<TtsLink, 'provider'>> = {
    polly: () => {
      const skipReason = pollyMissingConfig(env);
      if (skipReason) return { timeoutMs: cfg.TTS_POLLY_TIMEOUT_MS, skipReason };
      const tts = new PollyTts(
        defined({
          voiceId: cfg.TTS_POLLY_VOICE,
          engine: cfg.TTS_POLLY_ENGINE,
          endpoint: cfg.TTS_POLLY_ENDPOINT,
        }),
        env,
      );
      return { timeoutMs: cfg.TTS_POLLY_TIMEOUT_MS, tts };
    },
    google: () => {
      const skipReason = googleMissingConfig(env);
      if (skipReason) return { timeoutMs: cfg.TTS_GOOGLE_TIMEOUT_MS, skipReason };
      const tts = new GoogleTts(
        defined({ voiceName: cfg.TTS_GOOGLE_VOICE, endpoint: cfg.TTS_GOOGLE_ENDPOINT }),
        env,
      );
      return { timeoutMs: cfg.TTS_GOOGLE_TIMEOUT_MS, tts };
    },
    local: () => ({
      timeoutMs: cfg.TTS_LOCAL_TIMEOUT_MS,
      tts: new LocalTts(
        defined({
          engine: cfg.TTS_LOCAL_ENGINE,
          voice: cfg.TTS_LOCAL_VOICE,
          command: cfg.TTS_LOCAL_COMMAND,
        }),
      ),
    }),
    prerecorded: () => ({
      timeoutMs: cfg.TTS_PRERECORDED_TIMEOUT_MS,
      tts: new PrerecordedTts(defined({ dir: cfg.TTS_PROMPTS_DIR })),
    }),
  };
  return cfg.TTS_CHAIN.map((provider) => ({ provider, ...build[provider]() }));
}

export class TtsChain {
  readonly links: readonly TtsLink[];

  constructor(links: TtsLink[]) {
    if (links.length === 0) throw new Error('a TTS chain needs at least one provider');
    this.links = links;
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): TtsChain {
    return new TtsChain(ttsLinksFromEnv(env));
  }

  /** Releases adapters' connections (the Polly SDK keeps HTTP/2 sessions open). */
  close(): void {
    for (const l of this.links) (l.tts as { destroy?: () => void } | undefined)?.destroy?.();
  }

  /** The voice of the first usable provider: the one the chain means to speak in. */
  get voice(): string {
    return this.links.find((l) => l.tts)?.tts?.voice ?? 'none';
  }

  /**
   * Tries each link in order until one returns audio. Throws a ProviderUnavailable failure
   * (retryable) when any provider failed in a way that may pass, BadInput when none can
   * ever serve this text; the failure's details carry the attempts. An abort of `signal`
   * (barge-in, activity cancelled) stops the chain at once and is rethrown as is.
   */
  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<TtsChainResult> {
    if (!text.trim()) throw failure(FailureType.BadInput, 'nothing to synthesize (empty text)');
    const attempts: TtsAttempt[] = [];
    for (const link of this.links) {
      opts.signal?.throwIfAborted();
      if (!link.tts) {
        attempts.push({
          provider: link.provider,
          ok: false,
          skipped: true,
          error: link.skipReason,
          ms: 0,
        });
        continue;
      }
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const audio = await withTimeout(link, text, opts.signal);
        attempts.push({ provider: link.provider, ok: true, ms: elapsed() });
        return { audio, servedBy: link.provider, attempts };
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? err;
        attempts.push({ provider: link.provider, ok: false, ms: elapsed(), ...describe(err) });
      }
    }
    throw chainFailure(attempts);
  }
}

class LinkTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timeout after ${timeoutMs} ms`);
  }
}

/**
 * Races the provider against its timeout: on expiry the provider's signal aborts (the
 * HTTP request or engine process is torn down) and the chain moves on without waiting
 * for the provider to notice.
 */
async function withTimeout(link: TtsLink, text: string, outer?: AbortSignal): Promise<SpeechAudio> {
  const own = new AbortController();
  const signal = outer ? AbortSignal.any([outer, own.signal]) : own.signal;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new LinkTimeout(link.timeoutMs);
      own.abort(err);
      reject(err);
    }, link.timeoutMs);
  });
  const work = link.tts!.synthesize(text, { signal });
  work.catch(() => undefined); // a late failure after the timeout is already accounted for
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): Pick<TtsAttempt, 'error' | 'errorType'> {
  if (err instanceof LinkTimeout) {
    return { error: err.message, errorType: FailureType.ProviderUnavailable };
  }
  if (err instanceof ApplicationFailure)
    return { error: err.message, errorType: err.type ?? undefined };
  return { error: err instanceof Error ? err.message : String(err) };
}

function chainFailure(attempts: TtsAttempt[]): ApplicationFailure {
  const tried = attempts.filter((a) => !a.skipped);
  const summary = attempts
    .map((a) => `${a.provider}: ${a.skipped ? `skipped (${a.error})` : a.error}`)
    .join('; ');
  // Only when every provider that ran said "never" (bad input, no such prompt) is a retry
  // pointless; an unknown error or a timeout may pass.
  const final =
    tried.length > 0 &&
    tried.every((a) => a.errorType && NON_RETRYABLE.includes(a.errorType as FailureType));
  return ApplicationFailure.create({
    type: final ? FailureType.BadInput : FailureType.ProviderUnavailable,
    message: `no TTS provider served: ${summary}`,
    nonRetryable: final,
    details: [attempts],
  });
}

/** Drops undefined values so adapter defaults apply (options are merged over defaults). */
function defined<T extends object>(o: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<{
    [K in keyof T]: Exclude<T[K], undefined>;
  }>;
}
