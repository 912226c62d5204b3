// Retrieval evaluation over kb/eval.json: spoken-style questions, each with the chunk ids
// (`<docId>#<n>`) or document ids that answer it and a fact the answer must contain.
// recall@k: the share of questions with an expected source in the top k (any of them
// answers the question); MRR: the mean of 1 / rank of the first expected source (0 when
// none is in the top k).
import { readFile } from 'node:fs/promises';
import type { KbTopic, ScoredChunk } from '../../providers/vectors/port';
import { isKbTopic } from './documents';
import type { Retriever } from './retrieve';

export interface EvalQuestion {
  question: string;
  /** The topic its intent maps to (the call flow filters on it). */
  topic: KbTopic;
  /** Chunk ids or document ids that answer it (any one suffices; any chunk of a document). */
  expect: string[];
  /** Words from the expected chunk that answer the question (guards ids against KB edits). */
  fact: string;
}

export interface EvalReport {
  questions: number;
  k: number;
  recallAtK: number;
  mrr: number;
  p50Ms: number;
  p95Ms: number;
  misses: { question: string; expect: string[]; got: string[] }[];
}

export async function loadEvalSet(file: string): Promise<EvalQuestion[]> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as { questions?: unknown };
  if (!Array.isArray(raw.questions)) throw new Error(`${file}: expected { "questions": [...] }`);
  return raw.questions.map((q: Partial<EvalQuestion>, i) => {
    const where = `${file} question ${i + 1}`;
    if (typeof q.question !== 'string' || !q.question.trim()) throw new Error(`${where}: no question`); // prettier-ignore
    if (typeof q.topic !== 'string' || !isKbTopic(q.topic)) throw new Error(`${where}: bad topic ${String(q.topic)}`); // prettier-ignore
    if (!Array.isArray(q.expect) || !q.expect.length) throw new Error(`${where}: no expected sources`); // prettier-ignore
    if (typeof q.fact !== 'string' || !q.fact) throw new Error(`${where}: no fact`);
    return { question: q.question, topic: q.topic, expect: q.expect.map(String), fact: q.fact };
  });
}

/** A question as a recognizer heard it (kb/eval-heard.json), the fact as a pattern its answer matches. */
export interface HeardQuestion {
  question: string;
  /** The topic its recognised intent searched. */
  topic: KbTopic;
  fact: RegExp;
}

export async function loadHeardEvalSet(file: string): Promise<HeardQuestion[]> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as { questions?: unknown };
  if (!Array.isArray(raw.questions)) throw new Error(`${file}: expected { "questions": [...] }`);
  return raw.questions.map((q: { question?: unknown; topic?: unknown; fact?: unknown }, i) => {
    const where = `${file} question ${i + 1}`;
    if (typeof q.question !== 'string' || !q.question.trim()) throw new Error(`${where}: no question`); // prettier-ignore
    if (typeof q.topic !== 'string' || !isKbTopic(q.topic)) throw new Error(`${where}: bad topic ${String(q.topic)}`); // prettier-ignore
    if (typeof q.fact !== 'string' || !q.fact) throw new Error(`${where}: no fact`);
    let fact: RegExp;
    try {
      fact = new RegExp(q.fact, 'i');
    } catch (err) {
      throw new Error(`${where}: fact is not a regular expression (${(err as Error).message})`);
    }
    return { question: q.question, topic: q.topic, fact };
  });
}

const matches = (expected: string, c: ScoredChunk) =>
  expected.includes('#') ? c.id === expected : c.docId === expected;

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

export async function evaluateRetrieval(
  retriever: Retriever,
  questions: EvalQuestion[],
  opts: { k?: number; useTopic?: boolean } = {},
): Promise<EvalReport> {
  const k = opts.k ?? 5;
  const useTopic = opts.useTopic ?? true;
  let recall = 0;
  let rr = 0;
  const latencies: number[] = [];
  const misses: EvalReport['misses'] = [];
  for (const q of questions) {
    const t0 = performance.now();
    const top = await retriever.retrieve(q.question, { topK: k, ...(useTopic && { topic: q.topic }) }); // prettier-ignore
    latencies.push(performance.now() - t0);
    const rank = top.findIndex((c) => q.expect.some((e) => matches(e, c)));
    if (rank >= 0) recall++;
    rr += rank < 0 ? 0 : 1 / (rank + 1);
    if (rank < 0)
      misses.push({ question: q.question, expect: q.expect, got: top.map((c) => c.id) });
  }
  const n = questions.length || 1;
  return {
    questions: questions.length,
    k,
    recallAtK: recall / n,
    mrr: rr / n,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    misses,
  };
}
