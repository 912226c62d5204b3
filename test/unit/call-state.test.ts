import assert from 'node:assert/strict';
import {
  dtmfIntent,
  expectedPhrases,
  initialCallState,
  likelyAccountLines,
  MAX_MISSES,
  PROMPTS,
  step,
  type CallState,
} from '../../workflows/call-state';
import type { Intent, IntentName } from '../../contracts/call';
import { spokenAmount, spokenDate } from '../../contracts/spoken';

const ada = { id: 'cus_ada', name: 'Ada' };
const invoice = { invoiceId: 'inv_1', amountCents: 4250, dueDate: '2026-12-05' };
const turn = (name: IntentName, confidence = 0.9, asrConfidence = 1) =>
  ({ kind: 'turn', intent: { name, confidence }, asrConfidence, threshold: 0.5 }) as const;
const greeted = (customer = ada): CallState =>
  step(initialCallState(), { kind: 'identified', customer }).state;

describe('call-state: the deterministic flows', () => {
  it('greets a known caller by name and an unknown one without', () => {
    assert.match(
      step(initialCallState(), { kind: 'identified', customer: ada }).say!,
      /^Hello Ada/,
    );
    const anon = step(initialCallState(), { kind: 'identified' });
    assert.equal(anon.say, 'Thanks for calling. How can I help you today?');
    assert.equal(anon.state.phase, 'idle');
  });

  it('check_balance asks for the balance, then speaks the amount', () => {
    const s = step(greeted(), turn('check_balance'));
    assert.deepEqual(s.effect, { kind: 'fetch_balance', customerId: 'cus_ada', purpose: 'report' });
    assert.equal(s.say, undefined);
    const r = step(s.state, {
      kind: 'balance',
      purpose: 'report',
      balanceCents: 4250,
      openInvoice: invoice,
    });
    assert.match(
      r.say!,
      /Your balance is 42 dollars and 50 cents\. Your next bill is due on December 5\./,
    );
    assert.deepEqual(r.state.intentPath, ['check_balance']);
  });

  it("an account read with the caller: its sentences are the replies' own, until a payment", () => {
    const account = { balanceCents: 4250, openInvoice: invoice };
    const hello = step(initialCallState(), { kind: 'identified', customer: ada, account }).state;
    const ahead = likelyAccountLines(hello)!;
    // Exactly the personal sentences the balance and the payment question will say.
    const report = step(step(hello, turn('check_balance')).state, { kind: 'balance', purpose: 'report', ...account }); // prettier-ignore
    const asked = step(step(hello, turn('pay_bill')).state, { kind: 'balance', purpose: 'pay', ...account }); // prettier-ignore
    for (const said of [report.say!, asked.say!]) {
      const personal = said.replace(PROMPTS.anythingElse, '').replace(PROMPTS.payNow, '').trim();
      assert.ok(ahead.includes(personal), `${personal} not in ${ahead}`);
    }
    // Not while a question is open, nor once the balance has changed.
    assert.equal(likelyAccountLines(asked.state), undefined);
    const paid = step(step(asked.state, turn('confirm_yes')).state, { kind: 'payment', ok: true, amountCents: 4250 }); // prettier-ignore
    assert.equal(paid.state.phase, 'idle');
    assert.equal(likelyAccountLines(paid.state), undefined);
    // Nothing open to pay: the balance alone; no account read, or no caller: nothing.
    const settled = step(initialCallState(), { kind: 'identified', customer: ada, account: { balanceCents: 0 } }).state; // prettier-ignore
    assert.equal(likelyAccountLines(settled), 'Your balance is 0 dollars.');
    assert.equal(likelyAccountLines(greeted()), undefined);
    assert.equal(likelyAccountLines(step(initialCallState(), { kind: 'identified', account }).state), undefined); // prettier-ignore
  });

  it('pay_bill confirms before paying: yes pays, no cancels, anything else re-asks', () => {
    const asked = step(step(greeted(), turn('pay_bill')).state, {
      kind: 'balance',
      purpose: 'pay',
      balanceCents: 4250,
      openInvoice: invoice,
    });
    assert.equal(asked.state.phase, 'confirm_payment');
    assert.match(asked.say!, /42 dollars and 50 cents.*Please say yes or no/);

    const reasked = step(asked.state, turn('check_balance'));
    assert.equal(reasked.state.phase, 'confirm_payment');
    assert.equal(reasked.effect, undefined);
    assert.match(
      reasked.say!,
      /Please say yes to pay 42 dollars and 50 cents now, or no to cancel/,
    );

    const yes = step(reasked.state, turn('confirm_yes'));
    assert.deepEqual(yes.effect, { kind: 'pay', invoiceId: 'inv_1', amountCents: 4250 });
    const paid = step(yes.state, { kind: 'payment', ok: true, amountCents: 4250 });
    assert.match(paid.say!, /payment of 42 dollars and 50 cents is complete/);
    assert.equal(paid.state.phase, 'idle');
    assert.equal(paid.state.pendingPayment, undefined);

    const no = step(asked.state, turn('confirm_no'));
    assert.equal(no.effect, undefined);
    assert.match(no.say!, /have not made any payment/);
    assert.equal(no.state.phase, 'idle');

    // A goodbye is a no (before goodbye-declines-payment: the question again).
    const bye = step(asked.state, { ...turn('goodbye'), goodbyeDeclines: true });
    assert.deepEqual([bye.effect, bye.say, bye.state.phase], [undefined, no.say, 'idle']);
    assert.equal(bye.state.anythingElseAsked, true);
    assert.match(step(asked.state, turn('goodbye')).say!, /^Please say yes to pay/);
  });

  it('a no to "anything else?" says goodbye and ends the call, also after a "say it again"', () => {
    const reported = step(step(greeted(), turn('check_balance')).state, {
      kind: 'balance',
      purpose: 'report',
      balanceCents: 4250,
    });
    assert.match(reported.say!, /anything else I can help you with\?$/);
    const no = { ...turn('confirm_no'), noEndsCall: true } as const;
    const done = step(reported.state, no);
    assert.equal(done.say, PROMPTS.goodbye);
    assert.equal(done.action, 'hangup');
    assert.equal(done.state.disposition, 'resolved');
    assert.deepEqual(done.state.intentPath, ['check_balance', 'confirm_no']);

    const unheard = step(reported.state, turn('confirm_no', 0.2));
    assert.equal(unheard.say, PROMPTS.repeat);
    assert.equal(step(unheard.state, no).action, 'hangup');
    // Before the patch (no flag), and a no with no such question open: what do you need?
    assert.equal(step(reported.state, turn('confirm_no')).say, PROMPTS.howCanIHelp);
    const greetedNo = step(greeted(), no);
    assert.equal(greetedNo.say, PROMPTS.howCanIHelp);
    assert.equal(greetedNo.state.phase, 'idle');
    // Something else said in between ("Are you still there?") closes the question.
    const silent = step(reported.state, { kind: 'no_input' });
    assert.equal(step(silent.state, no).say, PROMPTS.howCanIHelp);
    // A yes to it asks what they need.
    assert.equal(step(reported.state, turn('confirm_yes')).say, PROMPTS.howCanIHelp);
  });

  it('a spoken yes to a payment below the payment confidence is asked again, the keypad offered', () => {
    const s = { ...greeted(), phase: 'confirm_payment' as const, pendingPayment: invoice };
    const checked = (asrConfidence: number) => ({
      ...turn('confirm_yes', 0.99, asrConfidence),
      paymentYesThreshold: 0.9,
    });
    const doubted = step(s, checked(0.85));
    assert.equal(doubted.effect, undefined);
    assert.equal(doubted.state.phase, 'confirm_payment');
    assert.equal(
      doubted.say,
      'To be sure: shall I pay 42 dollars and 50 cents now? Say yes or press 1, or say no or press 2.',
    );
    assert.equal(doubted.state.misses, 1);
    // Sure enough at once, or said on the keypad (confidence 1): paid.
    assert.deepEqual(step(s, checked(0.95)).effect, { kind: 'pay', invoiceId: 'inv_1', amountCents: 4250 }); // prettier-ignore
    assert.equal(step(s, { ...turn('confirm_yes', 1, 1), paymentYesThreshold: 0.9 }).effect?.kind, 'pay'); // prettier-ignore
    // Asked "to be sure", a second yes is the explicit one: doubted once only.
    const second = step(doubted.state, checked(0.7));
    assert.equal(second.effect?.kind, 'pay');
    assert.equal(second.state.yesDoubted, undefined);
    // Not below the ordinary threshold, though: that is still asked again.
    assert.equal(step(doubted.state, checked(0.3)).effect, undefined);
    // A no needs no such confidence, and clears the doubt.
    const no = step(doubted.state, { ...turn('confirm_no', 0.99, 0.6), paymentYesThreshold: 0.9 });
    assert.match(no.say!, /not made any payment/);
    assert.equal(no.state.yesDoubted, undefined);
    // Before payment-yes-checked (no threshold in the event): the ordinary threshold pays.
    assert.equal(step(s, turn('confirm_yes', 0.99, 0.6)).effect?.kind, 'pay');
  });

  it('a yes/no question listens for not-answers too, only when asked to', () => {
    const asking = expectedPhrases('confirm_payment', { notAnswers: true });
    for (const p of ['hold on', "i'm not sure", 'not now', 'yes', 'no'])
      assert.ok(asking.includes(p), p);
    assert.ok(!expectedPhrases('confirm_payment').includes('hold on'));
    assert.ok(!expectedPhrases('idle', { notAnswers: true }).includes('hold on'));
  });

  it('a yes/no question listens for worded answers, and their negatives, only when asked to', () => {
    const worded = expectedPhrases('confirm_payment', { wordedAnswers: true });
    for (const p of [
      "yes that's correct",
      "that's right",
      "that's not right",
      "that's not correct",
    ])
      assert.ok(worded.includes(p), p);
    assert.ok(!expectedPhrases('confirm_payment').includes("that's right"));
    assert.ok(!expectedPhrases('idle', { wordedAnswers: true }).includes("that's right"));
  });

  it('a failed payment offers an agent; yes transfers', () => {
    const s = { ...greeted(), phase: 'confirm_payment' as const, pendingPayment: invoice };
    const failed = step(step(s, turn('confirm_yes')).state, { kind: 'payment', ok: false });
    assert.equal(failed.say, PROMPTS.paymentFailed);
    const yes = step(failed.state, turn('confirm_yes'));
    assert.equal(yes.action, 'transfer');
    assert.equal(yes.state.disposition, 'transferred');
  });

  it('no open bill means nothing to confirm', () => {
    const r = step(step(greeted(), turn('pay_bill')).state, {
      kind: 'balance',
      purpose: 'pay',
      balanceCents: 0,
    });
    assert.equal(r.state.phase, 'idle');
    assert.match(r.say!, /no open bill/);
  });

  it('low confidence (intent or ASR) asks to repeat, and the third miss escalates', () => {
    let s = greeted();
    assert.equal(step(s, turn('check_balance', 0.9, 0.3)).say, PROMPTS.repeat);
    for (let i = 1; i < MAX_MISSES; i++) {
      const r = step(s, turn('check_balance', 0.2));
      assert.equal(r.say, PROMPTS.repeat);
      s = r.state;
    }
    const third = step(s, turn('goodbye', 0.1));
    assert.equal(third.action, 'transfer');
    assert.equal(third.state.phase, 'ended');
  });

  it('silence re-prompts once, then ends the call politely', () => {
    const first = step(greeted(), { kind: 'no_input' });
    assert.equal(first.say, PROMPTS.stillThere);
    assert.equal(first.action, 'continue');
    const second = step(first.state, { kind: 'no_input' });
    assert.equal(second.say, PROMPTS.silentEnd);
    assert.equal(second.action, 'hangup');
    assert.equal(second.state.disposition, 'abandoned');
    // Speech in between resets the count.
    const spoke = step(first.state, turn('check_balance'));
    assert.equal(step(spoke.state, { kind: 'no_input' }).action, 'continue');
  });

  it('goodbye, agent, out-of-scope and unknown callers end the call with the right disposition', () => {
    assert.deepEqual(
      [
        step(greeted(), turn('goodbye')),
        step(greeted(), turn('talk_to_agent')),
        step(greeted(), turn('out_of_scope')),
      ].map((r) => [r.action, r.state.disposition]),
      [
        ['hangup', 'resolved'],
        ['transfer', 'transferred'],
        ['transfer', 'transferred'],
      ],
    );
    assert.equal(
      step(greeted(), turn('out_of_scope')).say,
      'I will connect you to an agent for that request.',
    );
    const anon = step(initialCallState(), { kind: 'identified' }).state;
    assert.equal(step(anon, turn('check_balance')).say, PROMPTS.unknownCaller);
  });

  it('a hang-up ends the call and nothing moves after it', () => {
    const hung = step(greeted(), { kind: 'hangup', answered: true });
    assert.equal(hung.state.disposition, 'caller_hung_up');
    const after = step(hung.state, turn('pay_bill'));
    assert.equal(after.effect, undefined);
    assert.equal(after.say, undefined);
  });

  it('speaks amounts, dates and keypad answers', () => {
    assert.equal(spokenAmount(0), '0 dollars');
    assert.equal(spokenAmount(1), '1 cent');
    assert.equal(spokenAmount(100), '1 dollar');
    assert.equal(spokenAmount(12999), '129 dollars and 99 cents');
    assert.equal(spokenDate('2026-03-07'), 'March 7');
    assert.equal(dtmfIntent('confirm_payment', '1').name, 'confirm_yes');
    assert.equal(dtmfIntent('confirm_payment', '2').name, 'confirm_no');
    assert.equal(dtmfIntent('idle', '1').confidence, 0);
    assert.equal(dtmfIntent('idle', '0').name, 'talk_to_agent');
  });
});

