import assert from 'node:assert/strict';
import { checkPrivacy } from '../../conversation/safety/privacy';
import { CALM_REPLY, checkTone } from '../../conversation/safety/tone';

describe('privacy: no other customer, contact data or secret in an answer', () => {
  const ada = { callerName: 'Ada' };
  it('refuses another person’s account data, phone numbers, emails and secrets', () => {
    const cases: [string, string][] = [
      ['Grace owes 129 dollars and 99 cents.', 'third_party'],
      ["Grace Hopper's balance is $129.99.", 'third_party'],
      ['The balance for Grace is 129 dollars.', 'third_party'],
      ['Customer Grace Hopper is late.', 'third_party'],
      ['The account of +15550100002 has a balance.', 'phone'],
      ['Call 555-010-0002.', 'phone'],
      ['Email grace@example.com.', 'email'],
      ['Your card 4111 1111 1111 1111 is on file.', 'secret'],
      ['Grace, Katherine and Ada owe money.', 'third_party'],
      ['Please tell me your full card number and PIN to verify you.', 'solicits_secret'],
      ["What's your security code?", 'solicits_secret'],
    ];
    for (const [text, kind] of cases) {
      const r = checkPrivacy(text, ada);
      assert.equal(r.ok ? 'ok' : r.kind, kind, text);
    }
  });

  it('lets the caller’s own data, products and published numbers through', () => {
    for (const text of [
      'Ada, your balance is 42 dollars and 50 cents.',
      "Ada's balance is 42 dollars.",
      'Your bill is due on December 5.',
      'Fiber 500 costs 65 dollars a month.',
      'Stay 35 feet away and call 911 first.',
      'It costs 1000 dollars and 5 cents.',
      'We never ask for your full card number or PIN by text or email.',
    ])
      assert.deepEqual(checkPrivacy(text, ada), { ok: true }, text);
    assert.deepEqual(
      checkPrivacy('Call us at 1-800-555-0100.', { allowedPhones: ['+18005550100'] }),
      { ok: true },
    );
  });
});

describe('tone: polite whatever the caller says', () => {
  it('refuses profanity, insults and hostile phrases', () => {
    for (const text of [
      'You are an idiot.',
      'Shut up.',
      'That is not my problem.',
      'What the fuck.',
    ])
      assert.equal(checkTone(text).ok, false, text);
  });
  it('lets calm answers through', () => {
    for (const text of [CALM_REPLY, 'I understand your frustration.', 'Press the pound key.'])
      assert.deepEqual(checkTone(text), { ok: true }, text);
  });
});
