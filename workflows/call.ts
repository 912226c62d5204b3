// callWorkflow: one per phone call. Owns the conversation state; the edge sends one
// update per final utterance and speaks the reply it returns. Turns are processed one
// at a time by the main loop, so handlers never race on state. Its parts are in call/:
// the conversation, the turns, the event outbox, the call's end and the patch ids.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { edgeHost, identify } from './activity-proxies';
import { identifiedEvent, step } from './call-state';
import { Conversation } from './call/conversation';
import { EventOutbox } from './call/event-outbox';
import { finishCall } from './call/finalization';
import { DeskHandoff } from './call/desk-handoff';
import {
  handOff,
  handoffSummary,
  lateDialOutcome,
  scheduleCallback,
  type HandoffOutcome,
} from './call/handoff';
import { TtsOutageNotice } from './call/tts-outage';
import { runTurn, TurnInbox, type TurnContext } from './call/turns';
import { deprecated, DEPRECATED_PATCHES, isPatched, PATCHES } from './call/versions';
import {
  acceptHandoffUpdate,
  bargeInSignal,
  callStatusSignal,
  DEFAULT_CALL_CONFIG,
  DEFAULT_DESK_ANSWER_TIMEOUT_MS,
  DEFAULT_DESK_HOLD_REMINDER_MS,
  dialStatusSignal,
  dtmfUpdate,
  endCallUpdate,
  handBackUpdate,
  isCallableNumber,
  recordingReadySignal,
  SA_CUSTOMER_ID,
  stateQuery,
  streamStartedUpdate,
  TERMINAL_CALL_STATUSES,
  transcriptQuery,
  turnTimingSignal,
  utteranceUpdate,
  type CallInput,
  type CallResult,
  type DeskAgent,
  type DialCallStatus,
  type Dtmf,
  type RecordingRef,
  type StreamInfo,
  type TwilioCallStatus,
  type Utterance,
} from './definitions';

/** How long a line takes to say (the local voice speaks ≈ 320 ms a word). */
const speakingMs = (text: string): number => text.split(/\s+/).filter(Boolean).length * 350;