describe('call state machine: knowledge-base questions', () => {
  const idle = (): CallState => ({
    ...initialCallState(),
    phase: 'idle',
    customer: { id: 'cus_ada', name: 'Ada' },
  });
  const turn = (name: Intent['name']) =>
    ({
      kind: 'turn',
      intent: { name, confidence: 0.9 },
      asrConfidence: 1,
      threshold: 0.5,
    }) as const;

  it('a KB intent asks for a grounded answer, for known and unknown callers alike', () => {
    for (const s of [idle(), { ...idle(), customer: undefined }]) {
      const next = step(s, turn('ask_plans'));
      assert.deepEqual(next.effect, { kind: 'answer', intent: 'ask_plans' });
      assert.equal(next.say, undefined);
    }
  });

  it('an answer is said and followed by the next question; a refusal transfers', () => {
    const answered = step(idle(), {
      kind: 'answered',
      text: 'Fiber 500 is 65 dollars a month.',
      refused: false,
    });
    assert.equal(answered.say, `Fiber 500 is 65 dollars a month. ${PROMPTS.anythingElse}`);
    assert.equal(answered.action, 'continue');
    const refusal = 'I am not confident in that answer. Let me connect you to an agent.';
    const refused = step(idle(), { kind: 'answered', text: refusal, refused: true });
    assert.equal(refused.say, refusal);
    assert.equal(refused.action, 'transfer');
    assert.equal(refused.state.disposition, 'transferred');
  });

  it('no answer at all offers an agent (before no-grounded-answer)', () => {
    const next = step(idle(), { kind: 'answer_failed' });
    assert.equal(next.say, PROMPTS.answerFailed);
    assert.equal(next.state.phase, 'offer_agent');
    assert.equal(next.state.callbackRequested, undefined);
  });

  it('no grounded answer possible: the temporary-issue line, a call back owed, the call goes on', () => {
    const next = step(idle(), { kind: 'answer_failed', callBack: true });
    assert.equal(next.say, `${PROMPTS.temporaryIssue} ${PROMPTS.anythingElse}`);
    assert.equal(next.action, 'continue');
    assert.equal(next.state.phase, 'idle');
    assert.equal(next.state.callbackRequested, true);
    assert.equal(next.state.callbackReason, 'no_grounded_answer');
  });
});

