// Caller turns: admitted by the update handlers (validated, de-duplicated by turn id, queued)
// and run one at a time by the workflow's loop: understand the turn (one local activity),
// step the state machine, run its effects (account reads, the payment saga, a grounded
// answer), reply.
import { condition, log, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AnswerInput, AnswerRecord } from '../../contracts/answers';
import { DEFAULT_PAYMENT_CONFIRM_THRESHOLD, type BalanceView } from '../../contracts/call';
import { answers, edgeAnswer, fast, payments } from '../activity-proxies';
import { dtmfIntent, step, type CallEvent, type Effect } from '../call-state';
import {
  isKbIntent,
  SA_LAST_INTENT,
  SA_TURN_COUNT,
  type CallConfig,
  type Intent,
  type Reply,
  type StreamInfo,
  type Utterance,
} from '../definitions';
import { payBill } from '../payment-saga';
import { reviewFor } from '../review';
import type { Conversation } from './conversation';
import type { EventOutbox } from './event-outbox';
import { deprecated, DEPRECATED_PATCHES, isPatched, PATCHES } from './versions';

const MAX_TEXT = 2000;

export type TurnInput =
  | {
      kind: 'speech';
      turnId: number;
      text: string;
      confidence: number;
      asr?: Utterance['asr'];
      asrMs?: number;
    }
  | { kind: 'dtmf'; turnId: number; digits: string; maskedLength?: number };

/** What a turn needs of the call around it. */
export interface TurnContext {
  callSid: string;
  workflowId: string;
  config: CallConfig;
  conversation: Conversation;
  outbox: EventOutbox;
  stream(): StreamInfo | undefined;
  /** The caller can be called back (a phone number, and an agents' queue to connect it to). */
  canCallBack: boolean;
}

/** Turns admitted and not yet answered, in arrival order. */
export class TurnInbox {
  readonly queue: TurnInput[] = [];
  lastTurnId: number;
  private readonly pending = new Set<number>();
  private readonly conversation: Conversation;

  constructor(
    conversation: Conversation,
    lastTurnId = 0,
    /** A human has the call (or it waits for one): turns are written down, not answered. */
    private readonly heldByHuman: () => boolean = () => false,
  ) {
    this.conversation = conversation;
    this.lastTurnId = lastTurnId;
  }

  /** Rejects a turn before it reaches history. */
  validate(turnId: number): void {
    if (!Number.isSafeInteger(turnId) || turnId < 1)
      throw new Error('turnId must be a positive integer');
    if (this.conversation.ended && !this.heldByHuman()) throw new Error('the call has ended');
    if (
      turnId <= this.lastTurnId &&
      !this.conversation.replyFor(turnId) &&
      !this.pending.has(turnId)
    )
      throw new Error(
        `turn ${turnId} is older than the last turn (${this.lastTurnId}) and was already answered`,
      );
  }

  validateUtterance(u: Utterance): void {
    this.validate(u.turnId);
    // Empty text is how the edge reports an utterance no recognizer could transcribe.
    const unrecognized = u.asr !== undefined && u.asr.servedBy === undefined;
    if (typeof u.text !== 'string' || (!u.text.trim() && !unrecognized))
      throw new Error('text must be a non-empty string');
    if (u.text.length > MAX_TEXT) throw new Error(`text is longer than ${MAX_TEXT} characters`);
    if (typeof u.confidence !== 'number' || !(u.confidence >= 0 && u.confidence <= 1))
      throw new Error('confidence must be a number from 0 to 1');
  }

