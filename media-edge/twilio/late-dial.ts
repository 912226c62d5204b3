// A missed dial outcome (no-answer, busy, failed) that finds no call workflow to take it: the
// transfer outlasted the workflow, which ended. The edge's TwiML has just told the caller they
// will be called back, so the edge starts that callback itself, under the id the call
// workflow would have used (`callback-<CallSid>`, never reused): Twilio's retries of the
// webhook, and a callback the call had scheduled already, make one.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  CALL_TASK_QUEUE,
  callbackInput,
  callbackWorkflowId,
  callWorkflowId,
  isCallableNumber,
  type DialCallStatus,
} from '../../contracts/call';
import type { EdgeConfig } from '../config';

export type LateCallback = 'started' | 'already_scheduled' | 'not_callable' | 'no_queue';

export async function startLateCallback(
  client: Client,
  config: EdgeConfig['call'],
  call: { callSid: string; from: string; to: string },
  status: DialCallStatus,
): Promise<LateCallback> {
  if (!isCallableNumber(call.from)) return 'not_callable';
  if (!config.agentQueueNumber) return 'no_queue';
  const reason = `dial_${status}`;
  const input = callbackInput(call, callWorkflowId(call.callSid), config.agentQueueNumber, config.callbackDelayMs, reason); // prettier-ignore
  try {
    await client.workflow.start('callbackWorkflow', {
      taskQueue: CALL_TASK_QUEUE,
      workflowId: callbackWorkflowId(call.callSid),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [input],
    });
    return 'started';
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err; // 500: Twilio retries
    return 'already_scheduled';
  }
}
