// The shipped dataset and model file: enough varied phrasings per intent, a clean
// train/evaluation split, and weights that were trained on the current training split.
import assert from 'node:assert/strict';
import {
  datasetHash,
  loadSplit,
  parseExamples,
  trainingData,
} from '../../providers/intent/dataset';
import { INTENT_NAMES } from '../../providers/intent/labels';
import { readModelFile } from '../../providers/intent/model-file';
import { normalizeUtterance } from '../../providers/intent/normalize';

describe('intent dataset', () => {
  const train = loadSplit('train');
  const evaluation = loadSplit('eval');

  it('has at least 30 phrasings per intent, and every intent in both splits', () => {
    for (const intent of INTENT_NAMES) {
      const n = (xs: typeof train) => xs.filter((e) => e.intent === intent).length;
      assert.ok(n(train) + n(evaluation) >= 30, `${intent}: ${n(train) + n(evaluation)}`);
      assert.ok(n(train) >= 20 && n(evaluation) >= 15, `${intent}: ${n(train)} / ${n(evaluation)}`);
    }
  });

  it('shares no utterance between the splits, and repeats none within one', () => {
    const key = (t: string) => normalizeUtterance(t);
    const seen = new Set(train.map((e) => key(e.text)));
    assert.equal(seen.size, train.length, 'duplicate in train');
    const evalKeys = evaluation.map((e) => key(e.text));
    assert.equal(new Set(evalKeys).size, evaluation.length, 'duplicate in eval');
    assert.deepEqual(
      evalKeys.filter((k) => seen.has(k)),
      [],
    );
  });

  it('is written as a recognizer hands speech over: lowercase, no sentence punctuation', () => {
    for (const e of [...train, ...evaluation]) assert.match(e.text, /^[a-z0-9' ]+$/, `"${e.text}"`);
  });

  it('rejects a malformed file with the line that is wrong', () => {
    assert.throws(
      () => parseExamples('intent\ttext\nnot_an_intent\thi\n', 'x.tsv'),
      /x\.tsv:2: unknown intent/,
    );
    assert.throws(() => parseExamples('text\n', 'x.tsv'), /header/);
  });

  it('ships a model trained on the current training split (retrain: npx tsx scripts/train-intent.ts)', () => {
    const model = readModelFile();
    const { examples, heard } = trainingData();
    assert.equal(model.training.datasetSha256, datasetHash([...examples, ...heard]));
    assert.deepEqual(model.classes, [...INTENT_NAMES]);
  });
});
