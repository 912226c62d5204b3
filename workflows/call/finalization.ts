// The end of a call: the disposition in search attributes, the recording awaited (bounded),
// the CRM call log once, the remaining events and the post-call workflow, which outlives
// this one. The call never fails for its call log: with the CRM away after a few tries the
// log is queued in the post-call workflow (CallLogPending), and a log the CRM refuses for
// good is flagged (NeedsReview) instead of retried. Each step repeats nothing on a retry:
// the call log's idempotency key, the event ids and the child's workflow id are deterministic. The call's personal TTS cache entries
// are removed by the post-call workflow's first step. Lines the caller was promised by text
// (the edge played the apology instead) go to the post-call workflow, which sends them.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  ParentClosePolicy,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { callLogTries, records } from '../activity-proxies';
import { failedForGood, failureType } from '../failures';
import {
  SA_CALL_LOG_PENDING,
  SA_DISPOSITION,
  SA_TURN_COUNT,
  type CallConfig,
  type CallInput,
  type CallResult,
  type RecordingRef,
  type StreamInfo,
  type TranscriptEntry,
} from '../definitions';
import {
  POST_CALL_TASK_QUEUE,
  POST_CALL_WORKFLOW_TYPE,
  postCallWorkflowId,
  type OwedTexts,
  type PendingCallLog,
  type PostCallInput,
} from '../post-call-definitions';
import type { Conversation } from './conversation';
import type { EventOutbox } from './event-outbox';
import { isPatched, PATCHES } from './versions';
import { reviewFor } from '../review';

export interface EndingCall {
  input: CallInput;
  config: CallConfig;
  workflowId: string;
  conversation: Conversation;
  outbox: EventOutbox;
  stream(): StreamInfo | undefined;
  /** Read after the wait: the edge's recordingReady signal sets it. */
  recording(): RecordingRef | undefined;
  /** The desk agent who had the call last, if one did. */
  handledBy?(): string | undefined;
}

/** How the call's own tries at its call log ended. */
type CallLogOutcome = { id: string } | { pending: true } | { refused: string };