export async function callWorkflow(input: CallInput): Promise<CallResult> {
  const config = { ...DEFAULT_CALL_CONFIG, ...input.config };
  const { workflowId } = workflowInfo();
  const carried = input.carried;
  const runs = (carried?.runs ?? 0) + 1;
  const convo = new Conversation(carried);
  const desk = new DeskHandoff();
  const inbox = new TurnInbox(convo, carried?.lastTurnId, () => desk.holdsCall);
  let stream: StreamInfo | undefined = carried?.stream;
  let hangup: TwilioCallStatus | undefined;
  let recording: RecordingRef | undefined;
  let dialStatus: DialCallStatus | undefined;
  // Decided once per run, so a history recorded before either replays without it.
  const dataPlane = isPatched(PATCHES.dataPlane);
  const batched = dataPlane && isPatched(PATCHES.eventBatches);
  const outbox = new EventOutbox({ callSid: input.callSid, workflowId, enabled: dataPlane, batched, carried }); // prettier-ignore
  // A call back needs a number to call and an agents' queue to connect it to.
  const canCallBack = isCallableNumber(input.from) && config.agentQueueNumber !== undefined;
  const call: TurnContext = { callSid: input.callSid, workflowId, config, conversation: convo, outbox, stream: () => stream, canCallBack }; // prettier-ignore
  const ttsOutage = new TtsOutageNotice(convo);

  setHandler(streamStartedUpdate, async (info) => {
    stream = { ...stream, ...info };
    // Every synthesizer of the edge is out: the greeting waits to become the outage notice.
    ttsOutage.streamStarted(info, inbox.lastTurnId > 0);
    await condition(() => convo.replyFor(0) !== undefined && !ttsOutage.pending);
    return convo.replyFor(0)!;
  });
  setHandler(
    utteranceUpdate,
    (u) =>
      inbox.submit({
        kind: 'speech',
        turnId: u.turnId,
        text: u.text.trim(),
        confidence: u.confidence,
        ...(u.asr && { asr: u.asr }),
        ...(u.timings?.asrMs !== undefined && { asrMs: u.timings.asrMs }),
      }),
    { validator: (u: Utterance) => inbox.validateUtterance(u) },
  );
  setHandler(
    dtmfUpdate,
    (d) =>
      inbox.submit({
        kind: 'dtmf',
        turnId: d.turnId,
        digits: d.digits,
        ...(d.maskedLength && { maskedLength: d.maskedLength }),
      }),
    { validator: (d: Dtmf) => inbox.validateDtmf(d) },
  );
  setHandler(callStatusSignal, (status) => {
    if (TERMINAL_CALL_STATUSES.includes(status)) hangup ??= status;
  });
  setHandler(recordingReadySignal, (ref) => void (recording = ref));
  let handedOff: HandoffOutcome | undefined;
  setHandler(dialStatusSignal, async (status) => {
    // The first outcome after the hand-off stopped waiting is a late one.
    const late = handedOff !== undefined && dialStatus === undefined;
    dialStatus ??= status;
    if (late) await lateDialOutcome({ input, config, workflowId, stream: () => stream, hungUp: () => hangup !== undefined }, handedOff!, status); // prettier-ignore
  });
  setHandler(turnTimingSignal, (t) => outbox.noteTiming(t));
  setHandler(bargeInSignal, ({ turnId, heardMs }) => convo.interrupted(turnId, heardMs));
  setHandler(acceptHandoffUpdate, (who) => desk.accept(who), { validator: (who: DeskAgent) => desk.validateAccept(who) }); // prettier-ignore
  setHandler(handBackUpdate, () => desk.ask('hand_back'), { validator: (who: DeskAgent) => desk.validateHolder(who) }); // prettier-ignore
  setHandler(endCallUpdate, () => desk.ask('end'), { validator: (who: DeskAgent) => desk.validateHolder(who) }); // prettier-ignore
  setHandler(transcriptQuery, () => convo.transcript);
  setHandler(stateQuery, () => ({
    callSid: input.callSid,
    caller: input.from,
    summary: handoffSummary(convo.state),
    ...(desk.state && { handoff: desk.state }),
    state: convo.state,
    lastTurnId: inbox.lastTurnId,
    turns: convo.state.turns,
    lastReply: convo.lastReply(),
    ended: convo.ended,
    disposition: convo.state.disposition,
    runs,
    ...(stream && { stream }),
    ...(recording && { recording }),
  }));

  if (!carried) {
    let customer: Awaited<ReturnType<typeof identify.identifyCaller>>;
    let crmUnavailable = false;
    try {
      customer = await identify.identifyCaller(input.from);
    } catch (err) {
      // The CRM is away (after the activity's few quick retries: a caller is waiting).
      if (!isPatched(PATCHES.crmUnavailable)) throw err;
      log.warn('the CRM could not identify the caller; going on unidentified', { error: String(err) }); // prettier-ignore
      crmUnavailable = true;
    }
    if (customer) upsertSearchAttributes([{ key: SA_CUSTOMER_ID, value: customer.id }]);
    const greeted = step(convo.state, identifiedEvent(customer, crmUnavailable));
    convo.state = greeted.state;
    convo.speak(0, greeted.say ?? '', greeted.action, 'greeting');
  }

  // The conversation, and each time it ends in a transfer to the agent desk, the desk's turn:
  // an agent who hands the call back resumes the conversation.
  let agentTookIt = false;
  let onDesk = false;
  for (;;) {
    await converse();
    // The agent desk takes the transfer (before the patch, Twilio's path below ran).
    onDesk = convo.state.disposition === 'transferred' && config.handoffTarget === 'desk' && isPatched(PATCHES.deskHandoff); // prettier-ignore
    if (!onDesk) break;
    const outcome = await desk.run({ callSid: input.callSid, conversation: convo, answerTimeoutMs: config.deskAnswerTimeoutMs ?? DEFAULT_DESK_ANSWER_TIMEOUT_MS, remindEveryMs: config.deskHoldReminderMs ?? DEFAULT_DESK_HOLD_REMINDER_MS, stream: () => stream, hungUp: () => hangup !== undefined, canCallBack, lastTurnId: () => inbox.lastTurnId }); // prettier-ignore
    log.info('desk hand-off', { outcome, agent: desk.handledBy });
    if (outcome !== 'handed_back') {
      agentTookIt = desk.state?.acceptedAt !== undefined;
      if (outcome === 'missed') await scheduleCallback({ input, config, workflowId }, 'desk_no_answer'); // prettier-ignore
      break;
    }
    convo.resume();
  }
  // A transfer hands the live call to the agents' queue (before the patch the call ended).
  if (!onDesk && convo.state.disposition === 'transferred' && isPatched(PATCHES.telephonyHandoff)) {
    const sayingMs = stream?.streamSid ? speakingMs(convo.lastAgentLine()) : 0;
    const outcome = await handOff({ input, config, workflowId, sayingMs, stream: () => stream, dialStatus: () => dialStatus, hungUp: () => hangup !== undefined }); // prettier-ignore
    log.info('hand-off', { outcome, dialStatus });
    handedOff = outcome;
    agentTookIt = outcome === 'connected';
  }
  // A call back the caller was promised is scheduled once the call is over (before the
  // patch it was only recorded); an agent who took the call makes it moot.
  const { callbackRequested, callbackReason } = convo.state;
  if (callbackRequested && !agentTookIt && isPatched(PATCHES.callbackOnRequest))
    await scheduleCallback({ input, config, workflowId }, callbackReason ?? 'account_unavailable');
  return finishCall({ input, config, workflowId, conversation: convo, outbox, stream: () => stream, recording: () => recording, handledBy: () => desk.handledBy }); // prettier-ignore

  /** The conversation with the AI, turn by turn, until it ends (a goodbye, a transfer, a hang-up). */
  async function converse(): Promise<void> {
    while (!convo.ended) {
      // Silence counts from the end of what the agent is saying, not from when it was sent:
      // on an audio call a long reply would otherwise be re-prompted over.
      const lastSaid = convo.lastAgentLine();
      if (stream?.streamSid) deprecated(DEPRECATED_PATCHES.noInputAfterPlayback);
      const speaking = stream?.streamSid ? speakingMs(lastSaid) : 0;
      // Before the stream, nothing has been said yet: its start begins the wait again.
      const beforeStream = !stream?.streamSid && isPatched(PATCHES.silenceFromStream);
      const heard = await condition(
        () =>
          inbox.queue.length > 0 ||
          hangup !== undefined ||
          ttsOutage.pending ||
          (beforeStream && stream?.streamSid !== undefined),
        config.noInputTimeoutMs + speaking,
      );
      if (hangup) {
        convo.state = step(convo.state, { kind: 'hangup', answered: hangup === 'completed' }).state;
        break;
      }
      if (ttsOutage.pending) {
        ttsOutage.tell(canCallBack);
        break;
      }
      if (!heard) {
        await noInput();
        continue;
      }
      if (inbox.queue.length === 0) continue; // the stream started: wait again from the greeting
      await runTurn(call, inbox, inbox.queue.shift()!);

      if (workflowInfo().continueAsNewSuggested && !convo.ended) {
        await outbox.hold((done) => condition(done, '5s'));
        // Let in-flight update handlers return their replies before this run closes.
        await condition(() => allHandlersFinished() || inbox.queue.length > 0 || hangup !== undefined); // prettier-ignore
        if (inbox.queue.length === 0 && hangup === undefined) {
          await continueAsNew<typeof callWorkflow>({
            ...input,
            carried: {
              ...convo.carried(),
              lastTurnId: inbox.lastTurnId,
              runs,
              ...(stream && { stream }),
              ...outbox.carried(),
            },
          });
        }
      }
    }
  }

  /** Silence: a re-prompt the first time, the call's end the second. */
  async function noInput(): Promise<void> {
    const s = step(convo.state, { kind: 'no_input' });
    convo.state = s.state;
    const reply = convo.speak(inbox.lastTurnId, s.say ?? '', s.action, convo.ended ? 'end' : 'no_input'); // prettier-ignore
    outbox.flush(convo.transcript, !!stream?.streamSid);
    // Nobody asked for this line, so no update carries it back: the edge host that holds
    // the call is told to say it (and to hang up after the last one).
    if (stream?.edgeTaskQueue && isPatched(PATCHES.edgeSpeaksUnprompted)) {
      await edgeHost(stream.edgeTaskQueue)
        .speakOnCall({
          callSid: input.callSid,
          text: reply.text,
          hangUpAfter: convo.ended,
          reprompt: true,
        })
        .catch((err) => log.warn('the edge could not speak the prompt', { error: String(err) }));
    }
  }
}
