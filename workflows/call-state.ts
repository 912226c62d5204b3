// The call's deterministic flows as a pure state machine: (state, event) → (state,
// what to say, what to do next). No I/O: the workflow runs the effects it asks for
// and feeds their results back as events, so every branch is unit-testable and
// replay-safe.
import type {
  BalanceView,
  CallbackReason,
  CallState,
  OpenInvoiceView,
  Phase,
} from '../contracts/call';
import { spokenAmount, spokenDate } from '../contracts/spoken';
import {
  isKbIntent,
  type Disposition,
  type Intent,
  type KbIntentName,
  type ReplyAction,
} from './definitions';

export type { CallState, OpenInvoiceView, Phase };

export type CallEvent =
  | {
      kind: 'identified';
      customer?: { id: string; name: string };
      /** Their account, when it was read with them: its sentences are made ready ahead. */
      account?: BalanceView;
      /** The CRM could not be asked (down after retries): the call goes on unidentified. */
      crmUnavailable?: boolean;
    }
  | {
      kind: 'turn';
      intent: Intent;
      asrConfidence: number;
      threshold: number;
      /** Out of scope says what the agent can do and asks again (misses escalate), not transfer. */
      reaskOutOfScope?: boolean;
      /**
       * No recognizer could transcribe the utterance: the third miss in a row offers a call
       * back or an agent (before, an agent).
       */
      asrFailed?: boolean;
      /** A yes to a payment needs this recognizer confidence; below it, it is asked again. */
      paymentYesThreshold?: number;
      /** A no to "anything else?" says goodbye and ends the call (before: "How can I help?"). */
      noEndsCall?: boolean;
      /**
       * A goodbye to the payment question is taken as a no: nothing paid, and the caller is
       * told so (before: the question was asked again).
       */
      goodbyeDeclines?: boolean;
    }
  | {
      kind: 'balance';
      purpose: 'report' | 'pay';
      balanceCents: number;
      openInvoice?: OpenInvoiceView;
    }
  | { kind: 'payment'; ok: true; amountCents: number }
  | { kind: 'payment'; ok: false }
  /**
   * The account could not be read (CRM down after retries). With offerCallback the caller
   * is offered a call back (before, an agent).
   */
  | { kind: 'lookup_failed'; offerCallback?: boolean }
  /**
   * A grounded answer was spoken, or refused (ungrounded, a promise it cannot keep). With
   * offerCallback (the knowledge base could not be searched) a call back is offered after it.
   */
  | { kind: 'answered'; text: string; refused: boolean; offerCallback?: boolean }
  /**
   * The edge has no synthesizer to hold a conversation with (a prolonged TTS outage): the
   * caller hears the notice and the call ends; with callBack a call back is owed.
   */
  | { kind: 'tts_outage'; callBack: boolean }
  /**
   * No answer could be produced (the answering activity failed). With callBack the caller
   * hears the temporary-issue line and is owed a call back (before, an agent was offered).
   */
  | { kind: 'answer_failed'; callBack?: boolean }
  | { kind: 'no_input' }
  | { kind: 'hangup'; answered: boolean };

export type Effect =
  | { kind: 'fetch_balance'; customerId: string; purpose: 'report' | 'pay' }
  | { kind: 'pay'; invoiceId: string; amountCents: number }
  | { kind: 'answer'; intent: KbIntentName };

export interface Step {
  state: CallState;
  /** Words for the caller; absent when an effect must complete first. */
  say?: string;
  action: ReplyAction;
  effect?: Effect;
}

export const MAX_MISSES = 3;

export const initialCallState = (): CallState => ({
  phase: 'greeting',
  silences: 0,
  misses: 0,
  turns: 0,
  intentPath: [],
});