export async function finishCall(call: EndingCall): Promise<CallResult> {
  const { input, workflowId, conversation: convo, outbox } = call;
  const state = convo.state;
  const disposition = state.disposition ?? 'caller_hung_up';
  upsertSearchAttributes([
    { key: SA_DISPOSITION, value: disposition },
    { key: SA_TURN_COUNT, value: state.turns },
  ]);
  const durationMs = new Date().getTime() - workflowInfo().startTime.getTime();
  // An audio call's recording is uploaded by the edge when the stream closes; the call log
  // carries its key, so wait for it a bounded time (a lost edge must not hold the call open).
  if (call.stream()?.streamSid && isPatched(PATCHES.awaitRecording)) {
    await condition(() => call.recording() !== undefined, call.config.recordingWaitMs);
  }
  const logged = call.recording();
  const customerId = state.customer?.id;
  const handledBy = call.handledBy?.();
  const request: Omit<PendingCallLog, 'taskQueue'> = {
    idempotencyKey: `${workflowId}:call-log`,
    log: {
      callSid: input.callSid,
      ...(customerId && { customerId }),
      callerNumber: input.from,
      intentPath: state.intentPath,
      disposition,
      turns: state.turns,
      durationMs,
      ...(logged && { recordingKey: logged.key }),
      ...(handledBy && { handledBy }),
    },
  };
  // The queue for a pending log is the post-call workflow, started below with the data plane.
  const queueable = outbox.enabled && isPatched(PATCHES.callLogQueued);
  const callLog: CallLogOutcome = queueable
    ? await tryCallLog(request)
    : await records.writeCallLog(request);
  const callLogId = 'id' in callLog ? callLog.id : undefined;
  // A recording that arrived while the call log was written still goes to the events.
  const recording = call.recording();
  if (outbox.enabled) {
    const streaming = !!call.stream()?.streamSid;
    outbox.close(convo.transcript, streaming, {
      state,
      disposition,
      durationMs,
      ...(callLogId && { callLogId }),
      ...('pending' in callLog && { callLog: { status: 'pending' } }),
      ...('refused' in callLog && { callLog: { status: 'refused', reason: callLog.refused } }),
      ...(recording && { recording }),
    });
    const refusedAnswers = convo.transcript.filter((e) => e.answer?.refused).length;
    // Asked only when a text is owed: calls without one keep their history unchanged.
    const owedTexts =
      outbox.owedTexts.size && isPatched(PATCHES.owedTexts)
        ? owed(input, outbox.owedTexts, convo.transcript)
        : undefined;
    await startChild(POST_CALL_WORKFLOW_TYPE, {
      workflowId: postCallWorkflowId(input.callSid),
      taskQueue: POST_CALL_TASK_QUEUE,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [
        {
          callSid: input.callSid,
          callWorkflowId: workflowId,
          ...(recording && { recordingKey: recording.key }),
          ...(customerId && { customerId }),
          disposition,
          intents: state.intentPath,
          turns: state.turns,
          durationMs,
          fallbacks: [...outbox.fallbacksUsed.values()].map((f) => `${f.stage}:${f.provider}`),
          lowConfidenceTurns: outbox.lowConfidenceTurns,
          transferred: disposition === 'transferred',
          ...(refusedAnswers && { refusedAnswers }),
          ...(state.callbackRequested && { callbackRequested: true }),
          ...('pending' in callLog && {
            pendingCallLog: { taskQueue: workflowInfo().taskQueue, ...request },
          }),
          ...(owedTexts && { owedTexts }),
        } satisfies PostCallInput,
      ],
    });
    // Nothing is lost: the call closes once the broker has every event.
    await outbox.drained();
  }
  // Turns still waiting get the call's end as their reply.
  await condition(allHandlersFinished);
  if (!queueable && !callLogId) throw ApplicationFailure.nonRetryable('call log was not written');
  return {
    callSid: input.callSid,
    disposition,
    turns: state.turns,
    intentPath: state.intentPath,
    durationMs,
    ...(callLogId && { callLogId }),
    ...('pending' in callLog && { callLogPending: true }),
    ...('refused' in callLog && { needsReview: 'call_log_refused' }),
    ...(state.callbackRequested && { callbackRequested: true }),
    ...(call.recording() && { recording: call.recording() }),
    ...(handledBy && { handledBy }),
  };
}

/**
 * The call log, tried a few times: the CRM away after those → queued (CallLogPending); a
 * refusal for good (bad input such as an unknown customer) → flagged (NeedsReview).
 */
async function tryCallLog(request: Omit<PendingCallLog, 'taskQueue'>): Promise<CallLogOutcome> {
  try {
    return { id: (await callLogTries.writeCallLog(request)).id };
  } catch (err) {
    if (failedForGood(err)) {
      const refused = failureType(err)!;
      log.error('the CRM refused the call log: flagged for review', { refused, error: String(err) }); // prettier-ignore
      upsertSearchAttributes([reviewFor('call_log_refused')]);
      return { refused };
    }
    log.warn('the CRM is away: the call log is queued in the post-call workflow', { error: String(err) }); // prettier-ignore
    upsertSearchAttributes([{ key: SA_CALL_LOG_PENDING, value: true }]);
    return { pending: true };
  }
}

/** The agent's line of each turn the apology replaced (its last line in the turn). */
function owed(input: CallInput, turns: Set<number>, transcript: TranscriptEntry[]): OwedTexts {
  const lines = [...turns]
    .sort((a, b) => a - b)
    .flatMap((turnId) => {
      const text = transcript.findLast((e) => e.speaker === 'agent' && e.turnId === turnId)?.text;
      return text ? [{ turnId, text }] : [];
    });
  return { taskQueue: workflowInfo().taskQueue, to: input.from, from: input.to, lines };
}
