// What the extractive answer (the local stack's first answer) says to the knowledge base's
// evaluation questions (kb/eval.json, 56 spoken-style questions, each with the fact that
// answers it), and to the scenario set's knowledge questions as the local recognizers heard
// them (kb/eval-heard.json, "how do i set up on the pay"): retrieval as a call does it (the
// intent's topic, top 4), then the answer's sentences; a hit when they state the fact. In the
// same run: retrieval with the knowledge embedder (shipped) against USE lite (before), each
// over its own in-memory index of kb/; and the sentence ranking as shipped against each
// sentence ranked alone (no heading, no retrieval score, no weight for a figure).
//
//   npx tsx bench/answer-eval.ts
//
// Writes bench/results/answer-eval.json and .md and prints the table.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ExtractiveAnswerer,
  FIGURE_WEIGHT,
  RETRIEVAL_WEIGHT,
} from '../conversation/answers/extractive';
import { loadEvalSet, loadHeardEvalSet } from '../conversation/knowledge/eval';
import { ingestFolder } from '../conversation/knowledge/ingest';
import { DEFAULT_KB_FOLDER, knowledgeEmbedder } from '../conversation/knowledge/local-index';
import { Retriever } from '../conversation/knowledge/retrieve';
import type { Embedder } from '../providers/embeddings/port';
import { sharedUseLiteEmbedder } from '../providers/embeddings/use-lite';
import { PgliteVectorIndex } from '../providers/vectors/pglite';
import type { KbTopic } from '../providers/vectors/port';

interface Question {
  question: string;
  topic: KbTopic;
  /** Stated when the answer holds this text (kb/eval.json) or matches it (as heard). */
  fact: string | RegExp;
}

interface Column {
  name: string;
  retriever: Retriever;
  extractive: ExtractiveAnswerer;
}

interface Row {
  set: string;
  question: string;
  fact: string;
  said: Record<string, string>;
  hit: Record<string, boolean>;
}

async function retrieverOver(
  embedder: Embedder,
): Promise<{ retriever: Retriever; close(): Promise<void> }> {
  const index = await PgliteVectorIndex.open();
  await ingestFolder({ folder: DEFAULT_KB_FOLDER, index, embedder });
  return { retriever: new Retriever(embedder, index), close: () => index.close() };
}

const states = (said: string, fact: string | RegExp): boolean =>
  typeof fact === 'string' ? said.toLowerCase().includes(fact.toLowerCase()) : fact.test(said);

async function main(): Promise<void> {
  const sets: Array<[string, Question[]]> = [
    ['kb/eval.json', await loadEvalSet(path.join(DEFAULT_KB_FOLDER, 'eval.json'))],
    ['kb/eval-heard.json', await loadHeardEvalSet(path.join(DEFAULT_KB_FOLDER, 'eval-heard.json'))],
  ];
  const ranker = sharedUseLiteEmbedder();
  const shipped = new ExtractiveAnswerer(ranker);
  const alone = new ExtractiveAnswerer(ranker, { headings: false, retrievalWeight: 0, figureWeight: 0 }); // prettier-ignore
  const before = await retrieverOver(sharedUseLiteEmbedder());
  const now = await retrieverOver(knowledgeEmbedder());
  const columns: Column[] = [
    { name: 'USE lite, sentence alone', retriever: before.retriever, extractive: alone },
    { name: 'USE lite', retriever: before.retriever, extractive: shipped },
    { name: 'MiniLM, sentence alone', retriever: now.retriever, extractive: alone },
    { name: 'MiniLM (shipped)', retriever: now.retriever, extractive: shipped },
  ];
  const rows: Row[] = [];
  for (const [set, questions] of sets)
    for (const q of questions) {
      const row: Row = { set, question: q.question, fact: String(q.fact), said: {}, hit: {} };
      for (const c of columns) {
        const passages = await c.retriever.retrieve(q.question, { topic: q.topic, topK: 4 });
        const said = (await c.extractive.pick(q.question, passages)).join(' ');
        row.said[c.name] = said;
        row.hit[c.name] = states(said, q.fact);
      }
      rows.push(row);
    }
  await Promise.all([before.close(), now.close()]);
  const table = sets.map(([set]) => {
    const mine = rows.filter((r) => r.set === set);
    const hits = Object.fromEntries(columns.map((c) => [c.name, mine.filter((r) => r.hit[c.name]).length])); // prettier-ignore
    return { set, questions: mine.length, hits };
  });
  const result = { at: new Date().toISOString(), retrievalWeight: RETRIEVAL_WEIGHT, figureWeight: FIGURE_WEIGHT, table, rows }; // prettier-ignore
  const best = columns[columns.length - 1]!.name;
  const md = [
    `# The extractive answer states the asked fact`,
    '',
    `Run ${result.at}; retrieval (embedder named per column) top 4 with the intent's topic, ` +
      'sentences ranked on USE lite; a hit when the answer states the fact.',
    '',
    `| questions | ${columns.map((c) => c.name).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    ...table.map((t) => `| ${t.set} (${t.questions}) | ${columns.map((c) => t.hits[c.name]).join(' | ')} |`), // prettier-ignore
    '',
    `Misses of ${best}:`,
    '',
    ...rows
      .filter((r) => !r.hit[best])
      .map((r) => `- "${r.question}" (wants ${r.fact}): said "${r.said[best]}"`),
  ].join('\n');
  const dir = path.join(__dirname, 'results');
  await writeFile(path.join(dir, 'answer-eval.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(dir, 'answer-eval.md'), `${md}\n`);
  console.log(md);
  process.exit(0); // the embedding models keep handles open
}

main().catch((err: unknown) => {
  console.error(`[answer-eval] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
