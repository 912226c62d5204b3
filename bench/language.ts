// `switchboard bench --language`: the language path's latency on the local stack, p50/p95,
// each against a baseline measured in the same run — intent (model vs the rules it replaced),
// retrieval, and time to the first spoken sentence of a grounded answer (local LLM chain vs
// the template alone).
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createKnowledgeAnswerer } from '../conversation/answers/knowledge-answerer';
import { disposeLocalModels } from '../providers/llm/llama-local';
import { repoRoot } from '../infra/paths';
import { runIntentBench } from './intent';
import { runRetrievalBench } from './retrieval';
import { pct } from './percentile';

const QUESTIONS: {
  question: string;
  intent: 'ask_billing' | 'ask_plans' | 'ask_outage' | 'ask_policy';
}[] = [
  { question: 'what is the late fee', intent: 'ask_billing' },
  { question: 'how do i set up autopay', intent: 'ask_billing' },
  { question: 'how much is the fiber plan', intent: 'ask_plans' },
  { question: 'do you have a senior discount', intent: 'ask_policy' },
  { question: 'when will my power be back', intent: 'ask_outage' },
  { question: 'how do i cancel my service', intent: 'ask_policy' },
  { question: 'what internet plans do you have', intent: 'ask_plans' },
  { question: 'do i get a credit for an internet outage', intent: 'ask_outage' },
];

async function firstSentence(chain: string, rounds: number) {
  // The chain's own latency: the extractive answer that goes first on the local stack is
  // measured by bench/faithfulness.ts.
  const answerer = await createKnowledgeAnswerer({
    env: { ...process.env, LLM_CHAIN: chain, ANSWER_EXTRACTIVE_FIRST: 'false' },
  });
  const firstMs: number[] = [];
  const totalMs: number[] = [];
  const servedBy: Record<string, number> = {};
  let refused = 0;
  for (let r = 0; r < rounds; r++) {
    for (const [i, q] of QUESTIONS.entries()) {
      const t0 = performance.now();
      let first: number | undefined;
      const record = await answerer.answer(
        { callSid: 'CAbench', turnId: i + 1, ...q, recentTurns: [], turnCount: 1 },
        { onSentence: () => void (first ??= performance.now() - t0) },
      );
      firstMs.push(first ?? performance.now() - t0);
      totalMs.push(performance.now() - t0);
      servedBy[record.servedBy] = (servedBy[record.servedBy] ?? 0) + 1;
      if (record.refused) refused++;
    }
  }
  return {
    chain,
    answers: firstMs.length,
    firstSentence: { p50: pct(firstMs, 50), p95: pct(firstMs, 95) },
    total: { p50: pct(totalMs, 50), p95: pct(totalMs, 95) },
    servedBy,
    refused,
  };
}

export async function runLanguageBench(opts: { rounds?: number } = {}): Promise<void> {
  const rounds = opts.rounds ?? 3;
  console.log('[bench] intent classification (one utterance at a time, warm)');
  const intent = await runIntentBench((l) => console.log(l));
  console.log('[bench] retrieval (embed + search, published PGlite index)');
  const retrieval = await runRetrievalBench();
  console.log(
    `[bench] time to the first spoken sentence of a grounded answer (${QUESTIONS.length} questions × ${rounds})`,
  );
  const answers = [];
  for (const chain of ['template', 'local,template']) {
    const r = await firstSentence(chain, rounds);
    answers.push(r);
    console.log(
      `[bench] answer via ${r.chain.padEnd(15)} first sentence p50 ${r.firstSentence.p50.toFixed(0)} ms, p95 ${r.firstSentence.p95.toFixed(0)} ms | whole answer p50 ${r.total.p50.toFixed(0)} ms, p95 ${r.total.p95.toFixed(0)} ms | served ${JSON.stringify(r.servedBy)}, refused ${r.refused}/${r.answers}`,
    );
  }
  const [base, llm] = answers as [(typeof answers)[0], (typeof answers)[0]];
  console.log(
    `[bench] local LLM vs template: first sentence ×${(llm.firstSentence.p50 / base.firstSentence.p50).toFixed(1)} at p50, ×${(llm.firstSentence.p95 / base.firstSentence.p95).toFixed(1)} at p95`,
  );
  await disposeLocalModels();
  const dir = path.join(repoRoot, 'bench', 'results', 'language');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'latest.json'),
    JSON.stringify(
      { benchmark: 'language', startedAt: new Date().toISOString(), intent, retrieval, answers },
      null,
      2,
    ) + '\n',
  );
  console.log('results: bench/results/language/latest.json');
}