export const PROMPTS = {
  howCanIHelp: 'How can I help you today?',
  repeat: "Sorry, I didn't catch that. Could you please say it again?",
  anythingElse: 'Is there anything else I can help you with?',
  fallback: 'I will connect you to an agent for that request.',
  agent: 'Connecting you to an agent now. Please hold.',
  goodbye: 'Thank you for calling. Goodbye.',
  stillThere: 'Are you still there? How can I help you?',
  silentEnd: "I haven't heard from you, so I will end this call now. Goodbye.",
  unknownCaller:
    'I could not find an account for the number you are calling from. Let me connect you to an agent.',
  tooManyMisses: "I'm having trouble understanding. Let me connect you to an agent.",
  paymentFailed:
    "I'm sorry, I couldn't process that payment. Would you like me to connect you to an agent?",
  noOpenBill: 'You have no open bill to pay right now.',
  lookupFailed:
    "I'm sorry, I can't reach your account right now. Would you like me to connect you to an agent?",
  crmUnavailableGreeting:
    "Welcome to Northwind. I can't reach customer accounts right now, but I can still help with general questions.",
  accountUnavailable:
    "I'm sorry, I can't reach your account right now. Would you like us to call you back once we can? Please say yes or no.",
  offerCallback: 'Would you like us to call you back about your account? Please say yes or no.',
  callbackBooked:
    'Okay, we will call you back at this number as soon as we can reach your account.',
  outOfScope:
    'I can help with your balance, paying your bill, and questions about billing, plans, outages and our policies. What would you like to do?',
  answerFailed:
    "I'm sorry, I can't answer that right now. Would you like me to connect you to an agent?",
  temporaryIssue: 'We are experiencing a temporary issue. We may call you back.',
  troubleHearing:
    "I'm having trouble hearing you. Shall we call you back? Say yes or press 1 for a call back, or say no or press 2 for an agent.",
  callbackSoon: 'Okay, we will call you back at this number shortly. Goodbye.',
  // Fixed parts of replies that also carry account data: prerecorded and shared in the TTS
  // cache, so only the personal sentence is synthesized for the call.
  payNow: 'Shall I pay it now with the card on file? Please say yes or no.',
  notPaid: 'Okay, I have not made any payment.',
  offerAgent: 'Would you like me to connect you to an agent? Please say yes or no.',
  // A prolonged TTS outage: said whole from the prerecorded prompts, instead of a conversation.
  ttsOutageCallBack:
    "We're sorry, our voice system is having trouble right now, so we can't take your call. We'll text you, then call you back shortly. Goodbye.",
  ttsOutageCallLater:
    "We're sorry, our voice system is having trouble right now, so we can't take your call. Please call again later. Goodbye.",
  // After the no-retrieval general line: a call back when the question can be answered.
  offerCallbackLater:
    'Or we can call you back when we can answer that. Would you like that? Say yes or press 1, or say no or press 2.',
  offerCallbackLaterAgain:
    'Sorry, shall we call you back about that? Say yes or press 1, or say no or press 2.',
  callbackLaterBooked: 'Okay, we will call you back at this number when we can answer that.',
  takenAsNo: "I'll take that as a no for now.",
  // The agent desk handed the call back to the AI.
  backWithAssistant: "You're back with the assistant.",
  // Said every so often while a call waits on the agent desk: never silence on the line.
  deskStillWaiting: 'Thanks for holding. An agent will be with you shortly.',
} as const;

/** Phases with a yes-or-no question open. */
const ASKING: readonly Phase[] = ['confirm_payment', 'offer_agent', 'offer_callback', 'offer_callback_or_agent', 'offer_callback_later']; // prettier-ignore

/** Keypad input as an intent: 1 = yes, 2 = no while a question is open; 0 = an agent. */
export function dtmfIntent(phase: Phase, digits: string): Intent {
  const asking = ASKING.includes(phase);
  if (asking && digits === '1') return { name: 'confirm_yes', confidence: 1 };
  if (asking && digits === '2') return { name: 'confirm_no', confidence: 1 };
  if (digits === '0') return { name: 'talk_to_agent', confidence: 1 };
  return { name: 'out_of_scope', confidence: 0 };
}

const say = (state: CallState, text: string, action: ReplyAction = 'continue'): Step => ({
  state,
  say: text,
  action,
});

const end = (state: CallState, text: string, disposition: Disposition, action: ReplyAction): Step =>
  say({ ...state, phase: 'ended', disposition, pendingPayment: undefined }, text, action);

/** A call back is owed; the first reason stands (one callback per call). */
const owedCallback = (state: CallState, reason: CallbackReason) => ({
  callbackRequested: true,
  callbackReason: state.callbackReason ?? reason,
});

