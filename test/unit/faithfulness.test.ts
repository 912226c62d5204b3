import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  contentWords,
  FAITHFULNESS_THRESHOLD,
  FaithfulnessIndex,
  isPleasantry,
  judgeFaithfulness,
  passageSentences,
} from '../../conversation/safety/faithfulness';
import { GroundingIndex } from '../../conversation/safety/grounding';
import { ExtractiveAnswerer } from '../../conversation/answers/extractive';
import { chunkDocument } from '../../conversation/knowledge/chunker';
import { chunkHeading } from '../../providers/vectors/port';
import { sharedUseLiteEmbedder } from '../../providers/embeddings/use-lite';
import { atThreshold, scoreFaithfulnessSet } from '../../testing/faithfulness-eval';
import { FAITHFULNESS_SET, loadArticles } from '../../testing/faithfulness-set';
import { DEFAULT_KB_FOLDER } from '../../conversation/knowledge/local-index';

/** What docs/answers.md reports for the chosen threshold on the labelled set. */
const REPORTED = { f1: 0.964, precision: 0.93, recall: 1 };

const embedder = sharedUseLiteEmbedder();
const articles = loadArticles();
const LATE = [
  articles.get('billing/late-fees-and-arrangements')!,
  articles.get('billing/billing-cycle')!,
];

