// LLM latency on the local stack: time to first token, to first sentence (what the caller
// waits for before hearing anything: LLM → sentence chunker) and to the whole answer, for
// SmolLM2-135M in-process (node-llama-cpp, one thread) and for the OpenAI adapter against
// llama-cpp-python's OpenAI-compatible server over the same GGUF (one thread). p50/p95 over
// varied knowledge-base questions with a composed, grounded prompt; the first run of each
// provider is a warm-up (model load, cold prompt cache) and is reported apart.
import { composePrompt } from '../conversation/answers/prompt';
import { SentenceChunker } from '../providers/llm/sentence-chunker';
import type { LanguageModel, Prompt } from '../providers/llm/port';
import type { ScoredChunk } from '../providers/vectors/port';
import { disposeLocalModels, LlamaLocalLanguageModel } from '../providers/llm/llama-local';
import { OpenAiLanguageModel } from '../providers/llm/openai';
import { ensureLocalModel, startOpenAiCompatibleServer } from '../infra/llm';
import { silentLog } from '../infra/paths';
import { pct } from './percentile';

const doc = (id: string, title: string, text: string, score: number): ScoredChunk => ({
  id,
  docId: id.split('#')[0]!,
  title,
  topic: 'billing',
  score,
  text,
});

const DOCS: ScoredChunk[] = [
  doc(
    'billing.md#1',
    'Bills and due dates',
    'Bills are issued on the 1st of each month and due 21 days later. Pay online, in the ' +
      'app, by phone, by mail, or at partner stores.',
    0.82,
  ),
  doc(
    'billing.md#2',
    'Late fees and autopay',
    'A late fee of $10 applies if a bill is unpaid 5 days after the due date. Autopay ' +
      'saves $5 a month. Paperless billing is free; paper bills cost $2 a month.',
    0.74,
  ),
  doc(
    'plans.md#1',
    'Internet plans',
    'Basic 100 is $40/month, Fiber 500 is $65/month and Gigabit Pro is $90/month. No data caps.',
    0.51,
  ),
];

const QUESTIONS = [
  'when is my bill due',
  "what's the late fee",
  'how much does autopay save me',
  'do paper bills cost extra',
  'how can I pay my bill',
  'what internet plans do you have',
  'is there a data cap',
  'how much is fiber 500',
];

export interface LlmRun {
  firstTokenMs: number;
  firstSentenceMs: number;
  totalMs: number;
  pieces: number;
  /** Stream pieces (≈ tokens) per second after the first one. */
  piecesPerS: number;
}

export interface LlmBenchResult {
  provider: string;
  warmup: LlmRun;
  runs: LlmRun[];
  p50: { firstTokenMs: number; firstSentenceMs: number; totalMs: number; piecesPerS: number };
  p95: { firstTokenMs: number; firstSentenceMs: number; totalMs: number; piecesPerS: number };
}

async function timeOne(model: LanguageModel, prompt: Prompt, maxTokens: number): Promise<LlmRun> {
  const started = performance.now();
  const chunker = new SentenceChunker();
  let firstTokenMs: number | undefined;
  let firstSentenceMs: number | undefined;
  let pieces = 0;
  for await (const piece of model.stream(prompt, { maxTokens })) {
    const now = performance.now() - started;
    pieces++;
    firstTokenMs ??= now;
    if (firstSentenceMs === undefined && chunker.push(piece).length > 0) firstSentenceMs = now;
  }
  const totalMs = performance.now() - started;
  firstTokenMs ??= totalMs;
  firstSentenceMs ??= totalMs; // one sentence: it ends with the answer (flush)
  const decodeS = (totalMs - firstTokenMs) / 1000;
  return {
    firstTokenMs,
    firstSentenceMs,
    totalMs,
    pieces,
    piecesPerS: decodeS > 0 ? (pieces - 1) / decodeS : NaN,
  };
}