/** What the balance question is answered with, before "anything else?". */
const balanceSentences = (b: BalanceView): string =>
  `Your balance is ${spokenAmount(b.balanceCents)}.` +
  (b.openInvoice ? ` Your next bill is due on ${spokenDate(b.openInvoice.dueDate)}.` : '');

const billSentence = (p: { amountCents: number; dueDate: string }): string =>
  `Your bill of ${spokenAmount(p.amountCents)} is due on ${spokenDate(p.dueDate)}.`;

const confirmQuestion = (p: { amountCents: number; dueDate: string }): string =>
  `${billSentence(p)} ${PROMPTS.payNow}`;

/** The `identified` event for whom the CRM found, their account (read with them) kept apart. */
export function identifiedEvent(
  who: { id: string; name: string; account?: BalanceView } | undefined,
  crmUnavailable = false,
): CallEvent {
  return {
    kind: 'identified',
    ...(who && { customer: { id: who.id, name: who.name } }),
    ...(who?.account && { account: who.account }),
    ...(crmUnavailable && { crmUnavailable }),
  };
}

export function step(state: CallState, event: CallEvent): Step {
  const next = stepOnce(state, event);
  // Remembered for the caller's answer, across a "say it again": a plain no to "anything
  // else?" means they are done.
  const asked =
    next.say === PROMPTS.repeat
      ? state.anythingElseAsked === true
      : next.say?.endsWith(PROMPTS.anythingElse) === true;
  if (asked === (next.state.anythingElseAsked === true)) return next;
  const after: CallState = { ...next.state, anythingElseAsked: true };
  if (!asked) delete after.anythingElseAsked;
  return { ...next, state: after };
}

function stepOnce(state: CallState, event: CallEvent): Step {
  if (state.phase === 'ended') return { state, action: 'hangup' };
  switch (event.kind) {
    case 'identified': {
      const next: CallState = {
        ...state,
        phase: 'idle',
        customer: event.customer,
        ...(event.customer && event.account && { accountAhead: event.account }),
      };
      if (event.crmUnavailable)
        return say(
          { ...next, crmUnavailable: true },
          `${PROMPTS.crmUnavailableGreeting} ${PROMPTS.howCanIHelp}`,
        );
      const hello = event.customer
        ? `Hello ${event.customer.name}, thanks for calling.`
        : 'Thanks for calling.';
      return say(next, `${hello} ${PROMPTS.howCanIHelp}`);
    }
    case 'hangup':
      return {
        state: {
          ...state,
          phase: 'ended',
          disposition: event.answered ? 'caller_hung_up' : 'not_answered',
        },
        action: 'hangup',
      };
    case 'no_input':
      if (state.silences >= 1) return end(state, PROMPTS.silentEnd, 'abandoned', 'hangup');
      return say(
        { ...state, silences: state.silences + 1 },
        state.phase === 'confirm_payment' && state.pendingPayment
          ? `Are you still there? ${confirmQuestion(state.pendingPayment)}`
          : PROMPTS.stillThere,
      );
    case 'turn':
      return onTurn(state, event);
    case 'balance':
      return onBalance(state, event);
    case 'lookup_failed':
      if (event.offerCallback)
        return say(
          { ...state, phase: 'offer_callback', pendingPayment: undefined },
          PROMPTS.accountUnavailable,
        );
      return say(
        { ...state, phase: 'offer_agent', pendingPayment: undefined },
        PROMPTS.lookupFailed,
      );
    case 'answered':
      // A refusal already says it will connect an agent: keep that promise.
      if (event.refused) return end(state, event.text, 'transferred', 'transfer');
      if (event.offerCallback)
        return say(
          { ...state, phase: 'offer_callback_later' },
          `${event.text} ${PROMPTS.offerCallbackLater}`,
        );
      return say({ ...state, phase: 'idle' }, `${event.text} ${PROMPTS.anythingElse}`);
    case 'tts_outage':
      if (!event.callBack) return end(state, PROMPTS.ttsOutageCallLater, 'resolved', 'hangup');
      return end(
        { ...state, ...owedCallback(state, 'tts_outage') },
        PROMPTS.ttsOutageCallBack,
        'resolved',
        'hangup',
      );
    case 'answer_failed':
      if (event.callBack)
        return say(
          { ...state, phase: 'idle', ...owedCallback(state, 'no_grounded_answer') },
          `${PROMPTS.temporaryIssue} ${PROMPTS.anythingElse}`,
        );
      return say({ ...state, phase: 'offer_agent' }, PROMPTS.answerFailed);
    case 'payment':
      if (!event.ok)
        return say(
          { ...state, phase: 'offer_agent', pendingPayment: undefined },
          PROMPTS.paymentFailed,
        );
      return say(
        { ...state, phase: 'idle', pendingPayment: undefined, accountAhead: undefined },
        paidLine(event.amountCents),
      );
  }
}

