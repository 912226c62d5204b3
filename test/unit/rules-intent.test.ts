import assert from 'node:assert/strict';
import { RulesIntentClassifier } from '../../providers/intent/rules';

const classifier = new RulesIntentClassifier();

describe('rules intent classifier', () => {
  const cases: [string, string][] = [
    ["what's my balance", 'check_balance'],
    ['how much do I owe', 'check_balance'],
    ['can you tell me my balance please', 'check_balance'],
    ['I want to pay my bill', 'pay_bill'],
    ['make a payment', 'pay_bill'],
    ['pay my balance', 'pay_bill'],
    ['yes', 'confirm_yes'],
    ['yes please pay it', 'confirm_yes'],
    ['no', 'confirm_no'],
    ["no don't do that", 'confirm_no'],
    ['let me talk to a real person', 'talk_to_agent'],
    ['goodbye', 'goodbye'],
    ["no, that's all thanks", 'goodbye'],
    ['tell me about your fiber internet plans', 'out_of_scope'],
  ];
  for (const [text, expected] of cases) {
    it(`"${text}" → ${expected} above the 0.5 gate`, async () => {
      const r = await classifier.classify(text);
      assert.equal(r.name, expected);
      assert.ok(r.confidence >= 0.5, `confidence ${r.confidence}`);
    });
  }

  it('a fragment or a tie between two strong intents falls below the gate', async () => {
    assert.ok((await classifier.classify('uh')).confidence < 0.5);
    const tie = await classifier.classify('what do I owe and can I talk to a human');
    assert.ok(tie.confidence < 0.5, JSON.stringify(tie));
  });
});
