import assert from 'node:assert/strict';
import { DtmfCollector, type DtmfEntry } from '../../media-edge/call/dtmf-entry';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keypad entries (DtmfCollector)', () => {
  let entries: DtmfEntry[];
  let keypad: DtmfCollector;
  beforeEach(() => {
    entries = [];
    keypad = new DtmfCollector(60, (e) => entries.push(e));
  });
  afterEach(() => keypad.dispose());

  it('a single key is sent after the pause, in clear', async () => {
    keypad.push('1');
    assert.deepEqual(entries, []);
    await sleep(120);
    assert.deepEqual(entries, [{ digits: '1' }]);
  });

  it("'#' ends an entry at once and is not part of it", () => {
    keypad.push('2');
    keypad.push('#');
    assert.deepEqual(entries, [{ digits: '2' }]);
  });

  it('three or more keys (a PIN, a CVV, a card number) leave only their length', async () => {
    for (const k of '4111') keypad.push(k);
    keypad.push('#');
    for (const k of '123') keypad.push(k);
    await sleep(120);
    assert.deepEqual(entries, [{ maskedLength: 4 }, { maskedLength: 3 }]);
    assert.ok(!JSON.stringify(entries).match(/\d{3}/), 'no digits in what is sent');
  });

  it('keys still being typed at hang-up are dropped', async () => {
    keypad.push('9');
    keypad.dispose();
    await sleep(120);
    assert.deepEqual(entries, []);
  });
});
