// What the extractive answer (the local stack's first answer) says to the knowledge base's
// evaluation questions (kb/eval.json, 56 spoken-style questions, each with the fact that
// answers it), and to questions as the local recognizers heard them in scenario calls
// ("how do i set up on the pay"): retrieval as a call does it (the intent's topic, top 4),
// then the answer's sentences; a hit when they state the fact. The ranking as shipped is
// compared, in the same run, with the ranking before headings and retrieval counted (each
// sentence alone; a heading line taken for a sentence).
//
//   npx tsx bench/answer-eval.ts
//
// Writes bench/results/answer-eval.json and .md and prints the table.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExtractiveAnswerer, RETRIEVAL_WEIGHT } from '../conversation/answers/extractive';
import { loadEvalSet } from '../conversation/knowledge/eval';
import {
  DEFAULT_KB_FOLDER,
  ensureLocalKnowledgeIndex,
} from '../conversation/knowledge/local-index';
import { Retriever } from '../conversation/knowledge/retrieve';
import { sharedUseLiteEmbedder } from '../providers/embeddings/use-lite';
import type { KbTopic } from '../providers/vectors/port';
import { openKnowledgeIndex } from '../providers/vectors/pglite-snapshot';

interface Question {
  question: string;
  topic: KbTopic;
  fact: string;
}

/** Knowledge questions of the scenario set as Moonshine heard them through the phone line. */
const HEARD: Question[] = [
  { question: "come what's the late he if i pay late", topic: 'billing', fact: '$10' },
  { question: "um what's the link in if i pay late", topic: 'billing', fact: '$10' },
  { question: "um what's the last fee if i pay less", topic: 'billing', fact: '$10' },
  { question: 'how do i set up on the pay', topic: 'billing', fact: 'turn on autopay' },
  { question: 'how long does it take for a payment to boast', topic: 'billing', fact: 'within 1 business day' }, // prettier-ignore
  { question: 'how long done it takes for a payment to post', topic: 'billing', fact: 'within 1 business day' }, // prettier-ignore
  { question: 'my pur is out is there a noteage in my area', topic: 'outages', fact: 'report the outage' }, // prettier-ignore
  { question: 'i knew the next month what do i need to do', topic: 'policies', fact: '14 days notice' }, // prettier-ignore
  { question: 'and you tell me your responsibility', topic: 'policies', fact: 'refund' },
];

interface Ranking {
  name: string;
  extractive: ExtractiveAnswerer;
}

interface Row {
  set: string;
  question: string;
  fact: string;
  said: Record<string, string>;
}

async function main(): Promise<void> {
  await ensureLocalKnowledgeIndex({ log: (l) => process.stderr.write(`${l}\n`) });
  const evalSet = await loadEvalSet(path.join(DEFAULT_KB_FOLDER, 'eval.json'));
  const embedder = sharedUseLiteEmbedder();
  const index = openKnowledgeIndex();
  await index.refresh();
  const retriever = new Retriever(embedder, index);
  const rankings: Ranking[] = [
    {
      name: 'before',
      extractive: new ExtractiveAnswerer(embedder, { headings: false, retrievalWeight: 0 }),
    },
    { name: 'shipped', extractive: new ExtractiveAnswerer(embedder) },
  ];
  const rows: Row[] = [];
  const sets: Array<[string, Question[]]> = [
    ['kb/eval.json', evalSet],
    ['as heard', HEARD],
  ];
  for (const [set, questions] of sets) {
    for (const q of questions) {
      const passages = await retriever.retrieve(q.question, { topic: q.topic, topK: 4 });
      const said: Record<string, string> = {};
      for (const r of rankings) said[r.name] = (await r.extractive.pick(q.question, passages)).join(' '); // prettier-ignore
      rows.push({ set, question: q.question, fact: q.fact, said });
    }
  }
  await index.close();
  const holds = (row: Row, name: string) =>
    row.said[name]!.toLowerCase().includes(row.fact.toLowerCase());
  const table = sets.map(([set]) => {
    const mine = rows.filter((r) => r.set === set);
    return {
      set,
      questions: mine.length,
      ...Object.fromEntries(rankings.map((r) => [r.name, mine.filter((x) => holds(x, r.name)).length])), // prettier-ignore
    };
  });
  const result = { at: new Date().toISOString(), retrievalWeight: RETRIEVAL_WEIGHT, table, rows };
  const md = [
    `# The extractive answer states the asked fact`,
    '',
    `Run ${result.at}; retrieval top 4 with the intent's topic; a hit when the answer holds the fact.`,
    '',
    `| questions | ${rankings.map((r) => r.name).join(' | ')} |`,
    `|---|${rankings.map(() => '---:').join('|')}|`,
    ...table.map(
      (t) =>
        `| ${t.set} (${t.questions}) | ${rankings.map((r) => `${String((t as Record<string, unknown>)[r.name])}`).join(' | ')} |`,
    ),
    '',
    'Misses of the shipped ranking:',
    '',
    ...rows
      .filter((r) => !holds(r, 'shipped'))
      .map((r) => `- "${r.question}" (wants "${r.fact}"): said "${r.said.shipped}"`),
  ].join('\n');
  const dir = path.join(__dirname, 'results');
  await writeFile(path.join(dir, 'answer-eval.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(dir, 'answer-eval.md'), `${md}\n`);
  console.log(md);
  process.exit(0); // the embedding model keeps handles open
}

main().catch((err: unknown) => {
  console.error(`[answer-eval] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