describe('faithfulness: each answer sentence is supported by a passage or the account', function () {
  this.timeout(120_000);

  it('pleasantries claim nothing; a courtesy with a claim is not one', () => {
    assert.ok(isPleasantry('Is there anything else I can help you with?'));
    assert.ok(isPleasantry('Thank you for calling!'));
    assert.ok(isPleasantry('Happy to help.'));
    assert.ok(!isPleasantry('Sure, the late fee is $10.'));
    assert.ok(!isPleasantry("I'm a trusted and reliable agent of Northwind Power and Telecom."));
  });

  it('content words leave out stop words, the company and units, and meet their plurals', () => {
    assert.deepEqual([...contentWords('Northwind Power & Telecom waives the late fees')].sort(), [
      'fe',
      'lat',
      'waiv',
    ]);
    assert.deepEqual([...contentWords('waived fee')].sort(), ['fe', 'waiv']);
  });

  it('the pure judgement: words and meaning together, pleasantries always allowed', () => {
    const passages = [contentWords('A late fee of $10 is added to your account.')];
    assert.equal(judgeFaithfulness('A late fee is added.', 0.9, passages).ok, true);
    assert.equal(judgeFaithfulness('Late fees are waived for everyone.', 0.6, passages).ok, false);
    const courtesy = judgeFaithfulness('Is there anything else I can help you with?', 0, passages);
    assert.deepEqual([courtesy.ok, courtesy.pleasantry], [true, true]);
  });

  it('passages become speakable sentences: no headings or front matter, list items whole', () => {
    const s = passageSentences(
      '---\ntitle: Plans\n---\n# Plans\n## Prices\nWe offer:\n- Basic 100: $40 a month\n- Fiber 500: $65 a month',
    );
    assert.deepEqual(s, ['We offer: Basic 100: $40 a month.', 'Fiber 500: $65 a month.']);
  });

  it('refuses fluent fluff and wrong claims without figures, passes a real paraphrase', async () => {
    const index = await FaithfulnessIndex.build(embedder, { documents: LATE, facts: [] });
    for (const fluff of [
      "I'm a trusted and reliable agent of Northwind Power and Telecom.",
      'Northwind is committed to giving every customer the best possible experience.',
      'Late fees are waived for all customers.',
    ]) {
      const r = await index.check(fluff);
      assert.equal(r.ok, false, `${fluff} passed with ${r.score.toFixed(3)}`);
    }
    const paraphrase =
      'A $10 late fee is charged when the bill stays unpaid 5 days past its due date.';
    const r = await index.check(paraphrase);
    assert.equal(r.ok, true, `the paraphrase was refused at ${r.score.toFixed(3)}`);
    assert.equal(r.pleasantry, false);
  });

  it("the caller's account supports a personal answer", async () => {
    const index = await FaithfulnessIndex.build(embedder, {
      documents: [articles.get('billing/billing-cycle')!],
      facts: ['Your balance is $42.50.'],
    });
    assert.equal((await index.check('Your balance is 42 dollars and 50 cents.')).ok, true);
    assert.equal(
      (await index.check('Your account has been upgraded to premium status.')).ok,
      false,
    );
  });

  it(`the chosen threshold (${FAITHFULNESS_THRESHOLD}) keeps the reported F1 on the labelled set`, async () => {
    assert.ok(FAITHFULNESS_SET.length >= 60, 'the set has at least 60 sentences');
    const labels = new Set(FAITHFULNESS_SET.map((c) => c.supported));
    assert.deepEqual([...labels].sort(), [false, true]);
    const row = atThreshold(await scoreFaithfulnessSet(embedder), FAITHFULNESS_THRESHOLD);
    // Reported to three decimals.
    const at3 = (x: number) => Number(x.toFixed(3));
    assert.ok(at3(row.f1) >= REPORTED.f1, `F1 ${row.f1.toFixed(3)} < ${REPORTED.f1}`);
    assert.ok(at3(row.precision) >= REPORTED.precision, `precision ${row.precision.toFixed(3)}`);
    assert.ok(at3(row.recall) >= REPORTED.recall, `recall ${row.recall.toFixed(3)}`);
  });

  it('the extractive answer picks the passage sentence that answers, and passes both checks', async () => {
    const cases: [string, string[], RegExp][] = [
      ['what is the late fee', LATE, /late fee of \$10/],
      [
        'do you have a senior discount',
        [articles.get('policies/senior-and-low-income-discounts')!],
        /20% off/,
      ],
      [
        'when will my power be back',
        [articles.get('outages/power-restoration')!],
        /within 4 hours/,
      ],
      ['can i use my own router', [articles.get('plans/equipment')!], /bring your own router/],
    ];
    const extractive = new ExtractiveAnswerer(embedder);
    for (const [question, documents, expected] of cases) {
      const picked = await extractive.pick(question, documents);
      assert.ok(picked.length >= 1 && picked.length <= 2, `${question}: ${picked.join(' | ')}`);
      assert.match(picked.join(' '), expected, `${question}: ${picked.join(' | ')}`);
      const grounding = new GroundingIndex({ documents, facts: [] });
      const faithful = await FaithfulnessIndex.build(embedder, { documents, facts: [] });
      for (const sentence of picked) {
        assert.ok(grounding.check(sentence).ok, `ungrounded: ${sentence}`);
        assert.ok((await faithful.check(sentence)).ok, `unfaithful: ${sentence}`);
      }
    }
  });

  it('the extractive answer never says a section heading, and reads each sentence under its own', async () => {
    // As retrieval hands them over: chunks whose first line is their section's heading.
    const chunks = chunkDocument({
      docId: 'billing/payment-posting.md',
      topic: 'billing',
      source: fs.readFileSync(path.join(DEFAULT_KB_FOLDER, 'billing/payment-posting.md'), 'utf8'),
    });
    const heading = chunks.find((c) => c.text.startsWith('If your payment has not shown up yet\n'));
    assert.equal(chunkHeading(heading!.text).heading, 'If your payment has not shown up yet');
    const sentences = async (question: string, opts: { headings?: boolean } = {}) =>
      (await new ExtractiveAnswerer(embedder, opts).pick(question, chunks)).join(' ');
    // Without reading headings the heading line is taken for a sentence, and it is said.
    const blind = await sentences('has my payment not shown up yet', { headings: false });
    assert.match(blind, /If your payment has not shown up yet\./);
    const read = await sentences('has my payment not shown up yet');
    assert.doesNotMatch(read, /If your payment has not shown up yet\./);
    assert.match(read, /has not posted after 1 business day/);
    // "Mailed payments." is the context that places the 7 days.
    assert.match(await sentences('i mailed a check, how long until it posts'), /within 7 days/);
  });

  it('a chunk heading is a first line without a full stop; prose and list items are not', () => {
    assert.deepEqual(chunkHeading('Late fee\nA late fee of $10 applies.'), {
      heading: 'Late fee',
      body: 'A late fee of $10 applies.',
    });
    assert.equal(chunkHeading('Do I pay it while it is reviewed?\nNo.').heading, 'Do I pay it while it is reviewed?'); // prettier-ignore
    assert.equal(chunkHeading('You can pay in several ways:\n- Online').heading, undefined);
    assert.equal(chunkHeading('- Online, in your account\n- By phone').heading, undefined);
    assert.equal(chunkHeading('One line only').heading, undefined);
  });

  it('the extractive answer weighs how close each passage came in retrieval', async () => {
    const late = 'Late fee\nIf the bill is still unpaid 5 days after the due date, a late fee of $10 is added to your account.'; // prettier-ignore
    const dispute = 'How long you have to dispute\nIf you think a charge on your bill is wrong, you can dispute it within 60 days of the bill date.'; // prettier-ignore
    const extractive = new ExtractiveAnswerer(embedder, { maxSentences: 1 });
    const question = 'how long after the bill is it late';
    const pick = async (lateScore: number, disputeScore: number) =>
      (
        await extractive.pick(question, [
          { text: late, score: lateScore },
          { text: dispute, score: disputeScore },
        ])
      ).join(' ');
    assert.match(await pick(0.9, 0.1), /late fee of \$10/);
    assert.match(await pick(0.1, 0.9), /within 60 days/);
  });

  it('the extractive answer gives the figure, and never sends the caller to an article', async () => {
    // As flite slt's "um, what's the late fee if I pay late" was heard: "a late fee can apply"
    // shares more of its words than "a late fee of $10 is added".
    const question = "um what's the length of you if i pay late";
    const said = async (opts: { figureWeight?: number }) =>
      (await new ExtractiveAnswerer(embedder, opts).pick(question, LATE)).join(' ');
    assert.doesNotMatch(await said({ figureWeight: 0 }), /\$10/);
    assert.match(await said({}), /a late fee of \$10 is added/);
    for (const q of ['where can i read the details on late fees', 'tell me about late fees']) {
      const picked = await new ExtractiveAnswerer(embedder).pick(q, LATE);
      assert.ok(picked.length > 0 && picked.every((s) => !/^See the article/.test(s)), picked.join(' | ')); // prettier-ignore
    }
  });

  it('a sentence that leans on the one before it is said after that one, or not at all', async () => {
    const autopay = chunkDocument({
      docId: 'billing/autopay.md',
      topic: 'billing',
      source: fs.readFileSync(path.join(DEFAULT_KB_FOLDER, 'billing/autopay.md'), 'utf8'),
    }).map((c) => c.text);
    // The closest sentence is "You can turn it off the same way at any time.", which alone
    // says neither what nor how.
    const question = 'how do i turn off autopay';
    const said = await new ExtractiveAnswerer(embedder).pick(question, autopay);
    const off = said.indexOf('You can turn it off the same way at any time.');
    assert.ok(off > 0, said.join(' | '));
    assert.match(said[off - 1]!, /^You can turn on autopay online in your account/);
    // With room for one sentence only, it is not said alone.
    const one = await new ExtractiveAnswerer(embedder, { maxSentences: 1 }).pick(question, autopay);
    assert.equal(one.length, 1);
    assert.doesNotMatch(one[0]!, /the same way/);
  });
});
