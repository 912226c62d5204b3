import assert from 'node:assert/strict';
import {
  checkGrounding,
  extractPlanNames,
  GroundingIndex,
  NOT_CONFIDENT,
  numeralize,
} from '../../conversation/safety/grounding';

// Chunks as the demo knowledge base states them (see the domain fact sheet).
const DOCS = [
  'Internet plans: "Basic 100" is $40/month (100 Mbps), "Fiber 500" is $65/month (500 Mbps), "Gigabit Pro" is $90/month (1 Gbps). No data caps.',
  'Mobile plans: "Talk & Text" $15/month, "Unlimited Essential" $35/month, "Unlimited Plus" $50/month (includes 30 GB hotspot).',
  'Power plans: "Standard Rate" 14 cents per kWh; "Green Choice" 100% renewable at 16 cents per kWh; "Time of Use" 9 cents off-peak (9 pm–7 am) and 22 cents peak.',
  'Bills are issued on the 1st of each month and due 21 days later. Late fee: $10 if unpaid 5 days after the due date. Autopay discount: $5 a month.',
  'Power restoration target: most outages within 4 hours; storm outages can take 24 to 72 hours. Downed power lines: stay 35 feet away and call 911 first.',
  'Senior and low-income discount: 20% off power for qualifying customers.',
];
const FACTS = ['Open bill $42.50 due 2026-12-05', 'Plan: Fiber 500'];
const check = (sentence: string, documents = DOCS, facts = FACTS) =>
  checkGrounding(sentence, { documents, facts });
const grounded = (sentence: string) =>
  assert.deepEqual(check(sentence), { ok: true, unsupported: [] }, sentence);

describe('grounding: numbers, dates and plan names come from the sources', () => {
  it('has the refusal text', () => {
    assert.equal(
      NOT_CONFIDENT,
      'I am not confident in that answer. Let me connect you to an agent.',
    );
  });

  it('accepts figures the documents state, in any spoken or written form', () => {
    grounded('Fiber 500 costs $65 a month.');
    grounded('Fiber 500 costs sixty-five dollars a month.');
    grounded('The Fiber 500 plan gives you 500 megabits per second for 65 dollars a month.');
    grounded('Green Choice is 100 percent renewable at 16 cents per kilowatt hour.');
    grounded('Most outages are fixed within four hours; storms can take 24 to 72 hours.');
    grounded('Bills are issued on the first of each month and are due twenty-one days later.');
    grounded('Stay 35 feet away and call 911 first.');
    grounded('Talk & Text costs $15/month and Gigabit Pro gives you 1 Gbps.');
    grounded('Time of Use is 9 cents off-peak, from 9 pm to 7 am.');
    grounded('Qualifying seniors get twenty percent off power.');
  });

  it('accepts CRM facts: the balance and due date in any form', () => {
    grounded('Your bill of 42 dollars and 50 cents is due on December 5.');
    grounded('Your bill of $42.50 is due December 5th, 2026.');
    grounded('Your balance is forty-two dollars and fifty cents, due the 5th of December.');
    grounded('It is due on 12/05/2026.');
  });

  it('rejects an invented number, amount, percentage or date', () => {
    assert.deepEqual(check('Fiber 500 costs $70 a month.'), { ok: false, unsupported: ['$70'] });
    assert.deepEqual(check('Most outages are fixed within two hours.').ok, false);
    assert.deepEqual(check('Green Choice is thirty percent cheaper.'), {
      ok: false,
      unsupported: ['30 percent'],
    });
    assert.deepEqual(check('Your bill of $42.50 is due on December 6.'), {
      ok: false,
      unsupported: ['December 6'],
    });
    assert.equal(check('Your bill is due December 5, 2027.').ok, false);
    assert.equal(check('The late fee is 12 dollars and 50 cents.').ok, false);
    assert.equal(check('Payments post within 3 business days.').ok, false);
    assert.equal(check('Call us at 1-800-555-0199.').ok, false);
  });

  it('rejects a plan-looking name the documents do not have', () => {
    assert.deepEqual(check('Fiber 1000 costs $80 a month.'), {
      ok: false,
      unsupported: ['Fiber 1000', '$80'],
    });
    assert.deepEqual(check('The Gigabit Ultra plan is our fastest.'), {
      ok: false,
      unsupported: ['Gigabit Ultra'],
    });
    assert.deepEqual(check('Try the Unlimited Max plan.'), {
      ok: false,
      unsupported: ['Unlimited Max'],
    });
    assert.equal(check('The Family Saver bundle is cheaper.').ok, false);
  });

  it('accepts sentences without claims and ordinary words', () => {
    grounded('One of our agents can help you with that.');
    grounded('You can pay online, in the app, or by phone.');
    grounded('Ada, your plan has no data caps.');
  });

  it('needs the fact in the sources given: no documents, no figures', () => {
    assert.equal(check('Fiber 500 costs $65 a month.', [], []).ok, false);
    assert.equal(check('Your bill of $42.50 is due December 5.', DOCS, []).ok, false);
  });

  it('finds plan names in documents', () => {
    const names = extractPlanNames(DOCS);
    for (const n of [
      'Basic 100',
      'Fiber 500',
      'Gigabit Pro',
      'Talk & Text',
      'Green Choice',
      'Time of Use',
    ])
      assert.ok(names.includes(n), n);
  });

  it('normalises number words', () => {
    assert.equal(numeralize('sixty-five dollars'), '65 dollars');
    assert.equal(numeralize('one hundred and fifty feet'), '150 feet');
    assert.equal(numeralize('one business day'), '1 business day');
    assert.equal(numeralize('one of our agents'), 'one of our agents');
    assert.equal(numeralize('the twenty-first of March'), 'the 21 of March');
    assert.equal(numeralize('the first thing'), 'the first thing');
  });

  it('reuses one index for every sentence of an answer', () => {
    const index = new GroundingIndex({
      documents: DOCS,
      facts: FACTS,
      planNames: ['Senior Saver'],
    });
    assert.equal(index.check('Basic 100 is 40 dollars a month.').ok, true);
    assert.equal(index.check('Ask about the Senior Saver plan.').ok, true);
    assert.equal(index.check('Basic 100 is 45 dollars a month.').ok, false);
  });
});