describe('call state machine: out of scope', () => {
  const idle = (): CallState => ({ ...initialCallState(), phase: 'idle' });
  const oos = {
    kind: 'turn',
    intent: { name: 'out_of_scope', confidence: 0.9 },
    asrConfidence: 1,
    threshold: 0.5,
    reaskOutOfScope: true,
  } as const;

  it('says what is on offer and asks again; the third miss transfers', () => {
    let s = idle();
    for (let i = 0; i < MAX_MISSES - 1; i++) {
      const next = step(s, oos);
      assert.equal(next.say, PROMPTS.outOfScope);
      assert.equal(next.action, 'continue');
      s = next.state;
    }
    const last = step(s, oos);
    assert.equal(last.action, 'transfer');
    assert.equal(last.say, PROMPTS.tooManyMisses);
  });

  it('before the change (no re-ask), out of scope transfers at once', () => {
    const next = step(idle(), { ...oos, reaskOutOfScope: false });
    assert.equal(next.say, PROMPTS.fallback);
    assert.equal(next.action, 'transfer');
  });
});

describe('call state machine: the CRM away', () => {
  const crmDown = (): CallState =>
    step(initialCallState(), { kind: 'identified', crmUnavailable: true }).state;

  it('greets with the CRM-away line, not the no-account one, and records it', () => {
    const s = step(initialCallState(), { kind: 'identified', crmUnavailable: true });
    assert.equal(s.say, `${PROMPTS.crmUnavailableGreeting} ${PROMPTS.howCanIHelp}`);
    assert.notEqual(s.say, PROMPTS.unknownCaller);
    assert.equal(s.state.crmUnavailable, true);
    assert.equal(s.state.phase, 'idle');
    assert.equal(step(initialCallState(), { kind: 'identified' }).state.crmUnavailable, undefined);
  });

  for (const intent of ['check_balance', 'pay_bill'] as const)
    it(`${intent}: can't reach the account, a call back is offered; yes records it, the call goes on`, () => {
      const offered = step(crmDown(), turn(intent));
      assert.equal(offered.say, PROMPTS.accountUnavailable);
      assert.equal(offered.effect, undefined);
      assert.equal(offered.state.phase, 'offer_callback');
      const yes = step(offered.state, turn('confirm_yes'));
      assert.equal(yes.say, `${PROMPTS.callbackBooked} ${PROMPTS.anythingElse}`);
      assert.equal(yes.action, 'continue');
      assert.equal(yes.state.callbackRequested, true);
      assert.equal(yes.state.callbackReason, 'account_unavailable');
      assert.equal(yes.state.phase, 'idle');
    });

  it('a call back owed for two reasons keeps the first (one callback per call)', () => {
    const owed = step(step(crmDown(), turn('check_balance')).state, turn('confirm_yes')).state;
    const again = step(owed, { kind: 'answer_failed', callBack: true });
    assert.equal(again.state.callbackReason, 'account_unavailable');
  });

  it('a no declines the call back; keypad 1 and 2 answer the offer', () => {
    const offered = step(crmDown(), turn('pay_bill')).state;
    const no = step(offered, turn('confirm_no'));
    assert.equal(no.say, `Okay. ${PROMPTS.anythingElse}`);
    assert.equal(no.state.callbackRequested, undefined);
    assert.equal(dtmfIntent('offer_callback', '1').name, 'confirm_yes');
    assert.equal(dtmfIntent('offer_callback', '2').name, 'confirm_no');
  });

  it('while offered: a general question is still answered, anything unclear re-asks the offer', () => {
    const offered = step(crmDown(), turn('check_balance')).state;
    assert.deepEqual(step(offered, turn('ask_plans')).effect, { kind: 'answer', intent: 'ask_plans' }); // prettier-ignore
    assert.equal(step(offered, turn('out_of_scope')).say, PROMPTS.offerCallback);
    assert.equal(step(offered, turn('talk_to_agent')).action, 'transfer');
  });

  it('a balance read failing mid-call offers a call back (offerCallback), an agent before', () => {
    const asked = step(greeted(), turn('check_balance')).state;
    const offered = step(asked, { kind: 'lookup_failed', offerCallback: true });
    assert.equal(offered.say, PROMPTS.accountUnavailable);
    assert.equal(offered.state.phase, 'offer_callback');
    assert.equal(step(offered.state, turn('confirm_yes')).state.callbackRequested, true);
    const old = step(asked, { kind: 'lookup_failed' });
    assert.equal(old.say, PROMPTS.lookupFailed);
    assert.equal(old.state.phase, 'offer_agent');
  });
});

