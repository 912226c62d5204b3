// `switchboard kb …`: build the knowledge index from markdown and measure its retrieval.
import path from 'node:path';
import type { Command } from 'commander';
import { evaluateRetrieval, loadEvalSet, type EvalReport } from '../conversation/knowledge/eval';
import { isKbTopic, KB_TOPICS } from '../conversation/knowledge/documents';
import {
  DEFAULT_KB_FOLDER,
  ingestAndPublish,
  knowledgeEmbedder,
  openLocalKnowledgeIndex,
} from '../conversation/knowledge/local-index';
import { Retriever } from '../conversation/knowledge/retrieve';

function fail(err: unknown): never {
  console.error(`[kb] error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

async function withRetriever<T>(fn: (r: Retriever) => Promise<T>): Promise<T> {
  const index = openLocalKnowledgeIndex();
  try {
    await index.refresh();
    return await fn(new Retriever(knowledgeEmbedder(), index));
  } finally {
    await index.close();
  }
}

const line = (label: string, r: EvalReport) =>
  `${label.padEnd(24)} recall@${r.k} ${(r.recallAtK * 100).toFixed(1).padStart(5)}%   MRR ${r.mrr.toFixed(3)}   ` +
  `latency p50 ${r.p50Ms.toFixed(1)} ms  p95 ${r.p95Ms.toFixed(1)} ms`;

export function registerKbCommands(program: Command): void {
  const kb = program.command('kb').description('the knowledge base: ingest, evaluate, search');

  kb.command('ingest')
    .description(
      'markdown/text → chunks → embeddings → the local index (re-runnable, prunes stale chunks)',
    ) // prettier-ignore
    .argument('[folder]', 'knowledge-base folder: <topic>/<article>.md', DEFAULT_KB_FOLDER)
    .action(async (folder: string) => {
      const r = await ingestAndPublish({ folder, log: (l) => console.log(l) }).catch(fail);
      console.log(
        `[kb] done: ${r.documents} documents, ${r.chunks} chunks, ${r.pruned} pruned, in ${(r.ms / 1000).toFixed(1)} s`,
      );
    });

  kb.command('eval')
    .description('recall@k, MRR and retrieval latency on the evaluation questions')
    .option(
      '--file <eval.json>',
      'questions with their expected chunks',
      path.join(DEFAULT_KB_FOLDER, 'eval.json'),
    ) // prettier-ignore
    .option('--k <n>', 'top k', '5')
    .option('--misses', 'list the questions whose expected chunk was not in the top k')
    .action(async (o: { file: string; k: string; misses?: boolean }) => {
      const k = Number(o.k);
      if (!Number.isInteger(k) || k < 1) fail(`--k must be a positive integer, not ${o.k}`);
      await withRetriever(async (retriever) => {
        const questions = await loadEvalSet(o.file);
        await retriever.retrieve('warm up'); // the model loads once; not a measured question
        console.log(`[kb] ${questions.length} questions from ${o.file}`);
        const topic = await evaluateRetrieval(retriever, questions, { k });
        console.log(line('with the intent topic', topic));
        const open = await evaluateRetrieval(retriever, questions, { k, useTopic: false });
        console.log(line('without a topic filter', open));
        if (o.misses)
          for (const m of topic.misses)
            console.log(`  miss: "${m.question}" expected ${m.expect.join(' | ')}, got ${m.got.join(', ')}`); // prettier-ignore
      }).catch(fail);
    });

  kb.command('search')
    .description('the top chunks for a question, as the call flow retrieves them')
    .argument('<question>')
    .option('--topic <topic>', `filter: ${KB_TOPICS.join(' | ')}`)
    .option('--k <n>', 'top k', '5')
    .action(async (question: string, o: { topic?: string; k: string }) => {
      if (o.topic !== undefined && !isKbTopic(o.topic))
        fail(`--topic must be one of ${KB_TOPICS.join(', ')}`);
      await withRetriever(async (retriever) => {
        const hits = await retriever.retrieve(question, {
          topK: Number(o.k),
          ...(o.topic && isKbTopic(o.topic) && { topic: o.topic }),
        });
        for (const h of hits)
          console.log(
            `${h.score.toFixed(3)}  ${h.id}  ${h.text.replace(/\n/g, ' ').slice(0, 100)}`,
          );
      }).catch(fail);
    });
}