  validateDtmf(d: { turnId: number; digits: string; maskedLength?: number }): void {
    this.validate(d.turnId);
    if (d.maskedLength !== undefined) {
      if (!Number.isSafeInteger(d.maskedLength) || d.maskedLength < 1 || d.digits !== '')
        throw new Error('a masked entry has a positive maskedLength and empty digits');
    } else if (typeof d.digits !== 'string' || !/^[0-9*#]{1,32}$/.test(d.digits))
      throw new Error('digits must be 1-32 of 0-9, * and #');
  }

  /** Queues the turn (once per turn id) and resolves with its reply. */
  async submit(turn: TurnInput): Promise<Reply> {
    const convo = this.conversation;
    const known = convo.replyFor(turn.turnId);
    if (known) return known;
    if (this.heldByHuman()) return this.hear(turn);
    if (!this.pending.has(turn.turnId)) {
      this.pending.add(turn.turnId);
      this.queue.push(turn);
      this.lastTurnId = Math.max(this.lastTurnId, turn.turnId);
    }
    await condition(() => convo.replyFor(turn.turnId) !== undefined || convo.ended);
    const reply = convo.replyFor(turn.turnId);
    if (reply) return reply;
    // Queued when the transfer line ended the conversation, and the desk now has the call.
    if (this.heldByHuman()) return this.hear(turn);
    return { turnId: turn.turnId, text: '', action: 'hangup' };
  }

  /** The caller's turn while a human has the call: in the transcript; the reply says nothing. */
  private hear(turn: TurnInput): Reply {
    this.pending.delete(turn.turnId);
    const queued = this.queue.indexOf(turn);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.lastTurnId = Math.max(this.lastTurnId, turn.turnId);
    this.conversation.note({ speaker: 'caller', turnId: turn.turnId, text: callerLine(turn) });
    return this.conversation.speak(turn.turnId, '', 'continue', 'reply');
  }

  answered(turnId: number): void {
    this.pending.delete(turnId);
  }
}

/** What the transcript says the caller said (a masked entry never shows its digits). */
function callerLine(turn: TurnInput): string {
  if (turn.kind === 'speech') return turn.text || '[not understood]';
  return turn.maskedLength
    ? `[keypad entry of ${turn.maskedLength} digits, masked]`
    : `[keypad ${turn.digits}]`;
}

export async function runTurn(call: TurnContext, inbox: TurnInbox, turn: TurnInput) {
  const convo = call.conversation;
  const arrivedAt = new Date().getTime();
  convo.note({ speaker: 'caller', turnId: turn.turnId, text: callerLine(turn) });
  let intent: Intent;
  let account: BalanceView | undefined;
  if (turn.kind === 'dtmf') intent = dtmfIntent(convo.state.phase, turn.digits);
  else if (!turn.text)
    intent = { name: 'out_of_scope', confidence: 0 }; // → asked to repeat
  else {
    try {
      ({ intent, account } = await fast.understandTurn({
        text: turn.text,
        customerId: convo.state.customer?.id,
      }));
    } catch (err) {
      log.warn('intent classification failed', { error: String(err) });
      intent = { name: 'out_of_scope', confidence: 0 };
    }
  }
  // Knowledge-base intents are answered (before the patch they were out of scope).
  if (isKbIntent(intent.name)) deprecated(DEPRECATED_PATCHES.groundedAnswers);
  const confidence = turn.kind === 'speech' ? turn.confidence : 1;
  const threshold = call.config.confidenceThreshold;
  // Every recognizer failed (the edge sends empty text and no serving provider).
  const asrFailed = turn.kind === 'speech' && !turn.text && turn.asr !== undefined && turn.asr.servedBy === undefined; // prettier-ignore
  let next = step(convo.state, {
    kind: 'turn',
    intent,
    asrConfidence: confidence,
    threshold,
    // Decided only when it matters, where the patch was.
    ...(intent.name === 'out_of_scope' &&
      intent.confidence >= threshold &&
      confidence >= threshold &&
      (deprecated(DEPRECATED_PATCHES.outOfScopeReasks), { reaskOutOfScope: true })),
    ...(asrFailed && isPatched(PATCHES.asrFailedOffer) && { asrFailed: true }),
    ...(turn.kind === 'speech' &&
      convo.state.phase === 'confirm_payment' &&
      intent.name === 'confirm_yes' &&
      isPatched(PATCHES.paymentYesChecked) && {
        paymentYesThreshold:
          call.config.paymentConfirmThreshold ?? DEFAULT_PAYMENT_CONFIRM_THRESHOLD,
      }),
    ...(intent.name === 'confirm_no' &&
      convo.state.anythingElseAsked &&
      isPatched(PATCHES.noEndsCall) && { noEndsCall: true }),
    ...(intent.name === 'goodbye' &&
      convo.state.phase === 'confirm_payment' &&
      isPatched(PATCHES.goodbyeDeclinesPayment) && { goodbyeDeclines: true }),
  });
  let answer: AnswerRecord | undefined;
  while (next.effect) {
    convo.state = next.state;
    const done = await runEffect(
      call,
      next.effect,
      { turnId: turn.turnId, text: turn.kind === 'speech' ? turn.text : '' },
      account,
    );
    answer ??= done.answer;
    next = step(convo.state, done.event);
    account = undefined; // read once: after a payment the balance must be read again
  }
  convo.state = next.state;
  convo.speak(turn.turnId, next.say ?? '', next.action, 'reply', intent, answer);
  inbox.answered(turn.turnId);
  if (call.outbox.enabled) {
    call.outbox.noteTurn(
      turn.turnId,
      {
        ...(turn.kind === 'speech' && {
          confidence: turn.confidence,
          ...(turn.asr?.servedBy && { asrProvider: turn.asr.servedBy }),
          ...(turn.asrMs !== undefined && { asrMs: Math.round(turn.asrMs) }),
        }),
        ...(answer && {
          llmProvider: answer.servedBy,
          retrievalMs: answer.timings.retrieveMs,
          ...(answer.timings.firstSentenceMs !== undefined && {
            llmMs: answer.timings.firstSentenceMs,
          }),
          ...(answer.usage && {
            llmUsage: {
              inputTokens: answer.usage.inputTokens,
              outputTokens: answer.usage.outputTokens,
            },
          }),
        }),
        replyMs: new Date().getTime() - arrivedAt,
      },
      {
        lowConfidence: Math.min(intent.confidence, confidence) < threshold,
        ...(turn.kind === 'speech' && turn.asr && { asr: turn.asr }),
        ...(answer && { answer }),
      },
    );
    call.outbox.flush(convo.transcript, !!call.stream()?.streamSid);
  }
  // Only on a change: an upsert per turn costs the server a few ms of CPU on every
  // turn; TurnCount is exact from the next change on and at the end of the call.
  if (workflowInfo().typedSearchAttributes.get(SA_LAST_INTENT) !== intent.name) {
    upsertSearchAttributes([
      { key: SA_LAST_INTENT, value: intent.name },
      { key: SA_TURN_COUNT, value: convo.state.turns },
    ]);
  }
}

async function runEffect(
  call: TurnContext,
  effect: Effect,
  turn: { turnId: number; text: string },
  prefetched?: BalanceView,
): Promise<{ event: CallEvent; answer?: AnswerRecord }> {
  if (effect.kind !== 'answer') return { event: await runAccountEffect(call, effect, prefetched) };
  const { state, transcript } = call.conversation;
  const request: AnswerInput = {
    callSid: call.callSid,
    turnId: turn.turnId,
    question: turn.text,
    intent: effect.intent,
    ...(state.customer && { customer: state.customer }),
    ...(prefetched && {
      profile: {
        balanceCents: prefetched.balanceCents,
        ...(prefetched.openInvoice && { dueDate: prefetched.openInvoice.dueDate }),
      },
    }),
    recentTurns: transcript.slice(-7, -1).map((e) => ({ speaker: e.speaker, text: e.text })),
    turnCount: state.turns,
  };
  try {
    // On an audio call the edge host speaks each sentence as soon as it is ready.
    const edgeQueue = call.stream()?.edgeTaskQueue;
    const answer = edgeQueue
      ? await edgeAnswer(edgeQueue).answerOnCall(request)
      : await answers.answerQuestion(request);
    // The knowledge base could not be searched: a call back when it can be answered, to a
    // caller who can be called (decided only then, where the patch is).
    const offerCallback =
      answer.degraded === 'no_retrieval' &&
      call.canCallBack &&
      isPatched(PATCHES.noRetrievalCallbackOffer);
    return {
      event: {
        kind: 'answered',
        text: answer.text,
        refused: answer.refused !== undefined,
        ...(offerCallback && { offerCallback }),
      },
      answer,
    };
  } catch (err) {
    log.warn('no answer could be produced', { error: String(err) });
    // Every model (or the activity) failed for good: a call back and a person's look.
    if (!isPatched(PATCHES.noGroundedAnswer)) return { event: { kind: 'answer_failed' } };
    upsertSearchAttributes([reviewFor('no_grounded_answer')]);
    return { event: { kind: 'answer_failed', callBack: true } };
  }
}

async function runAccountEffect(
  call: TurnContext,
  effect: Exclude<Effect, { kind: 'answer' }>,
  prefetched?: BalanceView,
): Promise<CallEvent> {
  if (effect.kind === 'fetch_balance') {
    if (prefetched) return { kind: 'balance', purpose: effect.purpose, ...prefetched };
    try {
      return {
        kind: 'balance',
        purpose: effect.purpose,
        ...(await fast.getBalance(effect.customerId)),
      };
    } catch (err) {
      log.warn('balance lookup failed', { error: String(err) });
      // The CRM is away: a call back is offered (before the patch, an agent).
      return isPatched(PATCHES.crmUnavailable)
        ? { kind: 'lookup_failed', offerCallback: true }
        : { kind: 'lookup_failed' };
    }
  }
  // From this version on a payment is a saga: reserve → charge → commit, each step
  // compensated after a failure. Histories recorded before it replay the payInvoice below.
  if (isPatched(PATCHES.paymentSaga)) {
    const paid = await payBill({
      workflowId: call.workflowId,
      invoiceId: effect.invoiceId,
      amountCents: effect.amountCents,
    });
    return paid.ok
      ? { kind: 'payment', ok: true, amountCents: paid.amountCents }
      : { kind: 'payment', ok: false };
  }
  try {
    // One key per invoice per call: a retry, a crash or a second "yes" pays once.
    const receipt = await payments.payInvoice({
      idempotencyKey: `${call.workflowId}:pay:${effect.invoiceId}`,
      invoiceId: effect.invoiceId,
      amountCents: effect.amountCents,
    });
    return { kind: 'payment', ok: true, amountCents: receipt.amountCents };
  } catch (err) {
    log.warn('payment failed', { error: String(err) });
    return { kind: 'payment', ok: false };
  }
}
