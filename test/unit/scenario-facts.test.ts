// The knowledge scenarios' checks hold for the answer the knowledge base gives (as it is
// spoken) and fail for answers the local stack was seen giving to those questions instead.
import assert from 'node:assert/strict';
import { forTheEar } from '../../conversation/safety/for-the-ear';
import { judge, pickScenarios, type ScenarioOutcome } from '../../testing/scenarios';

const answeredWith = (text: string): ScenarioOutcome =>
  ({
    transcript: [
      { seq: 1, speaker: 'agent', turnId: 1, text, answer: { servedBy: 'extractive', documentIds: [], fallbacks: [] } }, // prettier-ignore
    ],
    payments: { payments: 0, charges: 0, refunds: 0 },
    historyText: '',
    result: { disposition: 'caller_hung_up' },
  }) as unknown as ScenarioOutcome;

const CASES: Array<[string, string, string[]]> = [
  ['kb-late-fee', 'If the bill is still unpaid 5 days after the due date, a late fee of $10 is added to your account.', ['If you want to pay in person, you can pay at one of our partner stores instead.']], // prettier-ignore
  ['kb-autopay', 'You can turn on autopay online in your account, in the app, or by phone with an agent.', ['If you want to pay in person, you can pay at one of our partner stores instead.', 'With autopay, your bill is paid automatically from your card or bank account each month.']], // prettier-ignore
  ['kb-outage', 'If your power or internet is out, you can report the outage by phone or in the Northwind app.', ['After that, let Northwind know by phone so a crew can make the area safe.']], // prettier-ignore
  ['kb-moving', 'If you are moving, you can transfer your Northwind service to your new address.', ['Moving to a new home is a big step.']], // prettier-ignore
  ['kb-senior-discount', 'Qualifying senior and low-income customers get 20% off their power.', ['The discount applies to your electricity.']], // prettier-ignore
  ['kb-payment-posting', 'A payment made by phone or online posts to your account within 1 business day.', ['Your bill is due 21 days after it is issued.', 'If your payment has not shown up yet.']], // prettier-ignore
];

describe('knowledge scenarios: the check is the asked fact, not a word of the topic', () => {
  for (const [name, right, wrong] of CASES) {
    it(name, () => {
      const [scenario] = pickScenarios([name]);
      assert.ok(scenario, name);
      const verdict = (text: string) => judge(scenario, answeredWith(forTheEar(text)));
      assert.ok(verdict(right).ok, `${forTheEar(right)}: ${verdict(right).failed.join('; ')}`);
      for (const w of wrong) assert.equal(verdict(w).ok, false, `passed on: ${w}`);
    });
  }
});