async function benchOne(
  provider: string,
  model: LanguageModel,
  runs: number,
  maxTokens: number,
): Promise<LlmBenchResult> {
  const prompt = (i: number) =>
    composePrompt({
      question: QUESTIONS[i % QUESTIONS.length]!,
      intent: 'ask_billing',
      documents: DOCS,
      profile: { name: 'Ada', balanceCents: 4250, dueDate: '2026-12-05' },
      recentTurns: [{ speaker: 'agent', text: 'Hello Ada, how can I help you today?' }],
    });
  const warmup = await timeOne(model, prompt(0), maxTokens);
  const results: LlmRun[] = [];
  for (let i = 0; i < runs; i++) results.push(await timeOne(model, prompt(i + 1), maxTokens));
  const stat = (p: number) => ({
    firstTokenMs: pct(
      results.map((r) => r.firstTokenMs),
      p,
    ),
    firstSentenceMs: pct(
      results.map((r) => r.firstSentenceMs),
      p,
    ),
    totalMs: pct(
      results.map((r) => r.totalMs),
      p,
    ),
    piecesPerS: pct(
      results.map((r) => r.piecesPerS),
      p === 95 ? 5 : 50, // the slow tail of a rate is its low end
    ),
  });
  return { provider, warmup, runs: results, p50: stat(50), p95: stat(95) };
}

function print(r: LlmBenchResult): void {
  const f = (n: number) => `${Math.round(n)}`.padStart(6);
  console.log(
    `${r.provider.padEnd(44)} first token p50 ${f(r.p50.firstTokenMs)} p95 ${f(r.p95.firstTokenMs)} ms | ` +
      `first sentence p50 ${f(r.p50.firstSentenceMs)} p95 ${f(r.p95.firstSentenceMs)} ms | ` +
      `total p50 ${f(r.p50.totalMs)} p95 ${f(r.p95.totalMs)} ms | ` +
      `≈tokens/s p50 ${r.p50.piecesPerS.toFixed(0)} (slowest 5%: ${r.p95.piecesPerS.toFixed(0)})`,
  );
  console.log(
    `${''.padEnd(44)} warm-up (load + cold cache): first token ${Math.round(r.warmup.firstTokenMs)} ms, ` +
      `total ${Math.round(r.warmup.totalMs)} ms`,
  );
}

/** Runs both local LLM paths `runs` times each (after one warm-up) and prints p50/p95. */
export async function runLlmBench(
  opts: { runs?: number; maxTokens?: number; openAiServer?: boolean } = {},
): Promise<LlmBenchResult[]> {
  const runs = opts.runs ?? 20;
  const maxTokens = opts.maxTokens ?? 60;
  const modelPath = await ensureLocalModel();
  console.log(
    `LLM bench: SmolLM2-135M-Instruct Q4_1, one thread, ${runs} runs + 1 warm-up each, ` +
      `max ${maxTokens} tokens, grounded prompt with ${DOCS.length} documents`,
  );
  const results: LlmBenchResult[] = [];
  try {
    const local = new LlamaLocalLanguageModel({ modelPath, sequences: 1 });
    results.push(await benchOne('local (node-llama-cpp, in-process)', local, runs, maxTokens));
    print(results[results.length - 1]!);
  } finally {
    await disposeLocalModels();
  }
  if (opts.openAiServer ?? true) {
    const server = await startOpenAiCompatibleServer({ modelPath, log: silentLog });
    try {
      const model = new OpenAiLanguageModel(
        {
          name: 'secondary',
          baseUrl: server.baseUrl,
          model: server.model,
          apiKeyEnv: 'LLM_SECONDARY_API_KEY',
          requestTimeoutMs: 60_000,
          temperature: 0,
        },
        {},
      );
      results.push(
        await benchOne('openai adapter → llama-cpp-python server', model, runs, maxTokens),
      );
      print(results[results.length - 1]!);
    } finally {
      await server.stop();
    }
  }
  return results;
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 20);
  runLlmBench({ runs }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
