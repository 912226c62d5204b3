// Retrieval latency on the local stack: embed the question (the knowledge embedder) + search the published
// PGlite snapshot with the intent's topic filter, over kb/eval.json's questions; p50/p95.
import path from 'node:path';
import { loadEvalSet, percentile } from '../conversation/knowledge/eval';
import {
  DEFAULT_KB_FOLDER,
  ensureLocalKnowledgeIndex,
  knowledgeEmbedder,
  openLocalKnowledgeIndex,
} from '../conversation/knowledge/local-index';
import { Retriever } from '../conversation/knowledge/retrieve';

export interface RetrievalBench {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  embedP50Ms: number;
  embedP95Ms: number;
  searchP50Ms: number;
  searchP95Ms: number;
}

export async function runRetrievalBench(
  opts: { rounds?: number; log?: (l: string) => void } = {},
): Promise<RetrievalBench> {
  // prettier-ignore
  const log = opts.log ?? ((l: string) => console.log(l));
  await ensureLocalKnowledgeIndex({ log });
  const questions = await loadEvalSet(path.join(DEFAULT_KB_FOLDER, 'eval.json'));
  const index = openLocalKnowledgeIndex();
  try {
    await index.refresh();
    const retriever = new Retriever(knowledgeEmbedder(), index);
    await retriever.retrieve('warm up the model'); // loading the model is not a query
    const total: number[] = [];
    const embed: number[] = [];
    const search: number[] = [];
    for (let r = 0; r < (opts.rounds ?? 3); r++)
      for (const q of questions) {
        const t0 = performance.now();
        const res = await retriever.retrieveTimed(q.question, { topic: q.topic, topK: 5 });
        total.push(performance.now() - t0);
        embed.push(res.embedMs);
        search.push(res.searchMs);
      }
    const result: RetrievalBench = {
      samples: total.length,
      p50Ms: percentile(total, 50),
      p95Ms: percentile(total, 95),
      embedP50Ms: percentile(embed, 50),
      embedP95Ms: percentile(embed, 95),
      searchP50Ms: percentile(search, 50),
      searchP95Ms: percentile(search, 95),
    };
    const f = (x: number) => x.toFixed(1).padStart(7);
    log(`retrieval (embed + search, top 5, topic filter), ${result.samples} questions:`);
    log(`  total   p50 ${f(result.p50Ms)} ms  p95 ${f(result.p95Ms)} ms`);
    log(`  embed   p50 ${f(result.embedP50Ms)} ms  p95 ${f(result.embedP95Ms)} ms`);
    log(`  search  p50 ${f(result.searchP50Ms)} ms  p95 ${f(result.searchP95Ms)} ms`);
    return result;
  } finally {
    await index.close();
  }
}