describe('call state machine: the caller cannot be heard', () => {
  const idle = (): CallState => ({ ...initialCallState(), phase: 'idle' });
  const unheard = { ...turn('out_of_scope', 0, 0), asrFailed: true } as const;
  const offered = (): CallState => {
    let s = idle();
    for (let i = 0; i < MAX_MISSES; i++) s = step(s, unheard).state;
    return s;
  };

  it('a failed recognition asks to repeat; the third in a row offers a call back or an agent', () => {
    const first = step(idle(), unheard);
    assert.equal(first.say, PROMPTS.repeat);
    const second = step(first.state, unheard);
    assert.equal(second.say, PROMPTS.repeat);
    const third = step(second.state, unheard);
    assert.equal(third.say, PROMPTS.troubleHearing);
    assert.equal(third.action, 'continue');
    assert.equal(third.state.phase, 'offer_callback_or_agent');
  });

  it('without asrFailed (before asr-failed-offer) the third miss transfers', () => {
    let s = idle();
    for (let i = 0; i < MAX_MISSES - 1; i++) s = step(s, turn('out_of_scope', 0, 0)).state;
    const third = step(s, turn('out_of_scope', 0, 0));
    assert.deepEqual([third.say, third.action], [PROMPTS.tooManyMisses, 'transfer']);
  });

  it('yes (or keypad 1): a call back is owed and the call ends', () => {
    for (const yes of [
      turn('confirm_yes'),
      turn(dtmfIntent('offer_callback_or_agent', '1').name, 1),
    ]) {
      const next = step(offered(), yes);
      assert.deepEqual([next.say, next.action], [PROMPTS.callbackSoon, 'hangup']);
      assert.equal(next.state.callbackRequested, true);
      assert.equal(next.state.callbackReason, 'asr_failed');
      assert.equal(next.state.disposition, 'resolved');
    }
  });

  it('no, an agent, keypad 2, or anything unclear: an agent, no call back', () => {
    for (const answer of [
      turn('confirm_no'),
      turn('talk_to_agent'),
      turn(dtmfIntent('offer_callback_or_agent', '2').name, 1),
      unheard,
      turn('ask_plans'),
    ]) {
      const next = step(offered(), answer);
      assert.deepEqual([next.say, next.action], [PROMPTS.agent, 'transfer']);
      assert.equal(next.state.callbackRequested, undefined);
    }
  });
});

