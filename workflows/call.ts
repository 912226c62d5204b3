// callWorkflow: one per phone call. Owns the conversation state; the edge sends one
// update per final utterance and speaks the reply it returns. Turns are processed one
// at a time by the main loop, so handlers never race on state.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BalanceView } from '../activities/call-activities';
import type { AnswerInput, AnswerRecord } from '../activities/language/answer-contract';
import type { EventDraft } from '../activities/ports';
import { answers, edgeAnswer, edgeHost, events, fast, payments, records } from './activity-proxies';
import {
  dtmfIntent,
  expectedPhrases,
  initialCallState,
  step,
  type CallEvent,
  type CallState,
  type Effect,
} from './call-state';
import { payBill } from './payment-saga';
import {
  bargeInSignal,
  callStatusSignal,
  recordingReadySignal,
  DEFAULT_CALL_CONFIG,
  dtmfUpdate,
  isKbIntent,
  SA_CUSTOMER_ID,
  SA_DISPOSITION,
  SA_LAST_INTENT,
  SA_TURN_COUNT,
  stateQuery,
  streamStartedUpdate,
  TERMINAL_CALL_STATUSES,
  transcriptQuery,
  turnTimingSignal,
  utteranceUpdate,
  type CallInput,
  type CallResult,
  type Dtmf,
  type Intent,
  type RecordingRef,
  type Reply,
  type StreamInfo,
  type TranscriptEntry,
  type TurnTimingReport,
  type TwilioCallStatus,
  type Utterance,
} from './definitions';
import {
  POST_CALL_TASK_QUEUE,
  POST_CALL_WORKFLOW_TYPE,
  postCallWorkflowId,
  type PostCallInput,
} from './post-call-definitions';

/** Replies kept for de-duplication of repeated turns (also carried across continue-as-new). */
const RECENT_REPLIES = 16;
/** Transcript entries carried into a continued run; the full call is in the histories. */
const TRANSCRIPT_TAIL = 20;
const MAX_TEXT = 2000;

/** Turns whose metrics wait for the edge's timing report, at most (a lost report is dropped). */
const MAX_PENDING_METRICS = 8;

/** What the workflow knows of one turn, for its turn.metrics event. */
interface TurnFacts {
  confidence?: number;
  asrProvider?: string;
  asrMs?: number;
  llmProvider?: string;
  llmMs?: number;
  retrievalMs?: number;
  llmUsage?: { inputTokens: number; outputTokens: number };
  /** Workflow time from the turn's arrival to its reply (text calls' end to end). */
  replyMs: number;
}

/** How long a line takes to say (the local voice speaks ≈ 320 ms a word). */
const speakingMs = (text: string): number => text.split(/\s+/).filter(Boolean).length * 350;

type TurnInput =
  | {
      kind: 'speech';
      turnId: number;
      text: string;
      confidence: number;
      asr?: Utterance['asr'];
      asrMs?: number;
    }
  | { kind: 'dtmf'; turnId: number; digits: string; maskedLength?: number };