function onTurn(state: CallState, event: Extract<CallEvent, { kind: 'turn' }>): Step {
  const { intent } = event;
  const counted: CallState = { ...state, turns: state.turns + 1, silences: 0 };
  // A yes that would move money, heard with doubt, is asked again once, the keypad offered;
  // a second yes in a row, answering "to be sure", is the explicit yes.
  const doubtedYes =
    state.phase === 'confirm_payment' &&
    intent.name === 'confirm_yes' &&
    !state.yesDoubted &&
    event.asrConfidence < (event.paymentYesThreshold ?? 0);
  const unclear = doubtedYes || Math.min(intent.confidence, event.asrConfidence) < event.threshold;
  if (state.phase === 'offer_callback_or_agent') return callbackOrAgent(counted, intent, unclear);
  if (state.phase === 'offer_callback_later') {
    const answered = callbackLater(counted, intent, unclear || intent.name === 'out_of_scope');
    // Another request (a balance, another question, an agent, goodbye) is taken as asked.
    return answered ?? onTurn({ ...state, phase: 'idle' }, event);
  }
  if (unclear) {
    const misses = counted.misses + 1;
    // Unheard three times: on a line this bad, a call back may serve better than an agent.
    if (misses >= MAX_MISSES && event.asrFailed)
      return say({ ...counted, misses, phase: 'offer_callback_or_agent' }, PROMPTS.troubleHearing);
    if (misses >= MAX_MISSES)
      return end({ ...counted, misses }, PROMPTS.tooManyMisses, 'transferred', 'transfer');
    const again = doubtedYes && state.pendingPayment && confirmAgain(state.pendingPayment.amountCents); // prettier-ignore
    return say({ ...counted, misses, ...(again && { yesDoubted: true }) }, again || PROMPTS.repeat);
  }
  const s: CallState = { ...counted, misses: 0, intentPath: [...counted.intentPath, intent.name] };
  delete s.yesDoubted; // a clear answer settles the doubt

  if (s.phase === 'confirm_payment' && s.pendingPayment) {
    if (intent.name === 'confirm_yes') {
      const { invoiceId, amountCents } = s.pendingPayment;
      return { state: s, action: 'continue', effect: { kind: 'pay', invoiceId, amountCents } };
    }
    if (intent.name === 'confirm_no' || (intent.name === 'goodbye' && event.goodbyeDeclines))
      return say(
        { ...s, phase: 'idle', pendingPayment: undefined },
        `${PROMPTS.notPaid} ${PROMPTS.anythingElse}`,
      );
    return say(
      s,
      `${ASKED_AGAIN.payment} ${spokenAmount(s.pendingPayment.amountCents)} now, or no to cancel.`,
    );
  }
  if (s.phase === 'offer_agent') {
    if (intent.name === 'confirm_yes' || intent.name === 'talk_to_agent')
      return end(s, PROMPTS.agent, 'transferred', 'transfer');
    if (intent.name === 'confirm_no')
      return say({ ...s, phase: 'idle' }, `Okay. ${PROMPTS.anythingElse}`);
    if (intent.name !== 'goodbye') return say(s, PROMPTS.offerAgent);
  }
  if (s.phase === 'offer_callback') {
    if (intent.name === 'confirm_yes')
      return say(
        { ...s, phase: 'idle', ...owedCallback(s, 'account_unavailable') },
        `${PROMPTS.callbackBooked} ${PROMPTS.anythingElse}`,
      );
    if (intent.name === 'confirm_no')
      return say({ ...s, phase: 'idle' }, `Okay. ${PROMPTS.anythingElse}`);
    // General questions are still answered; an agent or goodbye is taken as asked.
    const goesOn = isKbIntent(intent.name) || intent.name === 'talk_to_agent' || intent.name === 'goodbye'; // prettier-ignore
    if (!goesOn) return say(s, PROMPTS.offerCallback);
  }

  switch (intent.name) {
    case 'check_balance':
    case 'pay_bill':
      // The CRM is away: the account cannot be read, so offer a call back.
      if (!s.customer && s.crmUnavailable)
        return say({ ...s, phase: 'offer_callback' }, PROMPTS.accountUnavailable);
      if (!s.customer) return end(s, PROMPTS.unknownCaller, 'transferred', 'transfer');
      return {
        state: s,
        action: 'continue',
        effect: {
          kind: 'fetch_balance',
          customerId: s.customer.id,
          purpose: intent.name === 'pay_bill' ? 'pay' : 'report',
        },
      };
    case 'talk_to_agent':
      return end(s, PROMPTS.agent, 'transferred', 'transfer');
    case 'goodbye':
      return end(s, PROMPTS.goodbye, 'resolved', 'hangup');
    case 'confirm_yes':
    case 'confirm_no':
      if (intent.name === 'confirm_no' && event.noEndsCall && s.anythingElseAsked)
        return end(s, PROMPTS.goodbye, 'resolved', 'hangup');
      // A yes or no with no open question: ask what they need.
      return say({ ...s, phase: 'idle' }, PROMPTS.howCanIHelp);
    case 'ask_billing':
    case 'ask_plans':
    case 'ask_outage':
    case 'ask_policy':
      return { state: s, action: 'continue', effect: { kind: 'answer', intent: intent.name } };
    case 'out_of_scope': {
      if (!event.reaskOutOfScope) return end(s, PROMPTS.fallback, 'transferred', 'transfer');
      // "hmm", "hello?", the weather: say what is on offer; the third miss goes to an agent.
      const misses = state.misses + 1;
      if (misses >= MAX_MISSES)
        return end({ ...s, misses }, PROMPTS.tooManyMisses, 'transferred', 'transfer');
      return say({ ...s, misses, phase: 'idle' }, PROMPTS.outOfScope);
    }
  }
}