describe('call-state: a prolonged TTS outage and the no-retrieval call back offer', () => {
  it('the outage notice ends the call; a call back is owed only to a caller who can take one', () => {
    const back = step(greeted(), { kind: 'tts_outage', callBack: true });
    assert.deepEqual([back.say, back.action], [PROMPTS.ttsOutageCallBack, 'hangup']);
    assert.equal(back.state.phase, 'ended');
    assert.deepEqual([back.state.callbackRequested, back.state.callbackReason], [true, 'tts_outage']); // prettier-ignore
    const later = step(greeted(), { kind: 'tts_outage', callBack: false });
    assert.deepEqual([later.say, later.action], [PROMPTS.ttsOutageCallLater, 'hangup']);
    assert.equal(later.state.callbackRequested, undefined);
  });

  const offered = () =>
    step(greeted(), { kind: 'answered', text: 'General line.', refused: false, offerCallback: true }); // prettier-ignore

  it('the general line is followed by the offer; without offerCallback, by "anything else"', () => {
    assert.equal(offered().say, `General line. ${PROMPTS.offerCallbackLater}`);
    assert.equal(offered().state.phase, 'offer_callback_later');
    const plain = step(greeted(), { kind: 'answered', text: 'General line.', refused: false });
    assert.equal(plain.say, `General line. ${PROMPTS.anythingElse}`);
  });

  it('yes (or keypad 1) owes a call back and the call goes on; no does not', () => {
    for (const yes of [
      turn('confirm_yes'),
      { ...turn('confirm_yes'), intent: dtmfIntent('offer_callback_later', '1') },
    ]) {
      const s = step(offered().state, yes);
      assert.equal(s.say, `${PROMPTS.callbackLaterBooked} ${PROMPTS.anythingElse}`);
      assert.deepEqual([s.state.phase, s.state.callbackReason], ['idle', 'no_retrieval']);
    }
    const no = step(offered().state, turn('confirm_no'));
    assert.equal(no.say, `Okay. ${PROMPTS.anythingElse}`);
    assert.equal(no.state.callbackRequested, undefined);
  });

  it('unclear is asked once more, then taken as a no; another request is taken as asked', () => {
    const again = step(offered().state, turn('confirm_yes', 0.1));
    assert.equal(again.say, PROMPTS.offerCallbackLaterAgain);
    const gaveUp = step(again.state, turn('out_of_scope', 0.9));
    assert.equal(gaveUp.say, `${PROMPTS.takenAsNo} ${PROMPTS.anythingElse}`);
    assert.deepEqual([gaveUp.state.phase, gaveUp.state.misses], ['idle', 0]);
    assert.equal(gaveUp.state.callbackRequested, undefined);
    const balance = step(offered().state, turn('check_balance'));
    assert.equal(balance.effect?.kind, 'fetch_balance');
  });
});
