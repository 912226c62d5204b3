// The TTS chain from the environment: TTS_CHAIN lists the providers in order, each with its
// own timeout; a provider without credentials becomes a skipped link with the reason.
import { z } from 'zod';
import type { FallbackGate } from '../fallback';
import { FallbackTextToSpeech, type TtsLink } from './fallback';
import { GoogleTts, googleMissingConfig } from './google';
import { LocalTts } from './local';
import { PiecewiseSpeech } from './piecewise';
import { PiperTts } from './piper';
import { PollyTts, pollyMissingConfig } from './polly';
import { PrerecordedTts } from './prerecorded';

// prerecorded says the fixed prompts whole; pieces assembles the personal sentences; piper is
// the neural local voice, opt-in (see docs/benchmarks.md "Local voices" for why).
export const TTS_PROVIDERS = [
  'polly',
  'google',
  'local',
  'piper',
  'prerecorded',
  'pieces',
] as const;
export type TtsProviderName = (typeof TTS_PROVIDERS)[number];
export const DEFAULT_TTS_CHAIN: readonly TtsProviderName[] = [
  'polly',
  'google',
  'local',
  'prerecorded',
  'pieces',
];

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const TtsEnv = z.object({
  TTS_CHAIN: z
    .string()
    .default(DEFAULT_TTS_CHAIN.join(','))
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
  TTS_PIPER_TIMEOUT_MS: ms(4000),
  TTS_PRERECORDED_TIMEOUT_MS: ms(500),
  TTS_PIECES_TIMEOUT_MS: ms(500),
  TTS_POLLY_VOICE: z.string().optional(),
  TTS_POLLY_ENGINE: z.enum(['standard', 'neural', 'long-form', 'generative']).optional(),
  TTS_POLLY_ENDPOINT: z.string().url().optional(),
  TTS_GOOGLE_VOICE: z.string().optional(),
  TTS_GOOGLE_ENDPOINT: z.string().url().optional(),
  TTS_LOCAL_ENGINE: z.enum(['flite', 'espeak-ng']).optional(),
  TTS_LOCAL_VOICE: z.string().optional(),
  TTS_LOCAL_COMMAND: z.string().optional(),
  TTS_PIPER_MODEL: z.string().optional(),
  TTS_PIPER_CONCURRENCY: z.coerce.number().int().positive().optional(),
  TTS_PROMPTS_DIR: z.string().optional(),
  TTS_PIECES_DIR: z.string().optional(),
});

export type TtsConfig = z.infer<typeof TtsEnv>;

export function loadTtsConfig(env: NodeJS.ProcessEnv = process.env): TtsConfig {
  const parsed = TtsEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid TTS configuration: ${problems}`);
  }
  return parsed.data;
}

/** Builds the links TTS_CHAIN names; a provider without credentials becomes a skipped link. */
export function ttsLinksFromEnv(env: NodeJS.ProcessEnv = process.env): TtsLink[] {
  const cfg = loadTtsConfig(env);
  const build: Record<TtsProviderName, () => Omit<TtsLink, 'provider'>> = {
    polly: () => {
      const skipReason = pollyMissingConfig(env);
      if (skipReason) return { timeoutMs: cfg.TTS_POLLY_TIMEOUT_MS, skipReason };
      const port = new PollyTts(
        defined({
          voiceId: cfg.TTS_POLLY_VOICE,
          engine: cfg.TTS_POLLY_ENGINE,
          endpoint: cfg.TTS_POLLY_ENDPOINT,
        }),
        env,
      );
      return { timeoutMs: cfg.TTS_POLLY_TIMEOUT_MS, port };
    },
    google: () => {
      const skipReason = googleMissingConfig(env);
      if (skipReason) return { timeoutMs: cfg.TTS_GOOGLE_TIMEOUT_MS, skipReason };
      const port = new GoogleTts(
        defined({ voiceName: cfg.TTS_GOOGLE_VOICE, endpoint: cfg.TTS_GOOGLE_ENDPOINT }),
        env,
      );
      return { timeoutMs: cfg.TTS_GOOGLE_TIMEOUT_MS, port };
    },
    local: () => ({
      timeoutMs: cfg.TTS_LOCAL_TIMEOUT_MS,
      port: new LocalTts(
        defined({
          engine: cfg.TTS_LOCAL_ENGINE,
          voice: cfg.TTS_LOCAL_VOICE,
          command: cfg.TTS_LOCAL_COMMAND,
        }),
      ),
    }),
    piper: () => ({
      timeoutMs: cfg.TTS_PIPER_TIMEOUT_MS,
      port: new PiperTts(
        defined({ model: cfg.TTS_PIPER_MODEL, maxConcurrent: cfg.TTS_PIPER_CONCURRENCY }),
      ),
    }),
    prerecorded: () => ({
      timeoutMs: cfg.TTS_PRERECORDED_TIMEOUT_MS,
      port: new PrerecordedTts(defined({ dir: cfg.TTS_PROMPTS_DIR })),
    }),
    pieces: () => ({
      timeoutMs: cfg.TTS_PIECES_TIMEOUT_MS,
      port: new PiecewiseSpeech(defined({ dir: cfg.TTS_PIECES_DIR })),
    }),
  };
  return cfg.TTS_CHAIN.map((provider) => ({ provider, ...build[provider]() }));
}

/** The chain TTS_CHAIN names, as one TextToSpeech. */
export function textToSpeechFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  gate?: FallbackGate,
): FallbackTextToSpeech {
  return new FallbackTextToSpeech(ttsLinksFromEnv(env), gate);
}

/** Drops undefined values so adapter defaults apply (options are merged over defaults). */
function defined<T extends object>(o: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<{
    [K in keyof T]: Exclude<T[K], undefined>;
  }>;
}
