// OpenAI chat completions, streamed, through the official SDK. One class serves GPT-4o (the
// primary) and any OpenAI-compatible secondary (Mixtral behind vLLM, llama-cpp-python's
// server …): each instance has its own base URL, model, key and request timeout.
//
// The SDK's own retries are off: the LLM fallback falls through to the next provider instead,
// and the call cannot afford a second wait on a provider that already failed once.
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { LlmUsage } from '../../contracts/answers';
import type { ProviderErrorKind } from '../../contracts/providers';
import { ProviderError } from '../provider-error';
import type { HealthCheck } from '../health-check';
import type { LanguageModel, Prompt } from './port';

export interface OpenAiLlmOptions {
  /** The name recorded as the provider ("openai", "secondary"). */
  name: string;
  model: string;
  /** Undefined: api.openai.com. */
  baseUrl?: string;
  /** The env variable holding the key; keys are never taken from options or logged. */
  apiKeyEnv: string;
  /** Until the response headers arrive (connect + queueing); the chain times the tokens. */
  requestTimeoutMs: number;
  temperature: number;
  /** Default token cap when the caller gives none: replies are one or two sentences. */
  maxTokens: number;
}

export const OPENAI_DEFAULTS: Omit<OpenAiLlmOptions, 'name'> = {
  model: 'gpt-4o',
  apiKeyEnv: 'OPENAI_API_KEY',
  requestTimeoutMs: 1500,
  temperature: 0.2,
  maxTokens: 120,
};

export class OpenAiLanguageModel implements LanguageModel, HealthCheck {
  readonly name: string;
  readonly model: string;
  readonly reportsUsage = true;
  private readonly client: OpenAI;
  private readonly opts: OpenAiLlmOptions;
  private readonly secret: string;

  constructor(options: Partial<OpenAiLlmOptions> & { name: string }, env = process.env) {
    this.opts = { ...OPENAI_DEFAULTS, ...options };
    this.name = this.opts.name;
    this.model = this.opts.model;
    const key = env[this.opts.apiKeyEnv];
    // A self-hosted OpenAI-compatible server may need no key; api.openai.com always does.
    if (!key && !this.opts.baseUrl) {
      throw new Error(`${this.name}: no API key (set ${this.opts.apiKeyEnv})`);
    }
    this.secret = key ?? '';
    this.client = new OpenAI({
      apiKey: key || 'no-key',
      baseURL: this.opts.baseUrl,
      maxRetries: 0,
      timeout: this.opts.requestTimeoutMs,
    });
  }

  async *stream(
    prompt: Prompt,
    opts: { signal?: AbortSignal; maxTokens?: number; onUsage?: (usage: LlmUsage) => void } = {},
  ): AsyncIterable<string> {
    const { signal } = opts;
    signal?.throwIfAborted();
    let chunks: AsyncIterable<ChatCompletionChunk>;
    try {
      chunks = await this.client.chat.completions.create(
        {
          model: this.opts.model,
          messages: prompt.messages,
          stream: true,
          temperature: this.opts.temperature,
          max_tokens: opts.maxTokens ?? this.opts.maxTokens,
          // The last chunk carries the billed tokens (the report prices them).
          stream_options: { include_usage: true },
        },
        { signal },
      );
    } catch (err) {
      throw this.mapError(err, signal);
    }
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) {
          const { prompt_tokens: inputTokens, completion_tokens: outputTokens } = chunk.usage;
          opts.onUsage?.({ inputTokens, outputTokens });
        }
        const piece = chunk.choices[0]?.delta?.content;
        if (piece) yield piece;
      }
    } catch (err) {
      throw this.mapError(err, signal);
    }
    // The SDK ends an aborted stream quietly; the reader must learn it was cut short.
    signal?.throwIfAborted();
  }

  /** The health check: `GET /models`, free and without side effects. */
  async check(signal: AbortSignal): Promise<void> {
    try {
      await this.client.models.list({ signal });
    } catch (err) {
      throw this.mapError(err, signal);
    }
  }

  /** Aborts pass through as they are (not a provider failure); the rest become kinds. */
  private mapError(err: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason ?? err;
    const [kind, detail] = classify(err);
    const message = `${this.name} (${this.opts.model}): ${detail}`;
    const status = err instanceof OpenAI.APIError ? err.status : undefined;
    return new ProviderError(
      this.name,
      kind,
      this.secret ? message.split(this.secret).join('***') : message,
      status === undefined ? {} : { status },
    );
  }
}

/**
 * Any other 4xx (a bad key, a prompt over the context) is `unavailable` too: the next model
 * may take the same prompt, so the fallback hands over rather than giving up on the answer.
 */
function classify(err: unknown): [ProviderErrorKind, string] {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return ['timeout', 'request timed out'];
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = (err.cause as { cause?: { code?: string }; code?: string } | undefined) ?? {};
    const code = cause.cause?.code ?? cause.code;
    return ['unavailable', `connection failed${code ? ` (${code})` : ''}: ${err.message}`];
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    // The SDK's message starts with the status ("429 Rate limit reached …"); add the code.
    const code = err.code ?? err.type;
    const detail = code ? `${err.message} [${code}]` : err.message;
    if (status === 429) return ['rate_limited', detail];
    if (status === 408) return ['timeout', detail];
    return ['unavailable', detail];
  }
  // A connection reset mid-stream surfaces as a bare TypeError ("terminated") from fetch.
  return ['unavailable', err instanceof Error ? err.message : String(err)];
}
