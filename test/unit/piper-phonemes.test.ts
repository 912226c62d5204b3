// Piper's input as its phonemizer lays it out: clauses split where the voice should pause
// (never inside an amount), spoken out for the ear, and ids BOS, (phoneme pad)…, EOS.
import assert from 'node:assert/strict';
import { phonemeIds, phonemeTable, splitClauses } from '../../providers/tts/piper-phonemes';

describe('Piper phonemes', () => {
  it('splits at commas, semicolons and sentence ends, never inside a number', () => {
    assert.deepEqual(splitClauses('You owe $1,234.50, due on December 5. Pay now?'), [
      { text: 'you owe one thousand two hundred thirty four dollars and fifty cents', end: ',' },
      { text: 'due on december fifth', end: '.' },
      { text: 'pay now', end: '?' },
    ]);
    assert.deepEqual(splitClauses('no punctuation at all'), [
      { text: 'no punctuation at all', end: '.' },
    ]);
    assert.deepEqual(splitClauses(' ,. '), []);
  });

  it('keeps text the spelling rules cannot say for espeak-ng to read', () => {
    assert.deepEqual(splitClauses('Press # now.'), [{ text: 'Press # now', end: '.' }]);
  });

  it('lays ids out as BOS pad, each phoneme then pad, EOS; unknown symbols dropped', () => {
    const table = phonemeTable({ _: [0], '^': [1], $: [2], h: [20], i: [21], ',': [8] });
    assert.deepEqual(phonemeIds('hi,✱', table), [1, 0, 20, 0, 21, 0, 8, 0, 2]);
    assert.throws(() => phonemeTable({ _: [0], '^': [1] }), /no '\$'/);
  });
});
