import assert from 'node:assert/strict';
import type { Intent } from '../../contracts/call';
import { FakeIntentClassifier } from '../../providers/intent/fake';
import {
  MIXED_ANSWER_CONFIDENCE,
  MixedAnswerGuard,
  saysYesAndNo,
} from '../../providers/intent/mixed-answer';
import { PROMPTS, initialCallState, step, type CallState } from '../../workflows/call-state';

describe('the mixed-answer guard: a reading with both a yes and a no is no answer', () => {
  it('finds both in self-corrections and mishearings, not in plain answers or idioms', () => {
    for (const both of [
      'Yes, no, wait.',
      'yeah nope go ahead',
      'no go ahead',
      "yeah don't and",
      'okay cancel it',
      // "yeah, go ahead" as the grammar heard it in flite slt: a put-off is a no too.
      'not yet go ahead',
      'sure maybe later',
    ])
      // prettier-ignore
      assert.equal(saysYesAndNo(both), true, both);
    for (const one of [
      'yes please',
      'no thanks',
      'nope',
      'yeah no problem',
      'sure, why not',
      "I'm not sure",
      'go ahead',
      'not yet',
    ])
      // prettier-ignore
      assert.equal(saysYesAndNo(one), false, one);
  });

  it('keeps the intent of a mixed yes or no at a confidence below the threshold; others pass', async () => {
    const said: Record<string, Intent> = {
      'yes no wait': { name: 'confirm_yes', confidence: 0.86 },
      'yeah actually no': { name: 'confirm_no', confidence: 0.82 },
      'yes please': { name: 'confirm_yes', confidence: 0.99 },
      // Not an answer: "no, that's all" with a yes-word in it stays a goodbye.
      "okay no that's all": { name: 'goodbye', confidence: 0.9 },
    };
    const guard = new MixedAnswerGuard(new FakeIntentClassifier(said));
    assert.equal(guard.name, 'fake-intent');
    assert.deepEqual(await guard.classify('yes no wait'), { name: 'confirm_yes', confidence: MIXED_ANSWER_CONFIDENCE }); // prettier-ignore
    assert.deepEqual(await guard.classify('yeah actually no'), { name: 'confirm_no', confidence: MIXED_ANSWER_CONFIDENCE }); // prettier-ignore
    assert.deepEqual(await guard.classify('yes please'), said['yes please']);
    assert.deepEqual(await guard.classify("okay no that's all"), said["okay no that's all"]);
  });

  it('so the payment question is asked again, nothing paid', async () => {
    const guard = new MixedAnswerGuard(new FakeIntentClassifier({ 'yes no wait': { name: 'confirm_yes', confidence: 0.86 } })); // prettier-ignore
    const confirming: CallState = {
      ...initialCallState(),
      phase: 'confirm_payment',
      pendingPayment: { invoiceId: 'inv_1', amountCents: 4250, dueDate: '2026-12-05' },
    };
    const next = step(confirming, { kind: 'turn', intent: await guard.classify('yes no wait'), asrConfidence: 1, threshold: 0.5 }); // prettier-ignore
    assert.equal(next.effect, undefined);
    assert.equal(next.say, PROMPTS.repeat);
    assert.equal(next.state.phase, 'confirm_payment');
  });
});
