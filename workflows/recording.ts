// recordingWorkflow (`recording-<CallSid>`): a recording that reached the object store after
// its call workflow closed (the store was away at hang-up; the edge kept the WAV on disk and
// uploaded it later). Started by the edge once the upload landed and the call workflow no
// longer took the recordingReady signal; its id is never reused, so a second upload or an edge
// restart starts nothing. It puts the key on the call's CRM log (retried until the log exists:
// a log still queued in the post-call workflow gets it once written), then runs the post-call
// analysis on the recording as a child (`postcall-<CallSid>-recording`): both channels
// transcribed, a summary, QA flags and its own call.analyzed, once. The analysis starts from
// the call log's facts (disposition, intents, turns, duration, customer); the first post-call
// workflow had run without a recording.
import { executeChild, log, upsertSearchAttributes } from '@temporalio/workflow';
import { callWorkflowId } from './definitions';
import {
  lateAnalysisWorkflowId,
  POST_CALL_TASK_QUEUE,
  POST_CALL_WORKFLOW_TYPE,
  type AttachedCallLog,
  type LateRecordingInput,
  type LateRecordingResult,
  type PostCallInput,
  type PostCallResult,
} from './post-call-definitions';
import { lateRecordingCrm } from './activity-proxies';
import { failureType } from './failures';
import { reviewFor } from './review';

export async function recordingWorkflow(input: LateRecordingInput): Promise<LateRecordingResult> {
  const { callSid, recordingKey } = input;
  let attached: AttachedCallLog | undefined;
  let notAttached: string | undefined;
  try {
    attached = await lateRecordingCrm(input.crmTaskQueue).attachRecording({ callSid, recordingKey }); // prettier-ignore
    log.info('the late recording is on the call log', { callLogId: attached.callLogId, changed: attached.changed }); // prettier-ignore
  } catch (err) {
    // A log naming another recording, or no log at all within the retries' bound.
    notAttached = failureType(err) ?? 'no_call_log';
    log.error('the late recording could not be put on a call log: flagged for review', { notAttached, error: String(err) }); // prettier-ignore
    upsertSearchAttributes([reviewFor('recording_not_attached')]);
  }
  const disposition = attached?.disposition ?? 'unknown';
  const analysis = await executeChild<(i: PostCallInput) => Promise<PostCallResult>>(
    POST_CALL_WORKFLOW_TYPE,
    {
      workflowId: lateAnalysisWorkflowId(callSid),
      taskQueue: POST_CALL_TASK_QUEUE,
      args: [
        {
          callSid,
          callWorkflowId: callWorkflowId(callSid),
          recordingKey,
          ...(attached?.customerId && { customerId: attached.customerId }),
          disposition,
          intents: attached?.intents ?? [],
          turns: attached?.turns ?? 0,
          durationMs: attached?.durationMs ?? 0,
          // Not in the call log: the first analysis flagged them.
          fallbacks: [],
          lowConfidenceTurns: 0,
          transferred: disposition === 'transferred',
        },
      ],
    },
  );
  return {
    callSid,
    callLog: attached ? { id: attached.callLogId } : { notAttached: notAttached! },
    analysis,
  };
}
