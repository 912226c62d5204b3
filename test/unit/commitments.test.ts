import assert from 'node:assert/strict';
import { checkCommitments, COMMITMENT_REFUSAL } from '../../conversation/safety/commitments';

const refused: [string, string][] = [
  ['I have refunded your last payment.', 'refund'],
  ["I've paid your bill.", 'payment'],
  ["I'll waive the late fee.", 'fee_waiver'],
  ['I’ll go ahead and refund that.', 'refund'],
  ['Let me waive that fee for you.', 'fee_waiver'],
  ['We will refund the difference.', 'refund'],
  ["I'd be happy to refund that for you.", 'refund'],
  ['You will get a refund of $20.', 'refund'],
  ["You'll be refunded by Friday.", 'refund'],
  ['I went ahead and credited your account.', 'credit'],
  ['I can give you a $20 credit.', 'credit'],
  ['I have applied a credit of 15 dollars.', 'credit'],
  ['You will be credited 10 dollars.', 'credit'],
  ["We've already reversed the charge.", 'fee_waiver'],
  ['The late fee has been waived.', 'fee_waiver'],
  ["You won't be charged the late fee.", 'fee_waiver'],
  ['Your payment has been processed.', 'payment'],
  ["I'll pay the bill with the card on file.", 'payment'],
  ['I have charged your card.', 'payment'],
  ['I have cancelled your service.', 'account_change'],
  ["I've upgraded you to Gigabit Pro.", 'account_change'],
  ["I'll switch you to Fiber 500.", 'account_change'],
  ['I can cancel your plan now.', 'account_change'],
  ['Your account has been closed.', 'account_change'],
  ["I promise you'll get it back.", 'guarantee'],
];

const allowed = [
  'Account credits are refunded within 10 business days after the account closes.',
  "I can't promise a refund; the billing team reviews refunds.",
  'Agents on the phone cannot promise refunds.',
  'I cannot waive fees, but an agent can review it.',
  'I will not refund anything.',
  'Let me connect you to an agent.',
  'I will transfer you to an agent.',
  'You can pay online, in the app, or by phone.',
  'You can cancel anytime; there is no contract.',
  'Plan changes take effect on the next billing cycle.',
  'Outages longer than 24 hours get a prorated credit on request within 30 days.',
  'You can request a credit within 30 days.',
  'If you pay late, a $10 late fee applies.',
  'Autopay gives you a $5 a month discount.',
  'We never ask for your full card number.',
  'To change your plan, please talk to an agent.',
  'Is there anything else I can help you with?',
];

describe('commitments: no promised refunds, credits, waivers, payments or changes', () => {
  for (const [text, kind] of refused) {
    it(`refuses "${text}"`, () => {
      const r = checkCommitments(text);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.kind, kind);
        assert.ok(text.toLowerCase().replace('’', "'").includes(r.phrase.toLowerCase()));
        assert.ok(r.reason.length > 0);
      }
    });
  }

  it('lets policy statements, refusals and hand-offs through', () => {
    for (const text of allowed) assert.deepEqual(checkCommitments(text), { ok: true }, text);
  });

  it('has a refusal that offers an agent and promises nothing', () => {
    assert.match(COMMITMENT_REFUSAL, /agent/);
    assert.deepEqual(checkCommitments(COMMITMENT_REFUSAL), { ok: true });
  });
});
