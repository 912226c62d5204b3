// Moonshine and Whisper write numerals; the transcript's readers (intent model, redactor, grammar
// engine's vocabulary) take spoken words. spokenForm spells them the way a caller says them.
import assert from 'node:assert/strict';
import { redactText } from '../../conversation/safety/redact';
import { normalizeUtterance } from '../../providers/intent/normalize';
import { cardinal, spokenForm } from '../../providers/stt/spoken-numbers';

describe('moonshine transcripts in spoken form', () => {
  it('says amounts in dollars and cents', () => {
    assert.equal(spokenForm('My bill is $42.50.'), 'my bill is forty two dollars and fifty cents');
    assert.equal(spokenForm('$1 today'), 'one dollar today');
    assert.equal(spokenForm('Pay $1,200.'), 'pay one thousand two hundred dollars');
    assert.equal(spokenForm('$0.05'), 'zero dollars and five cents');
  });

  it('says codes digit by digit and quantities as numbers', () => {
    assert.equal(
      spokenForm('My account number is 4792.'),
      'my account number is four seven nine two',
    );
    assert.equal(spokenForm('PIN 0042'), 'pin zero zero four two');
    assert.equal(spokenForm('It takes 24 hours, 3 days.'), 'it takes twenty four hours three days');
    assert.equal(
      spokenForm('the 500 plan at 2.5%'),
      'the five hundred plan at two point five percent',
    );
    assert.equal(spokenForm('twenty-five'), 'twenty five');
  });

  it('keeps words, apostrophes and nothing else, in lower case', () => {
    assert.equal(spokenForm("What's my balance?"), "what's my balance");
    assert.equal(spokenForm("  'Goodbye.'  "), 'goodbye');
    assert.equal(spokenForm(''), '');
  });

  it('writes whole numbers as words', () => {
    assert.equal(cardinal(0), 'zero');
    assert.equal(cardinal(115), 'one hundred fifteen');
    assert.equal(cardinal(2_000_019), 'two million nineteen');
  });

  it('keeps every digit of a long run, so the redactor sees the whole card number', () => {
    const heard = 'My card number, 41111111111111111111111111111.';
    const said = spokenForm(heard);
    assert.equal(said.split(' ').filter((w) => w === 'one').length, 28);
    assert.equal(redactText(said), 'my card number [card]');
    assert.equal(redactText(heard), 'My card number, [card].');
  });

  it('gives the intent model words, not numerals', () => {
    assert.equal(
      normalizeUtterance(spokenForm('Can I pay $65 today?')),
      'can i pay sixty five dollars today',
    );
  });
});
