// The end of a call: the disposition in search attributes, the recording awaited (bounded),
// the CRM call log once, the remaining events and the post-call workflow, which outlives
// this one. Each step repeats nothing on a retry: the call log's idempotency key, the event
// ids and the child's workflow id are deterministic. The call's personal TTS cache entries
// are removed by the post-call workflow's first step.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  ParentClosePolicy,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { records } from '../activity-proxies';
import {
  SA_DISPOSITION,
  SA_TURN_COUNT,
  type CallConfig,
  type CallInput,
  type CallResult,
  type RecordingRef,
  type StreamInfo,
} from '../definitions';
import {
  POST_CALL_TASK_QUEUE,
  POST_CALL_WORKFLOW_TYPE,
  postCallWorkflowId,
  type PostCallInput,
} from '../post-call-definitions';
import type { Conversation } from './conversation';
import type { EventOutbox } from './event-outbox';
import { isPatched, PATCHES } from './versions';

export interface EndingCall {
  input: CallInput;
  config: CallConfig;
  workflowId: string;
  conversation: Conversation;
  outbox: EventOutbox;
  stream(): StreamInfo | undefined;
  /** Read after the wait: the edge's recordingReady signal sets it. */
  recording(): RecordingRef | undefined;
}

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
      ...(logged && { recordingKey: logged.key }),
    },
  });
  // A recording that arrived while the call log was written still goes to the events.
  const recording = call.recording();
  if (outbox.enabled) {
    const streaming = !!call.stream()?.streamSid;
    outbox.close(convo.transcript, streaming, {
      state,
      disposition,
      durationMs,
      callLogId: callLog.id,
      ...(recording && { recording }),
    });
    const refusedAnswers = convo.transcript.filter((e) => e.answer?.refused).length;
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
        } satisfies PostCallInput,
      ],
    });
    // Nothing is lost: the call closes once the broker has every event.
    await outbox.drained();
  }
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
    ...(call.recording() && { recording: call.recording() }),
  };
}
