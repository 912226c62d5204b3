// The sentence chunker releases each sentence as soon as it has certainly ended — whatever
// the pieces the model streams — and never splits amounts, decimals or abbreviations.
import assert from 'node:assert/strict';
import { SentenceChunker, sentences } from '../../providers/llm/sentence-chunker';

/** Feeds `text` in pieces of `size` characters; returns the sentences and when each came out. */
function chunk(text: string, size: number): { out: string[]; releasedAt: number[] } {
  const c = new SentenceChunker();
  const out: string[] = [];
  const releasedAt: number[] = [];
  for (let i = 0; i < text.length; i += size) {
    for (const s of c.push(text.slice(i, i + size))) {
      out.push(s);
      releasedAt.push(Math.min(i + size, text.length));
    }
  }
  for (const s of c.flush()) {
    out.push(s);
    releasedAt.push(text.length);
  }
  return { out, releasedAt };
}

/** The same sentences whether the text comes whole, in tokens, or a character at a time. */
function split(text: string): string[] {
  const whole = chunk(text, text.length).out;
  for (const size of [1, 2, 3, 5, 7])
    assert.deepEqual(chunk(text, size).out, whole, `size ${size}`);
  return whole;
}

describe('sentence chunker', () => {
  it('splits plain sentences on . ! ?', () => {
    assert.deepEqual(split('Your bill is due on the 21st. Anything else? Great!'), [
      'Your bill is due on the 21st.',
      'Anything else?',
      'Great!',
    ]);
  });

  it('keeps amounts and decimals whole', () => {
    assert.deepEqual(split('Your balance is $12.50 today. Power costs 1.5 cents more at peak.'), [
      'Your balance is $12.50 today.',
      'Power costs 1.5 cents more at peak.',
    ]);
    assert.deepEqual(split('The fee is $10. It applies after 5 days.'), [
      'The fee is $10.',
      'It applies after 5 days.',
    ]);
  });

  it('does not end a sentence at titles and e.g. / i.e.', () => {
    assert.deepEqual(
      split(
        'Mr. Smith and Dr. Jones can pay by card, e.g. Visa. Ms. Lee pays by check, i.e. Mail.',
      ),
      ['Mr. Smith and Dr. Jones can pay by card, e.g. Visa.', 'Ms. Lee pays by check, i.e. Mail.'],
    );
  });

  it('ends a sentence after a.m. / p.m. / etc. only before a capital', () => {
    assert.deepEqual(
      split('Maintenance starts at 9 a.m. on Sunday and ends by 5 p.m. Call us then.'),
      ['Maintenance starts at 9 a.m. on Sunday and ends by 5 p.m.', 'Call us then.'],
    );
    assert.deepEqual(split('We take Visa, Mastercard, etc. Cash is not accepted.'), [
      'We take Visa, Mastercard, etc.',
      'Cash is not accepted.',
    ]);
  });

  it('handles ellipses', () => {
    assert.deepEqual(split('Let me check... yes, it posted. One moment… All done.'), [
      'Let me check... yes, it posted.',
      'One moment…',
      'All done.',
    ]);
  });

  it('keeps closing quotes and brackets with their sentence', () => {
    assert.deepEqual(
      split('The plan is called "Fiber 500." It costs $65 a month (taxes extra.) Ok.'),
      ['The plan is called "Fiber 500."', 'It costs $65 a month (taxes extra.)', 'Ok.'],
    );
  });

  it('does not split list numbers or a URL, and breaks at line ends', () => {
    assert.deepEqual(split('Check northwind.example/outages for the map.\n1. Report it\n2. Wait'), [
      'Check northwind.example/outages for the map.',
      '1. Report it',
      '2. Wait',
    ]);
  });

  it('releases a sentence as soon as the next word shows it ended, not at the end', () => {
    const text = 'Bills are due 21 days after issue. Late fees are $10 after 5 more days.';
    const { out, releasedAt } = chunk(text, 1);
    assert.equal(out[0], 'Bills are due 21 days after issue.');
    // Released on the "L" of "Late": one character of lookahead past the space.
    assert.equal(releasedAt[0], text.indexOf('Late') + 1);
  });

  it('waits while a terminator could still be part of an amount', () => {
    const c = new SentenceChunker();
    assert.deepEqual(c.push('That is $12.'), []);
    assert.deepEqual(c.push('50 per month. '), []);
    assert.deepEqual(c.push('Next'), ['That is $12.50 per month.']);
    assert.deepEqual(c.flush(), ['Next']);
  });

  it('flushes the rest at the end and ignores blank input', () => {
    const c = new SentenceChunker();
    assert.deepEqual(c.push('  \n '), []);
    assert.deepEqual(c.push('No final stop'), []);
    assert.deepEqual(c.flush(), ['No final stop']);
    assert.deepEqual(c.flush(), []);
  });

  it('turns a stream of pieces into a stream of sentences', async () => {
    async function* tokens() {
      yield* ['The late', ' fee is $1', '0.', ' Autopay saves', ' $5 a month.'];
    }
    const got: string[] = [];
    for await (const s of sentences(tokens())) got.push(s);
    assert.deepEqual(got, ['The late fee is $10.', 'Autopay saves $5 a month.']);
  });
});
