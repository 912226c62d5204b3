// The faithfulness check and the extractive answer in the answer path: a model answer the
// checks refuse is replaced by the passages' own sentences, a courtesy alone is no answer,
// and on the local stack the extractive answer goes first without asking the model.
import assert from 'node:assert/strict';
import { createAnswerer } from '../../conversation/answers/answer';
import { chunkDocument } from '../../conversation/knowledge/chunker';
import { loadKnowledgeFolder } from '../../conversation/knowledge/documents';
import { DEFAULT_KB_FOLDER } from '../../conversation/knowledge/local-index';
import { extractiveFirstFromEnv } from '../../conversation/answers/knowledge-answerer';
import { sharedUseLiteEmbedder } from '../../providers/embeddings/use-lite';
import { FakeLanguageModel } from '../../providers/llm/fake';
import { FallbackLanguageModel } from '../../providers/llm/fallback';
import type { ScoredChunk } from '../../providers/vectors/port';
import type { AnswerInput } from '../../contracts/answers';

const INPUT: AnswerInput = {
  callSid: 'CAfaithful',
  turnId: 1,
  question: 'what is the late fee',
  intent: 'ask_billing',
  recentTurns: [],
  turnCount: 1,
};

describe('answers: faithfulness check and extractive answer', function () {
  this.timeout(120_000);
  let billing: ScoredChunk[];

  before(async () => {
    const docs = await loadKnowledgeFolder(DEFAULT_KB_FOLDER);
    billing = docs
      .filter((d) => /late-fees|billing-cycle/.test(d.docId))
      .flatMap((d) => chunkDocument(d))
      .map((c, i) => ({ ...c, score: 1 - i / 100 }));
    assert.ok(billing.length > 0, 'the billing articles were found');
  });

  const answererFor = (model: FakeLanguageModel, extractiveFirst = false) =>
    createAnswerer({
      retrieve: async () => billing,
      chain: new FallbackLanguageModel([
        { provider: model.name, port: model, firstTokenTimeoutMs: 5_000, totalTimeoutMs: 10_000 },
      ]),
      embedder: sharedUseLiteEmbedder(),
      extractiveFirst,
    });

  it('fluent fluff from the model is not said: the passages answer instead', async () => {
    const model = new FakeLanguageModel({
      name: 'local',
      pieces: [
        "I'm a trusted and reliable agent of Northwind Power and Telecom. ",
        'Is there anything else I can help you with?',
      ],
    });
    const said: string[] = [];
    const record = await answererFor(model).answer(INPUT, { onSentence: (s) => void said.push(s) });
    assert.deepEqual(record.extractive, { replaced: 'unfaithful' });
    assert.equal(record.refused, undefined);
    assert.equal(record.servedBy, 'local', 'the model that was asked (and billed) stays on record');
    assert.match(record.text, /late fee of 10 dollars/);
    assert.doesNotMatch(record.text, /trusted|reliable/);
    assert.equal(said.join(' '), record.text);
  });

  it('a wrong claim without figures is refused like fluff', async () => {
    const model = new FakeLanguageModel({ pieces: ['Late fees are waived for all customers.'] });
    const record = await answererFor(model).answer(INPUT);
    assert.deepEqual(record.extractive, { replaced: 'unfaithful' });
    assert.doesNotMatch(record.text, /waived/);
  });

  it('courtesies alone are no answer', async () => {
    const model = new FakeLanguageModel({
      pieces: ['Thank you for calling! ', 'Is there anything else I can help you with?'],
    });
    const record = await answererFor(model).answer(INPUT);
    assert.deepEqual(record.extractive, { replaced: 'no_content' });
    assert.match(record.text, /10 dollars/);
  });

  it('a faithful paraphrase is said as the model wrote it, courtesies around it are not', async () => {
    const model = new FakeLanguageModel({
      pieces: [
        'Great question! ',
        'A late fee of $10 is added if your bill is still unpaid 5 days after the due date. ',
        'Is there anything else I can help you with?',
      ],
    });
    const record = await answererFor(model).answer(INPUT);
    assert.equal(record.extractive, undefined);
    assert.equal(record.servedBy, 'fake');
    assert.equal(
      record.text,
      'A late fee of 10 dollars is added if your bill is still unpaid 5 days after the due date.',
    );
  });

  it('extractive first: the passages answer and the model is not asked', async () => {
    const model = new FakeLanguageModel();
    const record = await answererFor(model, true).answer(INPUT);
    assert.equal(record.servedBy, 'extractive');
    assert.deepEqual(record.extractive, {});
    assert.deepEqual(record.attempts, []);
    assert.equal(model.prompts.length, 0, 'the model was not asked');
    assert.match(record.text, /late fee of 10 dollars/);
    assert.ok(record.timings.firstSentenceMs !== undefined);
  });

  it('ANSWER_EXTRACTIVE_FIRST: auto when the chain starts with the local model', () => {
    assert.equal(extractiveFirstFromEnv({}, ['local', 'template']), true);
    assert.equal(extractiveFirstFromEnv({}, ['openai', 'local', 'template']), false);
    assert.equal(extractiveFirstFromEnv({}, ['template']), false);
    assert.equal(extractiveFirstFromEnv({ ANSWER_EXTRACTIVE_FIRST: 'false' }, ['local']), false);
    assert.equal(extractiveFirstFromEnv({ ANSWER_EXTRACTIVE_FIRST: 'true' }, ['openai']), true);
    assert.throws(() => extractiveFirstFromEnv({ ANSWER_EXTRACTIVE_FIRST: 'yes' }, []), /auto/);
  });
});
