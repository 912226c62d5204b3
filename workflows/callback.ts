// callbackWorkflow: a caller no human could take is called back, once per call (its
// workflow id is `callback-<callSid>`). A text says the call is coming; a durable timer
// waits the configured delay (a worker restart does not lose or repeat it); then Twilio
// places the call, which connects the caller to the agents' queue when answered. Both
// requests carry keys derived from the call's workflow id: retries make one of each.
import { log, sleep } from '@temporalio/workflow';
import { callbacks } from './activity-proxies';
import type { CallbackInput } from './definitions';

/** The text's first sentence, by why the call back is owed; a missed hand-off by default. */
const OPENERS: Record<string, string> = {
  account_unavailable: 'Sorry we could not reach your account during your call.',
  no_grounded_answer: 'Sorry we could not answer your question during your call.',
  no_retrieval: 'Sorry we could not answer your question during your call.',
  tts_outage: 'Sorry our voice system could not take your call.',
};

export interface CallbackResult {
  callbackSid: string;
  smsSent: boolean;
}

export async function callbackWorkflow(input: CallbackInput): Promise<CallbackResult> {
  const minutes = Math.max(1, Math.round(input.delayMs / 60_000));
  let smsSent = false;
  try {
    await callbacks.sendSms({
      to: input.to,
      from: input.from,
      body: `${OPENERS[input.reason] ?? 'Sorry we missed you.'} An agent will call you back from this number in about ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      idempotencyKey: `${input.callWorkflowId}:sms:1`,
    });
    smsSent = true;
  } catch (err) {
    // The text is a courtesy: the callback goes ahead without it.
    log.warn('the callback text was not sent', { error: String(err) });
  }
  await sleep(input.delayMs);
  const call = await callbacks.placeCallback({
    to: input.to,
    from: input.from,
    say: 'Hello, this is the call back you were promised. Connecting you to an agent now.',
    connectTo: input.connectTo,
    idempotencyKey: `${input.callWorkflowId}:callback`,
  });
  return { callbackSid: call.sid, smsSent };
}