/** Yes: a call back, and the call ends. No, an agent, or anything unclear: an agent. */
function callbackOrAgent(state: CallState, intent: Intent, unclear: boolean): Step {
  const s: CallState = unclear ? state : { ...state, misses: 0, intentPath: [...state.intentPath, intent.name] }; // prettier-ignore
  if (!unclear && intent.name === 'confirm_yes')
    return end({ ...s, ...owedCallback(s, 'asr_failed') }, PROMPTS.callbackSoon, 'resolved', 'hangup'); // prettier-ignore
  if (!unclear && intent.name === 'goodbye') return end(s, PROMPTS.goodbye, 'resolved', 'hangup');
  return end(s, PROMPTS.agent, 'transferred', 'transfer');
}

/**
 * The offer of a call back about a question that could not be answered: yes owes one, no goes
 * on; unclear is asked once more, then taken as a no. Undefined: another request.
 */
function callbackLater(state: CallState, intent: Intent, unclear: boolean): Step | undefined {
  if (unclear) {
    if (state.misses >= 1)
      return say({ ...state, misses: 0, phase: 'idle' }, `${PROMPTS.takenAsNo} ${PROMPTS.anythingElse}`); // prettier-ignore
    return say({ ...state, misses: state.misses + 1 }, PROMPTS.offerCallbackLaterAgain);
  }
  const s: CallState = { ...state, misses: 0, intentPath: [...state.intentPath, intent.name] };
  if (intent.name === 'confirm_yes')
    return say(
      { ...s, phase: 'idle', ...owedCallback(s, 'no_retrieval') },
      `${PROMPTS.callbackLaterBooked} ${PROMPTS.anythingElse}`,
    );
  if (intent.name === 'confirm_no')
    return say({ ...s, phase: 'idle' }, `Okay. ${PROMPTS.anythingElse}`);
  return undefined;
}

function onBalance(state: CallState, event: Extract<CallEvent, { kind: 'balance' }>): Step {
  if (event.purpose === 'report')
    return say({ ...state, phase: 'idle' }, `${balanceSentences(event)} ${PROMPTS.anythingElse}`);
  if (!event.openInvoice)
    return say({ ...state, phase: 'idle' }, `${PROMPTS.noOpenBill} ${PROMPTS.anythingElse}`);
  const pendingPayment = { ...event.openInvoice };
  return say(
    { ...state, phase: 'confirm_payment', pendingPayment },
    confirmQuestion(pendingPayment),
  );
}

