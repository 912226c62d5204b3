// A missed dial outcome (no-answer, busy, failed) that finds no call workflow to take it: the
// transfer outlasted the workflow, which ended. The edge's TwiML has just told the caller they
// will be called back, so the edge starts that callback itself, under the id the call
// workflow would have used (`callback-<CallSid>`, never reused): Twilio's retries of the
// webhook, and a callback the call had scheduled already, make one. A warm transfer's agent
// leg reports no caller number: it is read from the call workflow's start (its input).
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import {
  CALL_TASK_QUEUE,
  callbackInput,
  callbackWorkflowId,
  callWorkflowId,
  isCallableNumber,
  type CallInput,
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

/** The call's parties as its workflow was started with them (the last run's input). */
export async function callParties(
  client: Client,
  callSid: string,
): Promise<{ callSid: string; from: string; to: string } | undefined> {
  const history = await client.workflow.getHandle(callWorkflowId(callSid)).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started?.input?.payloads?.length) return undefined;
  const input = await decodeFromPayloadsAtIndex<CallInput>(
    client.options.loadedDataConverter,
    0,
    started.input.payloads,
  );
  return { callSid, from: input.from, to: input.to };
}
