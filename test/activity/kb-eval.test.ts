// Retrieval quality gate on the shipped knowledge base: kb/eval.json's spoken questions
// against the real chunker, USE-lite embeddings and PGlite. Measured when written: recall@5
// 96.4% (54/56), MRR 0.82, with the intent's topic filter; the floors leave a margin of
// about three questions for model or KB edits.
import assert from 'node:assert/strict';
import path from 'node:path';
import { chunkDocument } from '../../conversation/knowledge/chunker';
import { loadKnowledgeFolder } from '../../conversation/knowledge/documents';
import { evaluateRetrieval, loadEvalSet, type EvalQuestion } from '../../conversation/knowledge/eval'; // prettier-ignore
import { ingestFolder } from '../../conversation/knowledge/ingest';
import { DEFAULT_KB_FOLDER } from '../../conversation/knowledge/local-index';
import { Retriever } from '../../conversation/knowledge/retrieve';
import type { KbChunk } from '../../providers/vectors/port';
import { sharedUseLiteEmbedder } from '../../providers/embeddings/use-lite';
import { PgliteVectorIndex } from '../../providers/vectors/pglite';

const FLOOR = { recallAt5: 0.9, mrr: 0.75 };

describe('knowledge-base retrieval evaluation (quality gate)', function () {
  this.timeout(300_000);
  let index: PgliteVectorIndex;
  let questions: EvalQuestion[];
  let chunks: Map<string, KbChunk>;

  before(async () => {
    questions = await loadEvalSet(path.join(DEFAULT_KB_FOLDER, 'eval.json'));
    const docs = await loadKnowledgeFolder(DEFAULT_KB_FOLDER);
    chunks = new Map(docs.flatMap((d) => chunkDocument(d)).map((c) => [c.id, c]));
    index = await PgliteVectorIndex.open();
    await ingestFolder({ folder: DEFAULT_KB_FOLDER, index, embedder: sharedUseLiteEmbedder() });
  });
  after(() => index?.close());

  it('has at least 40 questions covering every topic', () => {
    assert.ok(questions.length >= 40, `${questions.length} questions`);
    for (const t of ['billing', 'plans', 'outages', 'policies'])
      assert.ok(questions.filter((q) => q.topic === t).length >= 8, `topic ${t}`);
  });

  it('expects chunks that exist, in the topic asked, and contain the answering fact', () => {
    for (const q of questions) {
      const expected = q.expect.map((id) => chunks.get(id));
      assert.ok(expected.every(Boolean), `"${q.question}": unknown ${q.expect.join(', ')}`);
      assert.ok(
        expected.some((c) => c!.topic === q.topic && c!.text.includes(q.fact)),
        `"${q.question}": no expected ${q.topic} chunk contains "${q.fact}"`,
      );
    }
  });

  it(`finds an answering chunk in the top 5 (recall@5 ≥ ${FLOOR.recallAt5}, MRR ≥ ${FLOOR.mrr})`, async () => {
    const report = await evaluateRetrieval(
      new Retriever(sharedUseLiteEmbedder(), index),
      questions,
    );
    const misses = report.misses.map((m) => `  "${m.question}" → ${m.got.slice(0, 3).join(', ')}`);
    assert.ok(
      report.recallAtK >= FLOOR.recallAt5 && report.mrr >= FLOOR.mrr,
      `recall@5 ${report.recallAtK.toFixed(3)}, MRR ${report.mrr.toFixed(3)}; misses:\n${misses.join('\n')}`,
    );
  });
});