export async function callWorkflow(input: CallInput): Promise<CallResult> {
  const config = { ...DEFAULT_CALL_CONFIG, ...input.config };
  const { workflowId } = workflowInfo();
  const carried = input.carried;

  let state: CallState = carried?.state ?? initialCallState();
  const transcript: TranscriptEntry[] = [...(carried?.transcriptTail ?? [])];
  const replies: Reply[] = [...(carried?.recentReplies ?? [])];
  let lastTurnId = carried?.lastTurnId ?? 0;
  let nextSeq = carried?.nextSeq ?? 1;
  const runs = (carried?.runs ?? 0) + 1;
  const inbox: TurnInput[] = [];
  const pending = new Set<number>();
  let hangup: TwilioCallStatus | undefined;
  let stream: StreamInfo | undefined = carried?.stream;
  let recording: RecordingRef | undefined;

  // The data plane: events to Kafka and the post-call workflow. Decided once per
  // run, so a history recorded before it replays without either.
  const dataPlane = patched('data-plane');
  let publishedSeq = carried?.publishedSeq ?? 0;
  let publishing: Promise<void> = Promise.resolve();
  const edgeTimings: TurnTimingReport[] = [];
  /** What the workflow knows of each recent turn, for its metrics event. */
  const turnFacts = new Map<number, TurnFacts>();
  const fallbacksUsed = new Map<
    string,
    { stage: 'asr' | 'llm'; provider: string; turns: number }
  >();
  let lowConfidenceTurns = 0;

  const replyFor = (turnId: number) => replies.find((r) => r.turnId === turnId);
  const ended = () => state.phase === 'ended';
  const note = (e: Omit<TranscriptEntry, 'seq'>) => transcript.push({ seq: nextSeq++, ...e });

  const draft = <T extends EventDraft['type']>(
    type: T,
    seq: number,
    data: Extract<EventDraft, { type: T }>['data'],
  ): EventDraft =>
    ({
      type,
      call_id: input.callSid,
      workflow_id: workflowId,
      seq,
      occurred_at: new Date().toISOString(),
      data,
    }) as EventDraft;
  const pendingFallbacks: EventDraft[] = [];

  /**
   * Publishes in the background, one batch after another, so a call's events stay in order.
   * Once continue-as-new is due, new batches are held for the next run; batches still in
   * flight when it happens (a broker away) are sent again by it: the ids are the same and
   * consumers drop the repeats.
   */
  const inFlight = new Map<number, EventDraft[]>();
  const held: EventDraft[][] = [];
  let holding = false;
  let batches = 0;
  function publish(drafts: EventDraft[]): void {
    if (!dataPlane || drafts.length === 0) return;
    if (holding) return void held.push(drafts);
    const batch = batches++;
    inFlight.set(batch, drafts);
    publishing = publishing
      .then(async () => void (await events.publishEvents(drafts)))
      .catch((err) => log.error('events could not be published', { error: String(err) }))
      .finally(() => inFlight.delete(batch));
  }
  publish(carried?.unpublished ?? []);

  /**
   * A turn's metrics: an audio call's from the edge's timing report (voice to voice; turn 0,
   * the greeting, heard no caller and its end to end is the time to greet), a text call's
   * (or a turn whose report never came) from the workflow's own reply time.
   */
  function turnMetrics(
    turnId: number,
    f: TurnFacts | undefined,
    edge?: TurnTimingReport,
  ): EventDraft {
    return draft('turn.metrics', turnId, {
      turn_id: turnId,
      latency_ms: {
        ...(edge && turnId > 0 && { asr: Math.round(edge.asrMs) }),
        ...(f?.retrievalMs !== undefined && { retrieval: f.retrievalMs }),
        ...(f?.llmMs !== undefined && { llm: f.llmMs }),
        ...(edge && { tts: Math.round(edge.ttsMs) }),
        end_to_end: edge ? Math.round(edge.voiceToVoiceMs) : (f?.replyMs ?? 0),
      },
      providers: {
        ...(f?.asrProvider && { asr: f.asrProvider }),
        ...(f?.llmProvider && { llm: f.llmProvider }),
        ...(edge?.ttsProvider && { tts: edge.ttsProvider }),
      },
      // Speech is synthesized (and billed) on the edge: a text call's turn has none.
      usage: {
        ...(f?.asrMs !== undefined && { asr_audio_ms: f.asrMs }),
        tts_characters: edge?.ttsCharacters ?? 0,
        ...(f?.llmUsage && {
          llm_input_tokens: f.llmUsage.inputTokens,
          llm_output_tokens: f.llmUsage.outputTokens,
        }),
      },
      ...(edge && { tts_cache_hit: edge.cacheHit }),
    });
  }

  /** New transcript lines, turn metrics and fallbacks since the last batch. */
  function flushEvents(): void {
    if (!dataPlane) return;
    const drafts: EventDraft[] = [];
    for (const e of transcript) {
      if (e.seq <= publishedSeq) continue;
      const f = e.speaker === 'caller' ? turnFacts.get(e.turnId) : undefined;
      drafts.push(
        draft('transcript.line', e.seq, {
          turn_id: e.turnId,
          speaker: e.speaker,
          text: e.text,
          ...(e.intent && { intent: e.intent.name }),
          ...(e.reason && { reason: e.reason }),
          ...(e.interrupted && { interrupted_heard_ms: e.interrupted.heardMs }),
          ...(f?.asrProvider && { asr_provider: f.asrProvider }),
          ...(f?.confidence !== undefined && { confidence: f.confidence }),
        }),
      );
      publishedSeq = e.seq;
    }
    // Audio calls: the edge reports the voice-to-voice time once the reply started playing.
    for (const t of edgeTimings.splice(0)) {
      drafts.push(turnMetrics(t.turnId, turnFacts.get(t.turnId), t));
      turnFacts.delete(t.turnId);
    }
    for (const [turnId, f] of turnFacts) {
      if (stream?.streamSid && turnFacts.size <= MAX_PENDING_METRICS) break;
      drafts.push(turnMetrics(turnId, f));
      turnFacts.delete(turnId);
    }
    publish([...drafts, ...pendingFallbacks.splice(0)]);
  }

  function noteFallbacks(
    stage: 'asr' | 'llm',
    turnId: number,
    attempts: { provider: string; ok: boolean; reason?: string; error?: string }[],
    servedBy: string | undefined,
  ): void {
    const failed = attempts.filter((a) => !a.ok && !(a.reason ?? '').startsWith('skipped'));
    failed.forEach((a, i) =>
      pendingFallbacks.push(
        draft('provider.fallback', turnId * 16 + (stage === 'llm' ? 8 : 0) + Math.min(i, 7), {
          stage,
          failed_provider: a.provider,
          reason: (a.reason ?? a.error ?? 'failed').slice(0, 500),
          ...(servedBy && { served_by: servedBy }),
          turn_id: turnId,
        }),
      ),
    );
    if (servedBy && failed.length) {
      const key = `${stage}:${servedBy}`;
      const used = fallbacksUsed.get(key) ?? { stage, provider: servedBy, turns: 0 };
      fallbacksUsed.set(key, { ...used, turns: used.turns + 1 });
    }
  }

  function speak(
    turnId: number,
    text: string,
    action: Reply['action'],
    reason: TranscriptEntry['reason'],
    intent?: Intent,
    answer?: AnswerRecord,
  ): Reply {
    const hints = expectedPhrases(state.phase);
    // A streamed answer was played while it was generated; the edge says only the rest.
    const spokenChars =
      answer?.spokenChars && text.startsWith(answer.text) ? answer.spokenChars : undefined;
    const reply: Reply = {
      turnId,
      text,
      action,
      ...(intent && { intent }),
      ...(hints.length && { hints }),
      ...(spokenChars && { spokenChars }),
    };
    if (text)
      note({
        speaker: 'agent',
        turnId,
        text,
        reason,
        ...(answer && {
          answer: {
            servedBy: answer.servedBy,
            ...(answer.refused && { refused: answer.refused }),
            documentIds: answer.documentIds,
            fallbacks: answer.attempts.filter((a) => !a.ok).map((a) => a.provider),
            ...(answer.timings.firstSentenceMs !== undefined && {
              firstSentenceMs: answer.timings.firstSentenceMs,
            }),
          },
        }),
      });
    if (reason === 'greeting' || reason === 'reply') {
      replies.push(reply);
      if (replies.length > RECENT_REPLIES) replies.splice(0, replies.length - RECENT_REPLIES);
    }
    return reply;
  }

  function validateTurn(turnId: number): void {
    if (!Number.isSafeInteger(turnId) || turnId < 1)
      throw new Error('turnId must be a positive integer');
    if (ended()) throw new Error('the call has ended');
    if (turnId <= lastTurnId && !replyFor(turnId) && !pending.has(turnId))
      throw new Error(
        `turn ${turnId} is older than the last turn (${lastTurnId}) and was already answered`,
      );
  }

  async function submit(turn: TurnInput): Promise<Reply> {
    const known = replyFor(turn.turnId);
    if (known) return known;
    if (!pending.has(turn.turnId)) {
      pending.add(turn.turnId);
      inbox.push(turn);
      lastTurnId = Math.max(lastTurnId, turn.turnId);
    }
    await condition(() => replyFor(turn.turnId) !== undefined || ended());
    return replyFor(turn.turnId) ?? { turnId: turn.turnId, text: '', action: 'hangup' };
  }

  setHandler(streamStartedUpdate, async (info) => {
    stream = { ...stream, ...info };
    await condition(() => replyFor(0) !== undefined);
    return replyFor(0)!;
  });
  setHandler(
    utteranceUpdate,
    (u) =>
      submit({
        kind: 'speech',
        turnId: u.turnId,
        text: u.text.trim(),
        confidence: u.confidence,
        ...(u.asr && { asr: u.asr }),
        ...(u.timings?.asrMs !== undefined && { asrMs: u.timings.asrMs }),
      }),
    {
      validator: (u: Utterance) => {
        validateTurn(u.turnId);
        // Empty text is how the edge reports an utterance no recognizer could transcribe.
        const unrecognized = u.asr !== undefined && u.asr.servedBy === undefined;
        if (typeof u.text !== 'string' || (!u.text.trim() && !unrecognized))
          throw new Error('text must be a non-empty string');
        if (u.text.length > MAX_TEXT) throw new Error(`text is longer than ${MAX_TEXT} characters`);
        if (typeof u.confidence !== 'number' || !(u.confidence >= 0 && u.confidence <= 1))
          throw new Error('confidence must be a number from 0 to 1');
      },
    },
  );
  setHandler(
    dtmfUpdate,
    (d) =>
      submit({
        kind: 'dtmf',
        turnId: d.turnId,
        digits: d.digits,
        ...(d.maskedLength && { maskedLength: d.maskedLength }),
      }),
    {
      validator: (d: Dtmf) => {
        validateTurn(d.turnId);
        if (d.maskedLength !== undefined) {
          if (!Number.isSafeInteger(d.maskedLength) || d.maskedLength < 1 || d.digits !== '')
            throw new Error('a masked entry has a positive maskedLength and empty digits');
        } else if (typeof d.digits !== 'string' || !/^[0-9*#]{1,32}$/.test(d.digits))
          throw new Error('digits must be 1-32 of 0-9, * and #');
      },
    },
  );
  setHandler(callStatusSignal, (status) => {
    if (TERMINAL_CALL_STATUSES.includes(status)) hangup ??= status;
  });
  setHandler(recordingReadySignal, (ref) => {
    recording = ref;
  });
  setHandler(turnTimingSignal, (t) => {
    if (edgeTimings.length < 64) edgeTimings.push(t);
  });
  setHandler(bargeInSignal, ({ turnId, heardMs }) => {
    const line = transcript.findLast((e) => e.speaker === 'agent' && e.turnId === turnId);
    if (line) line.interrupted = { heardMs: Math.max(0, Math.round(heardMs)) };
  });
  setHandler(transcriptQuery, () => transcript);
  setHandler(stateQuery, () => ({
    callSid: input.callSid,
    state,
    lastTurnId,
    turns: state.turns,
    lastReply: replies[replies.length - 1],
    ended: ended(),
    disposition: state.disposition,
    runs,
    ...(stream && { stream }),
    ...(recording && { recording }),
  }));

  async function runEffect(
    effect: Effect,
    turn: { turnId: number; text: string },
    prefetched?: BalanceView,
  ): Promise<{ event: CallEvent; answer?: AnswerRecord }> {
    if (effect.kind === 'answer') {
      const request: AnswerInput = {
        callSid: input.callSid,
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
        const answer = stream?.edgeTaskQueue
          ? await edgeAnswer(stream.edgeTaskQueue).answerOnCall(request)
          : await answers.answerQuestion(request);
        return {
          event: { kind: 'answered', text: answer.text, refused: answer.refused !== undefined },
          answer,
        };
      } catch (err) {
        log.warn('no answer could be produced', { error: String(err) });
        return { event: { kind: 'answer_failed' } };
      }
    }
    return { event: await runAccountEffect(effect, prefetched) };
  }

  async function runAccountEffect(
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
        return { kind: 'lookup_failed' };
      }
    }
    // From this version on a payment is a saga: reserve → charge → commit, each step
    // compensated after a failure. Histories recorded before it replay the payInvoice below.
    if (patched('payment-saga')) {
      const paid = await payBill({
        workflowId,
        invoiceId: effect.invoiceId,
        amountCents: effect.amountCents,
      });
      return paid.ok
        ? { kind: 'payment', ok: true, amountCents: paid.amountCents }
        : { kind: 'payment', ok: false };
    }
    try {
      // One key per invoice per call: a retry, a crash or a second "yes" pays once.
      const idempotencyKey = `${workflowId}:pay:${effect.invoiceId}`;
      const receipt = await payments.payInvoice({
        idempotencyKey,
        invoiceId: effect.invoiceId,
        amountCents: effect.amountCents,
      });
      return { kind: 'payment', ok: true, amountCents: receipt.amountCents };
    } catch (err) {
      log.warn('payment failed', { error: String(err) });
      return { kind: 'payment', ok: false };
    }
  }

  async function runTurn(turn: TurnInput): Promise<void> {
    const arrivedAt = new Date().getTime();
    const said =
      turn.kind === 'speech'
        ? turn.text || '[not understood]'
        : turn.maskedLength
          ? `[keypad entry of ${turn.maskedLength} digits, masked]`
          : `[keypad ${turn.digits}]`;
    note({ speaker: 'caller', turnId: turn.turnId, text: said });
    let intent: Intent;
    let account: BalanceView | undefined;
    if (turn.kind === 'dtmf') intent = dtmfIntent(state.phase, turn.digits);
    else if (!turn.text)
      intent = { name: 'out_of_scope', confidence: 0 }; // → asked to repeat
    else {
      try {
        ({ intent, account } = await fast.understandTurn({
          text: turn.text,
          customerId: state.customer?.id,
        }));
      } catch (err) {
        log.warn('intent classification failed', { error: String(err) });
        intent = { name: 'out_of_scope', confidence: 0 };
      }
    }
    // Knowledge-base intents are answered from this version on; before, they were out of scope.
    if (isKbIntent(intent.name) && !patched('grounded-answers'))
      intent = { name: 'out_of_scope', confidence: intent.confidence };
    const confidence = turn.kind === 'speech' ? turn.confidence : 1;
    let next = step(state, {
      kind: 'turn',
      intent,
      asrConfidence: confidence,
      threshold: config.confidenceThreshold,
      // Asked only when it matters, so older histories replay without the marker.
      ...(intent.name === 'out_of_scope' &&
        intent.confidence >= config.confidenceThreshold &&
        confidence >= config.confidenceThreshold && {
          reaskOutOfScope: patched('out-of-scope-reasks'),
        }),
    });
    let answer: AnswerRecord | undefined;
    while (next.effect) {
      state = next.state;
      const done = await runEffect(
        next.effect,
        { turnId: turn.turnId, text: turn.kind === 'speech' ? turn.text : '' },
        account,
      );
      answer ??= done.answer;
      next = step(state, done.event);
      account = undefined; // read once: after a payment the balance must be read again
    }
    state = next.state;
    speak(turn.turnId, next.say ?? '', next.action, 'reply', intent, answer);
    pending.delete(turn.turnId);
    if (dataPlane) {
      if (Math.min(intent.confidence, confidence) < config.confidenceThreshold)
        lowConfidenceTurns++;
      if (turn.kind === 'speech' && turn.asr)
        noteFallbacks('asr', turn.turnId, turn.asr.attempts, turn.asr.servedBy);
      if (answer) noteFallbacks('llm', turn.turnId, answer.attempts, answer.servedBy);
      turnFacts.set(turn.turnId, {
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
      });
      flushEvents();
    }
    // Only on a change: an upsert per turn costs the server a few ms of CPU on every
    // turn; TurnCount is exact from the next change on and at the end of the call.
    if (workflowInfo().typedSearchAttributes.get(SA_LAST_INTENT) !== intent.name) {
      upsertSearchAttributes([
        { key: SA_LAST_INTENT, value: intent.name },
        { key: SA_TURN_COUNT, value: state.turns },
      ]);
    }
  }

  /**
   * Seed §7 after the call log: the recording and the call's end as events (after every
   * line of the transcript), and the post-call workflow, which outlives this one. Each step
   * repeats nothing on a retry: event ids and the child's workflow id are deterministic.
   * The call's personal TTS cache entries are removed by the post-call workflow's first step.
   */
  async function finalize(disposition: string, durationMs: number, callLogId: string) {
    holding = false;
    for (const batch of held.splice(0)) publish(batch);
    flushEvents();
    for (const [turnId, f] of turnFacts) publish([turnMetrics(turnId, f)]);
    turnFacts.clear();
    publish([
      ...(recording
        ? [
            draft('recording.completed', 0, {
              bucket: recording.bucket ?? 'recordings',
              object_key: recording.key,
              duration_ms: recording.durationMs,
              truncated: recording.truncated,
            }),
          ]
        : []),
      draft('call.ended', 0, {
        disposition,
        intents: state.intentPath,
        turns: state.turns,
        duration_ms: durationMs,
        fallbacks_used: [...fallbacksUsed.values()],
        ...(state.customer && { customer_id: state.customer.id }),
        ...(recording && { recording_key: recording.key }),
        call_log_id: callLogId,
      }),
    ]);
    const refusedAnswers = transcript.filter((e) => e.answer?.refused).length;
    await startChild(POST_CALL_WORKFLOW_TYPE, {
      workflowId: postCallWorkflowId(input.callSid),
      taskQueue: POST_CALL_TASK_QUEUE,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [
        {
          callSid: input.callSid,
          callWorkflowId: workflowId,
          ...(recording && { recordingKey: recording.key }),
          ...(state.customer && { customerId: state.customer.id }),
          disposition,
          intents: state.intentPath,
          turns: state.turns,
          durationMs,
          fallbacks: [...fallbacksUsed.values()].map((f) => `${f.stage}:${f.provider}`),
          lowConfidenceTurns,
          transferred: disposition === 'transferred',
          ...(refusedAnswers && { refusedAnswers }),
        } satisfies PostCallInput,
      ],
    });
    // Nothing is lost: the call closes once the broker has every event.
    await publishing;
  }

  if (!carried) {
    const customer = await fast.identifyCaller(input.from);
    if (customer) upsertSearchAttributes([{ key: SA_CUSTOMER_ID, value: customer.id }]);
    const greeted = step(state, { kind: 'identified', customer });
    state = greeted.state;
    speak(0, greeted.say ?? '', greeted.action, 'greeting');
  }

  while (!ended()) {
    // Silence counts from the end of what the agent is saying, not from when it was sent:
    // on an audio call a long reply would otherwise be re-prompted over.
    const lastSaid = transcript.findLast((e) => e.speaker === 'agent')?.text ?? '';
    const speaking =
      stream?.streamSid && patched('no-input-after-playback') ? speakingMs(lastSaid) : 0;
    const heard = await condition(
      () => inbox.length > 0 || hangup !== undefined,
      config.noInputTimeoutMs + speaking,
    );
    if (hangup) {
      state = step(state, { kind: 'hangup', answered: hangup === 'completed' }).state;
      break;
    }
    if (!heard) {
      const s = step(state, { kind: 'no_input' });
      state = s.state;
      const reply = speak(lastTurnId, s.say ?? '', s.action, ended() ? 'end' : 'no_input');
      flushEvents();
      // Nobody asked for this line, so no update carries it back: the edge host that holds
      // the call is told to say it (and to hang up after the last one).
      if (stream?.edgeTaskQueue && patched('edge-speaks-unprompted')) {
        await edgeHost(stream.edgeTaskQueue)
          .speakOnCall({ callSid: input.callSid, text: reply.text, hangUpAfter: ended() })
          .catch((err) => log.warn('the edge could not speak the prompt', { error: String(err) }));
      }
      continue;
    }
    await runTurn(inbox.shift()!);

    if (workflowInfo().continueAsNewSuggested && !ended()) {
      if (dataPlane) {
        // A batch completing while the run closes would fail the closing task (and an update
        // arriving then): let the last ones land first, a bounded time.
        holding = true;
        await condition(() => inFlight.size === 0, '5s');
      }
      // Let in-flight update handlers return their replies before this run closes.
      await condition(() => allHandlersFinished() || inbox.length > 0 || hangup !== undefined);
      if (inbox.length === 0 && hangup === undefined) {
        await continueAsNew<typeof callWorkflow>({
          ...input,
          carried: {
            state,
            transcriptTail: transcript.slice(-TRANSCRIPT_TAIL),
            recentReplies: replies,
            lastTurnId,
            nextSeq,
            runs,
            ...(stream && { stream }),
            ...(dataPlane && {
              publishedSeq,
              unpublished: [...inFlight.values(), ...held].flat(),
            }),
          },
        });
      }
    }
  }

  const disposition = state.disposition ?? 'caller_hung_up';
  upsertSearchAttributes([
    { key: SA_DISPOSITION, value: disposition },
    { key: SA_TURN_COUNT, value: state.turns },
  ]);
  const durationMs = new Date().getTime() - workflowInfo().startTime.getTime();
  // An audio call's recording is uploaded by the edge when the stream closes; the call log
  // carries its key, so wait for it a bounded time (a lost edge must not hold the call open).
  if (stream?.streamSid && patched('await-recording')) {
    await condition(() => recording !== undefined, config.recordingWaitMs);
  }
  const customerId = state.customer?.id;
  const callLog = await records.writeCallLog({
    idempotencyKey: `${workflowId}:call-log`,
    log: {
      callSid: input.callSid,
      ...(customerId && { customerId }),
      callerNumber: input.from,
      intentPath: state.intentPath,
      disposition,
      turns: state.turns,
      durationMs,
      ...(recording && { recordingKey: recording.key }),
    },
  });
  if (dataPlane) await finalize(disposition, durationMs, callLog.id);
  // Turns still waiting get the call's end as their reply.
  await condition(allHandlersFinished);
  if (!callLog.id) throw ApplicationFailure.nonRetryable('call log was not written');
  return {
    callSid: input.callSid,
    disposition,
    turns: state.turns,
    intentPath: state.intentPath,
    durationMs,
    callLogId: callLog.id,
    ...(recording && { recording }),
  };
}
