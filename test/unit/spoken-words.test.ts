// The text normaliser of speech said from prerecorded pieces: amounts, dates, ordinals and
// numbers spelled out as words; what has no spoken form is a clear error, never a guess.
import assert from 'node:assert/strict';
import {
  NotSpeakableError,
  amountWords,
  numberWords,
  ordinalWords,
  spokenWords,
} from '../../providers/tts/spoken-words';

const said = (text: string) => spokenWords(text).join(' ');

describe('spoken words (text → the words a voice says)', () => {
  it('spells whole numbers from zero to the millions', () => {
    assert.equal(numberWords(0).join(' '), 'zero');
    assert.equal(numberWords(13).join(' '), 'thirteen');
    assert.equal(numberWords(40).join(' '), 'forty');
    assert.equal(numberWords(105).join(' '), 'one hundred five');
    assert.equal(numberWords(999).join(' '), 'nine hundred ninety nine');
    assert.equal(numberWords(1_000).join(' '), 'one thousand');
    assert.equal(numberWords(1_205).join(' '), 'one thousand two hundred five');
    assert.equal(
      numberWords(987_654_321).join(' '),
      'nine hundred eighty seven million six hundred fifty four thousand three hundred twenty one',
    );
    assert.equal(numberWords(2_000_010).join(' '), 'two million ten');
  });

  it('says currency in dollars and cents, singular where it is one', () => {
    assert.equal(said('$42.17'), 'forty two dollars and seventeen cents');
    assert.equal(said('$1.01'), 'one dollar and one cent');
    assert.equal(said('$0.50'), 'fifty cents');
    assert.equal(said('$0.5'), 'fifty cents');
    assert.equal(said('$65'), 'sixty five dollars');
    assert.equal(said('$1,250.00'), 'one thousand two hundred fifty dollars');
    assert.equal(amountWords(0).join(' '), 'zero dollars');
    // The state machine's own wording (contracts/spoken.ts) has digits before the unit.
    assert.equal(
      said('129 dollars and 99 cents'),
      'one hundred twenty nine dollars and ninety nine cents',
    );
  });

  it('says dates as month and ordinal day, whatever the written form', () => {
    assert.equal(said('2026-12-05'), 'december fifth');
    assert.equal(said('2026-03-21T00:00:00Z'), 'march twenty first');
    assert.equal(said('12/31/2026'), 'december thirty first');
    assert.equal(said('December 5'), 'december fifth');
    assert.equal(said('due on August 2nd.'), 'due on august second');
    assert.equal(said('the 30th'), 'the thirtieth');
    assert.equal(ordinalWords(20).join(' '), 'twentieth');
    assert.equal(ordinalWords(22).join(' '), 'twenty second');
  });

  it('keeps words and turns punctuation into pauses (a full stop outweighs a comma)', () => {
    assert.deepEqual(spokenWords("Okay, I'll check. Is that all?"), [
      'okay',
      ',',
      "i'll",
      'check',
      '.',
      'is',
      'that',
      'all',
    ]);
    assert.deepEqual(spokenWords('Well,. yes'), ['well', '.', 'yes']);
    assert.equal(said('pay-as-you-go'), 'pay as you go');
    assert.equal(said('3.5 times'), 'three point five times');
  });

  for (const [what, text] of [
    ['a negative amount', 'Your balance is -$12.00.'],
    ['a negative number', 'It is -5 outside.'],
    ['a number above the millions', 'We served 1,000,000,000 calls.'],
    ['an impossible month', 'Due 2026-13-01.'],
    ['an impossible day', 'Due December 32.'],
    ['an ordinal past the days of a month', 'The 100th caller.'],
    ['a symbol without a spoken form', 'Save 20% today.'],
    ['a word glued to digits', 'Call at 5pm.'],
    ['fractions of a cent', '$42.175 a kilowatt hour'],
  ]) {
    it(`refuses ${what} with a clear error that does not echo the text`, () => {
      assert.throws(
        () => spokenWords(text!),
        (err: unknown) =>
          err instanceof NotSpeakableError &&
          err.message.length > 0 &&
          !err.message.includes(text!.split(' ').pop()!),
      );
    });
  }

  it('refuses bad numbers given directly', () => {
    assert.throws(() => numberWords(-1), NotSpeakableError);
    assert.throws(() => numberWords(1.5), NotSpeakableError);
    assert.throws(() => numberWords(1_000_000_000), NotSpeakableError);
    assert.throws(() => ordinalWords(0), NotSpeakableError);
    assert.throws(() => amountWords(-100), NotSpeakableError);
  });
});
