// What the edge synthesizes, and where it caches it: a reply's sentences one by one, fixed
// prompts whole (shared, and prerecorded for a total TTS outage), anything else per call.
import assert from 'node:assert/strict';
import { cacheScopeFor, speechUnits } from '../../media-edge/speech-synthesizer';
import { PROMPTS } from '../../workflows/call-state';

describe('speech units and cache scope', () => {
  it('keeps a fixed prompt whole, even one of several sentences', () => {
    assert.deepEqual(speechUnits(PROMPTS.goodbye), [PROMPTS.goodbye]);
    assert.deepEqual(speechUnits(`  ${PROMPTS.stillThere}`), [PROMPTS.stillThere]);
  });

  it('splits a personal reply into sentences, the fixed tail on its own', () => {
    const reply = `Your payment of 42 dollars and 50 cents is complete. ${PROMPTS.anythingElse}`;
    assert.deepEqual(speechUnits(reply), [
      'Your payment of 42 dollars and 50 cents is complete.',
      PROMPTS.anythingElse,
    ]);
    assert.deepEqual(speechUnits(`Hello Ada, thanks for calling. ${PROMPTS.howCanIHelp}`), [
      'Hello Ada, thanks for calling.',
      PROMPTS.howCanIHelp,
    ]);
    assert.deepEqual(
      speechUnits(`Your bill of 129 dollars is due on December 12. ${PROMPTS.payNow}`),
      ['Your bill of 129 dollars is due on December 12.', PROMPTS.payNow],
      'a fixed prompt of two sentences stays whole after a personal one',
    );
    assert.deepEqual(speechUnits('A late fee of $10.50 applies. Autopay saves $5.'), [
      'A late fee of $10.50 applies.',
      'Autopay saves $5.',
    ]);
  });

  it('caches fixed prompts for everyone and anything else for its call only', () => {
    assert.equal(cacheScopeFor(PROMPTS.anythingElse, 'CA1'), 'shared');
    assert.deepEqual(cacheScopeFor('Your balance is 42 dollars.', 'CA1'), { callId: 'CA1' });
    assert.deepEqual(cacheScopeFor('Hello Ada, thanks for calling.', 'CA1'), { callId: 'CA1' });
    assert.equal(cacheScopeFor('Your balance is 42 dollars.'), 'shared', 'no call: tools');
  });
});