const ANSWERS = [
  'yes',
  'yes please',
  'yeah',
  'sure',
  'go ahead',
  'no',
  'no thanks',
  'nope',
  'cancel',
];
const REQUESTS = [
  "what's my balance",
  'how much do i owe',
  'check my balance',
  'pay my bill',
  'i want to pay my bill',
  'make a payment',
  'talk to an agent',
  'can i talk to a real person',
  'speak to a representative',
  'goodbye',
  "no that's all",
  'thank you bye',
];

// Common knowledge-base questions: a grammar-based local recognizer hears only what it is
// told to expect; a cloud recognizer takes them as keyterms.
const QUESTIONS = [
  'what internet plans do you have',
  'how much is the fiber plan',
  'what is the late fee',
  'how do i set up autopay',
  'when is my bill due each month',
  'what payment methods do you accept',
  'how do i report an outage',
  'when will my power be back',
  'do i get a credit for an internet outage',
  'how do i cancel my service',
  'what is your refund policy',
  'do you have a senior discount',
];

const paidLine = (amountCents: number) =>
  `Your payment of ${spokenAmount(amountCents)} is complete. ${PROMPTS.anythingElse}`;

/**
 * The reply the caller's likely next words lead to, where the state already knows it (a yes
 * to the payment question): the edge may synthesize it while the caller answers.
 */
export function likelyNextReply(state: CallState): string | undefined {
  if (state.phase === 'confirm_payment' && state.pendingPayment)
    return paidLine(state.pendingPayment.amountCents);
  return undefined;
}

/**
 * With no question open, what a caller whose account was read ahead most often asks leads to
 * their balance or the payment question: the edge may synthesize those sentences meanwhile.
 */
export function likelyAccountLines(state: CallState): string | undefined {
  const account = state.accountAhead;
  if (state.phase !== 'idle' || !account) return undefined;
  const bill = account.openInvoice;
  return bill ? `${balanceSentences(account)} ${billSentence(bill)}` : balanceSentences(account);
}

/** How the payment question starts when it is asked again (a caller repeats on hearing it). */
export const ASKED_AGAIN = { payment: 'Please say yes to pay', doubtedYes: 'To be sure:' };

/** A doubted yes to a payment: asked again, with the keypad (unambiguous) offered. */
export const confirmAgain = (amountCents: number): string =>
  `${ASKED_AGAIN.doubtedYes} shall I pay ${spokenAmount(amountCents)} now? Say yes or press 1, or say no or press 2.`;

/** The phase waits on the answer to a yes/no question (an offer, a confirmation). */
export const asksYesNo = (phase: Phase): boolean => ASKING.includes(phase);

/**
 * Not answers, said to a yes/no question: in a grammar, they keep such speech from being
 * forced onto the nearest answer ("hold on" heard as "go ahead", "I'm not sure" as "sure").
 */
const NOT_ANSWERS = ['not now', 'not yet', 'maybe later', 'hold on', 'wait a minute', 'let me think', "i'm not sure", 'i am not sure', 'not sure', "i don't know", 'say that again']; // prettier-ignore

/**
 * Answers that say so in words: a grammar without them forces "yes, that is correct" onto salad
 * ("yeah not now goodbye"), and without the negatives "that's not right" onto "that's right".
 */
const WORDED_ANSWERS = ["yes that's correct", "that's correct", "that's right", 'correct', "that's not right", "that's not correct", "no that's wrong"]; // prettier-ignore

/** What the caller is likely to say next: recognizer hints for the next utterance. */
export function expectedPhrases(
  phase: Phase,
  opts: { notAnswers?: boolean; wordedAnswers?: boolean } = {},
): string[] {
  if (ASKING.includes(phase))
    return [
      ...ANSWERS,
      ...(opts.wordedAnswers ? WORDED_ANSWERS : []),
      ...(opts.notAnswers ? NOT_ANSWERS : []),
      ...REQUESTS,
    ];
  if (phase === 'ended') return [];
  return [...REQUESTS, ...QUESTIONS, ...ANSWERS];
}
