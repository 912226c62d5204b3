// `npx tsx bench/faithfulness.ts [rounds] [--no-llm]`: (1) the faithfulness check's
// calibration — precision, recall and F1 of "supported" on the labelled set
// (testing/faithfulness-set.ts) per threshold, with the chosen one marked; (2) on the local
// stack, time to the first spoken sentence and what was said for the language bench's
// questions: SmolLM2 first (its answer checked, the extractive answer when it fails) against
// the extractive answer first. Writes bench/results/faithfulness/latest.json.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createKnowledgeAnswerer } from '../conversation/answers/knowledge-answerer';
import { FAITHFULNESS_THRESHOLD } from '../conversation/safety/faithfulness';
import { sharedUseLiteEmbedder } from '../providers/embeddings/use-lite';
import { disposeLocalModels } from '../providers/llm/llama-local';
import { repoRoot } from '../infra/paths';
import { atThreshold, scoreFaithfulnessSet } from '../testing/faithfulness-eval';
import { FAITHFULNESS_SET } from '../testing/faithfulness-set';
import { pct } from './percentile';

/** The language bench's questions, each with the fact a right answer states. */
const QUESTIONS = [
  { question: 'what is the late fee', intent: 'ask_billing', fact: /10 dollars/ },
  { question: 'how do i set up autopay', intent: 'ask_billing', fact: /online|app|phone/ },
  { question: 'how much is the fiber plan', intent: 'ask_plans', fact: /65 dollars/ },
  { question: 'do you have a senior discount', intent: 'ask_policy', fact: /20 percent/ },
  { question: 'when will my power be back', intent: 'ask_outage', fact: /4 hours|four hours/ },
  { question: 'how do i cancel my service', intent: 'ask_policy', fact: /phone|app/ },
  { question: 'what internet plans do you have', intent: 'ask_plans', fact: /Basic|Fiber|Gigabit/ },
  {
    question: 'do i get a credit for an internet outage',
    intent: 'ask_outage',
    fact: /24 hours/,
  },
] as const;

async function calibration() {
  const scored = await scoreFaithfulnessSet(sharedUseLiteEmbedder());
  const thresholds = Array.from({ length: 11 }, (_, i) => Math.round((0.5 + i * 0.04) * 100) / 100);
  if (!thresholds.includes(FAITHFULNESS_THRESHOLD)) thresholds.push(FAITHFULNESS_THRESHOLD);
  const rows = thresholds.sort((a, b) => a - b).map((t) => atThreshold(scored, t));
  const supported = FAITHFULNESS_SET.filter((c) => c.supported).length;
  console.log(
    `[bench] faithfulness calibration: ${FAITHFULNESS_SET.length} sentences (${supported} supported, ${FAITHFULNESS_SET.length - supported} not), USE-lite`,
  );
  console.log('| threshold | precision | recall | F1 | unsupported passed | supported refused |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const mark = r.threshold === FAITHFULNESS_THRESHOLD ? ' **(chosen)**' : '';
    console.log(
      `| ${r.threshold.toFixed(2)}${mark} | ${r.precision.toFixed(3)} | ${r.recall.toFixed(3)} | ${r.f1.toFixed(3)} | ${r.falsePasses} | ${r.falseRefusals} |`,
    );
  }
  const passed = scored
    .filter((s) => !s.case.supported && (s.pleasantry || s.score >= FAITHFULNESS_THRESHOLD))
    .map((s) => `${s.score.toFixed(3)} ${s.case.sentence}`);
  console.log(
    `[bench] unsupported sentences the chosen threshold lets through:\n  ${passed.join('\n  ')}`,
  );
  const content = scored.filter((s) => !s.pleasantry);
  const margin = {
    lowestSupported: Math.min(...content.filter((s) => s.case.supported).map((s) => s.score)),
    highestRefusedUnsupported: Math.max(
      ...content
        .filter((s) => !s.case.supported && s.score < FAITHFULNESS_THRESHOLD)
        .map((s) => s.score),
    ),
  };
  console.log(
    `[bench] margin: lowest supported score ${margin.lowestSupported.toFixed(3)}, highest refused unsupported ${margin.highestRefusedUnsupported.toFixed(3)}`,
  );
  return { sentences: FAITHFULNESS_SET.length, supported, rows, margin, passedUnsupported: passed };
}

async function answers(mode: 'llm' | 'extractive', rounds: number) {
  const answerer = await createKnowledgeAnswerer({
    env: {
      ...process.env,
      LLM_CHAIN: 'local,template',
      ANSWER_EXTRACTIVE_FIRST: mode === 'extractive' ? 'true' : 'false',
    },
  });
  const firstMs: number[] = [];
  const servedBy: Record<string, number> = {};
  const replaced: Record<string, number> = {};
  let refused = 0;
  let rightFact = 0;
  const said: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [i, q] of QUESTIONS.entries()) {
      const t0 = performance.now();
      let first: number | undefined;
      const record = await answerer.answer(
        {
          callSid: 'CAbench',
          turnId: i + 1,
          question: q.question,
          intent: q.intent,
          recentTurns: [],
          turnCount: 1,
        },
        { onSentence: () => void (first ??= performance.now() - t0) },
      );
      firstMs.push(first ?? performance.now() - t0);
      const spokeFrom = record.extractive ? 'extractive' : record.servedBy;
      servedBy[spokeFrom] = (servedBy[spokeFrom] ?? 0) + 1;
      const why = record.extractive?.replaced;
      if (why) replaced[why] = (replaced[why] ?? 0) + 1;
      if (record.refused) refused++;
      if (!record.refused && q.fact.test(record.text)) rightFact++;
      if (r === 0) said.push(`${q.question} → [${spokeFrom}] ${record.text}`);
    }
  }
  const result = {
    mode,
    answers: firstMs.length,
    firstSentence: { p50: pct(firstMs, 50), p95: pct(firstMs, 95) },
    servedBy,
    replaced,
    refused,
    rightFact,
    said,
  };
  console.log(
    `[bench] ${mode.padEnd(10)} first sentence p50 ${result.firstSentence.p50.toFixed(0)} ms, p95 ${result.firstSentence.p95.toFixed(0)} ms | words from ${JSON.stringify(servedBy)}, model answer replaced ${JSON.stringify(replaced)}, refused ${refused}/${result.answers}, stated the asked fact ${rightFact}/${result.answers}`,
  );
  for (const line of said) console.log(`    ${line}`);
  return result;
}

async function main() {
  const args = process.argv.slice(2);
  const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
  const table = await calibration();
  const modes: ('llm' | 'extractive')[] = args.includes('--no-llm')
    ? ['extractive']
    : ['extractive', 'llm'];
  const runs = [];
  for (const mode of modes) runs.push(await answers(mode, rounds));
  await disposeLocalModels();
  const dir = path.join(repoRoot, 'bench', 'results', 'faithfulness');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'latest.json');
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        benchmark: 'faithfulness',
        startedAt: new Date().toISOString(),
        threshold: FAITHFULNESS_THRESHOLD,
        calibration: table,
        answers: runs,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results: ${path.relative(repoRoot, out)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
