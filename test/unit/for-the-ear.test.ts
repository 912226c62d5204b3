import assert from 'node:assert/strict';
import { forTheEar, sentences } from '../../conversation/safety/for-the-ear';

describe('for-the-ear: short replies with amounts, dates and units in words', () => {
  it('speaks amounts and dates naturally', () => {
    assert.equal(
      forTheEar('Your bill of $42.50 is due on 2026-12-05.'),
      'Your bill of 42 dollars and 50 cents is due on December 5.',
    );
    assert.equal(forTheEar('The fee is $150.'), 'The fee is 150 dollars.');
    assert.equal(forTheEar('It is $0.14 per kWh.'), 'It is 14 cents per kilowatt hour.');
    assert.equal(forTheEar('It costs $1,000.05.'), 'It costs 1000 dollars and 5 cents.');
    assert.equal(forTheEar('Due 12/12/2026.'), 'Due December 12.');
  });

  it('says units, percentages and symbols as words', () => {
    assert.equal(
      forTheEar('Fiber 500 is $65/month for 500 Mbps.'),
      'Fiber 500 is 65 dollars a month for 500 megabits per second.',
    );
    assert.equal(
      forTheEar('Gigabit Pro gives 1 Gbps.'),
      'Gigabit Pro gives 1 gigabits per second.',
    );
    assert.equal(
      forTheEar('Green Choice is 100% renewable at 16 cents per kWh.'),
      'Green Choice is 100 percent renewable at 16 cents per kilowatt hour.',
    );
    assert.equal(forTheEar('Talk & Text is $15/mo.'), 'Talk and Text is 15 dollars a month.');
    assert.equal(forTheEar('Storms take 24–72 hours.'), 'Storms take 24 to 72 hours.');
    assert.equal(
      forTheEar('Check northwind.example/outages for the map.'),
      'Check northwind dot example slash outages for the map.',
    );
  });

  it('keeps at most two sentences and drops markdown', () => {
    assert.equal(
      forTheEar('**Basic 100** is $40/month. Fiber 500 is $65/month. Gigabit Pro is $90/month.'),
      'Basic 100 is 40 dollars a month. Fiber 500 is 65 dollars a month.',
    );
    assert.equal(
      forTheEar('- Pay online\n- Pay in the app\n- Pay by mail'),
      'Pay online. Pay in the app.',
    );
    assert.equal(forTheEar('One. Two. Three.', { maxSentences: 1 }), 'One.');
    assert.equal(forTheEar(''), '');
  });

  it('uses the caller name every few turns, once, where it fits', () => {
    const text = 'Your bill is $5.';
    assert.equal(forTheEar(text, { name: 'Ada', turn: 3 }), 'Ada, your bill is 5 dollars.');
    assert.equal(forTheEar(text, { name: 'Ada', turn: 4 }), 'Your bill is 5 dollars.');
    assert.equal(
      forTheEar(text, { name: 'Ada', turn: 2, nameEvery: 2 }),
      'Ada, your bill is 5 dollars.',
    );
    assert.equal(
      forTheEar(text, { name: 'Ada', turn: 3, nameEvery: 0 }),
      'Your bill is 5 dollars.',
    );
    assert.equal(
      forTheEar('Ada, your bill is $5.', { name: 'Ada', turn: 3 }),
      'Ada, your bill is 5 dollars.',
    );
    assert.equal(forTheEar(text, { turn: 3 }), 'Your bill is 5 dollars.');
  });

  it('keeps a name capitalised after the caller name', () => {
    assert.equal(
      forTheEar('Fiber 500 is $65/month.', { name: 'Ada', turn: 3 }),
      'Ada, Fiber 500 is 65 dollars a month.',
    );
    assert.equal(
      forTheEar('Time of Use is 9 cents off-peak.', { name: 'Ada', turn: 3 }),
      'Ada, Time of Use is 9 cents off-peak.',
    );
    assert.equal(
      forTheEar('Storm outages take longer.', { name: 'Ada', turn: 3 }),
      'Ada, storm outages take longer.',
    );
    assert.equal(
      forTheEar('Northwind bills monthly.', { name: 'Ada', turn: 3, properNouns: ['Northwind'] }),
      'Ada, Northwind bills monthly.',
    );
  });

  it('splits sentences without breaking decimals', () => {
    assert.deepEqual(sentences('It is 42.50 today. Yes! Ok? fine'), [
      'It is 42.50 today.',
      'Yes!',
      'Ok? fine',
    ]);
  });
});
