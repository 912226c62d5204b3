import assert from 'node:assert/strict';
import pino from 'pino';
import {
  hasSensitive,
  luhnValid,
  pinoRedaction,
  redact,
  redactDeep,
  redactText,
} from '../../conversation/safety/redact';
import { linesSink } from '../../testing/log-sink';

const kinds = (text: string) => redact(text).redactions.map((r) => r.kind);

describe('redact: card numbers, CVV, PINs and bank details', () => {
  it('checks the Luhn sum', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('5555555555554444'), true);
    assert.equal(luhnValid('378282246310005'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('41x1'), false);
  });

  it('redacts written card numbers with spaces or dashes, anywhere in the text', () => {
    assert.equal(redactText('my card is 4111 1111 1111 1111 ok'), 'my card is [card] ok');
    assert.equal(redactText('4111-1111-1111-1111'), '[card]');
    assert.equal(redactText('use 5555555555554444 please'), 'use [card] please');
    assert.equal(redactText('amex 3782 822463 10005'), 'amex [card]');
  });

  it('reads digits spoken as words, with "oh" and "double"', () => {
    const spoken = 'four one one one one one one one one one one one one one one one';
    assert.equal(redactText(`my card number is ${spoken}`), 'my card number is [card]');
    assert.equal(
      redactText(
        'five five five five, double five five five, five five five five, four four four four',
      ),
      '[card]',
    );
    // 3782 822463 10005 spoken with "oh" for zero
    assert.equal(
      redactText('three seven eight two eight two two four six three one oh oh oh five'),
      '[card]',
    );
    assert.equal(redactText('it is 4111 one one one one 1111 one one one one'), 'it is [card]');
  });

  it('does not swallow an interjection "oh" or a leading "for" into the number', () => {
    const r = redact('oh, four one one one one one one one one one one one one one one one');
    assert.equal(r.text, 'oh, [card]');
    assert.equal(redactText('I want to pay for 4111 1111 1111 1111'), 'I want to pay for [card]');
  });

  it('redacts a mis-heard card number (Luhn fails) when a card word is near', () => {
    assert.equal(
      redactText('my card is four one one one one one one one one one one one one one one two'),
      'my card is [card]',
    );
    // Without a card word, a 16-digit non-Luhn number is an ordinary number, up to 19.
    assert.equal(redactText('reference 1234567812345678'), 'reference 1234567812345678');
    assert.equal(redactText('reference 1234567812345678123'), 'reference 1234567812345678123');
  });

  it('redacts a card number heard with digits to spare, whatever its length or checksum', () => {
    // What Moonshine wrote for a spoken 16-digit card: 29 digits, Luhn-invalid.
    const heard = '41111111111111111111111111111';
    assert.equal(heard.length, 29);
    assert.equal(luhnValid(heard), false);
    assert.equal(redactText(`My card number, ${heard}`), 'My card number, [card]');
    // The same run spelled out digit by digit: redacted whole, not a Luhn window of it.
    const spelled = Array.from(heard, (d) => (d === '4' ? 'four' : 'one')).join(' ');
    assert.equal(redactText(`my card number ${spelled}`), 'my card number [card]');
    // No card word: longer than any card number (19), so still a card.
    assert.equal(redactText(`my current number is ${heard}`), 'my current number is [card]');
    assert.equal(redactText(`it is ${spelled} thanks`), 'it is [card] thanks');
    assert.deepEqual(kinds('1234567890123456789012'), ['card']);
    // Near a card word, 12 digits or more is enough, Luhn or not.
    assert.equal(redactText('card 4111 1111 1111'), 'card [card]');
  });

  it('keeps ordinary numbers: phone numbers, amounts, dates, plan names', () => {
    for (const text of [
      'call me at +15550100002',
      'my number is 555 010 0001 and I owe 42.50',
      'the fiber 500 plan costs 65 dollars a month',
      'my bill of $129.99 is due 2026-12-12',
      'outages take 24 to 72 hours; stay 35 feet away and call 911',
      'I paid one hundred twenty nine dollars on December 5',
    ])
      assert.equal(redactText(text), text, text);
  });

  it('redacts CVV, expiry and PIN by the words near them', () => {
    assert.equal(
      redactText('card 4111 1111 1111 1111 expires 12/27 cvv 123'),
      'card [card] expires [expiry] cvv [cvv]',
    );
    assert.equal(
      redactText('the security code is four hundred twelve'),
      'the security code is [cvv]',
    );
    assert.equal(
      redactText('789 is the code on the back of my card'),
      '[cvv] is the code on the back of my card',
    );
    assert.equal(redactText('my pin is one two three four'), 'my pin is [pin]');
    assert.equal(redactText('PIN double five oh nine'), 'PIN [pin]');
    assert.equal(redactText('my passcode is 99887766'), 'my passcode is [pin]');
    assert.equal(
      redactText('my cvv is 123 and my pin is 9876'),
      'my cvv is [cvv] and my pin is [pin]',
    );
  });

  it('leaves amounts near a keyword alone', () => {
    assert.equal(
      redactText('my cvv is on the back and I want to pay 100 dollars'),
      'my cvv is on the back and I want to pay 100 dollars',
    );
    assert.equal(redactText('pin? the bill is $42.50'), 'pin? the bill is $42.50');
  });

  it('redacts SSNs by shape or by keyword, and bank account and routing numbers', () => {
    assert.equal(redactText('123-45-6789'), '[ssn]');
    assert.equal(
      redactText('my social is one two three four five six seven eight nine'),
      'my social is [ssn]',
    );
    assert.equal(redactText('last four of my social 6789'), 'last four of my social [ssn]');
    assert.equal(
      redactText('routing number 021000021 account number 12345678'),
      'routing number [routing number] account number [bank account]',
    );
    assert.equal(
      redactText('pay from my checking, 000123456789'),
      'pay from my checking, [bank account]',
    );
  });

  it('uses the previous utterance as context across turns', () => {
    assert.equal(redactText('one two three four'), 'one two three four');
    assert.equal(redactText('one two three four', { contextBefore: 'my pin is' }), '[pin]');
  });

  it('treats written dates as dates and its own placeholders as no keyword', () => {
    assert.equal(redactText('pin 1234, due 2026-12-05'), 'pin [pin], due 2026-12-05');
    assert.equal(redactText('[pin] then 2026 0101'), '[pin] then 2026 0101');
  });

  it('returns offsets into the input and is idempotent', () => {
    const input = 'pin 1234 card 4111111111111111';
    const r = redact(input);
    assert.deepEqual(
      r.redactions.map((x) => [x.kind, input.slice(x.start, x.end)]),
      [
        ['pin', '1234'],
        ['card', '4111111111111111'],
      ],
    );
    assert.equal(redactText(r.text), r.text);
    assert.deepEqual(kinds('nothing here'), []);
  });

  it('redacts every string of an event or log object', () => {
    const event = {
      type: 'utterance',
      text: 'my pin is 4321',
      nested: [{ said: 'card 4111 1111 1111 1111' }, 42],
      at: new Date(0),
    };
    const out = redactDeep(event);
    assert.equal(out.text, 'my pin is [pin]');
    assert.deepEqual(out.nested, [{ said: 'card [card]' }, 42]);
    assert.equal(out.at, event.at);
    assert.equal(event.text, 'my pin is 4321', 'the input is not modified');
    assert.equal(hasSensitive(JSON.stringify(out)), false);
  });

  it('pinoRedaction cleans log messages and objects', () => {
    const lines: string[] = [];
    const sink = linesSink(lines);
    const log = pino({ ...pinoRedaction, level: 'info' }, sink);
    log.info({ utterance: 'my card is 4111 1111 1111 1111' }, 'caller said pin %s', '1234');
    log.info('cvv 321 from %s', 'caller');
    // What was logged, without pino's own fields (a timestamp may hold these digits).
    const all = lines
      .map((l) => {
        const { msg, utterance } = JSON.parse(l) as { msg: string; utterance?: string };
        return `${msg} ${utterance ?? ''}`;
      })
      .join('\n');
    assert.doesNotMatch(all, /4111|1234|321/);
    assert.match(all, /\[card\]/);
    assert.match(all, /\[cvv\]/);
  });
});
