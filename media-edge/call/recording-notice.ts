// Where a recording that reached the object store goes: to its call workflow (the
// recordingReady signal), or — the workflow closed before the upload landed, e.g. the store
// was away for longer than the call's recording wait — to a workflow of its own,
// `recording-<CallSid>` on the post-call queue (workflows/recording.ts), which puts the key on
// the CRM call log and has the recording analysed. Its id is never reused: a second upload of
// the same recording (an edge restart, a retry) starts nothing.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { CALL_TASK_QUEUE, type RecordingRef } from '../../contracts/call';
import {
  POST_CALL_TASK_QUEUE,
  RECORDING_WORKFLOW_TYPE,
  recordingWorkflowId,
  type LateRecordingInput,
} from '../../contracts/post-call';
import { CallBridge } from './bridge';

export type RecordingNotice = 'call_told' | 'late_started' | 'late_already_started';

/** Tells whoever takes the recording; throws (to be retried) only when Temporal is away. */
export async function noticeRecording(
  client: Client,
  callSid: string,
  ref: RecordingRef,
): Promise<RecordingNotice> {
  try {
    await new CallBridge(client, callSid).recordingReady(ref);
    return 'call_told';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const input: LateRecordingInput = {
    callSid,
    recordingKey: ref.key,
    crmTaskQueue: CALL_TASK_QUEUE,
  };
  try {
    await client.workflow.start(RECORDING_WORKFLOW_TYPE, {
      taskQueue: POST_CALL_TASK_QUEUE,
      workflowId: recordingWorkflowId(callSid),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [input],
    });
    return 'late_started';
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return 'late_already_started';
  }
}
