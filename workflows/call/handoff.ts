// The hand-off to a human once a turn ends in 'transfer': Twilio is asked (once, under the
// call's idempotency key) to replace the live call's TwiML with a <Dial> to the agents'
// queue, and the edge's <Dial action> webhook reports how the dial ended. A warm transfer
// holds the caller in a conference instead and calls the agent into it; the edge briefs the
// agent with `handoffSummary` (from the call's state query) while the caller holds. The agent
// leg's status callback reports how that ended. Nobody took it
// (no-answer, busy, failed) or the transfer itself failed: the caller is told and a
// callback is scheduled — never silence, never a hang-up without a word.
import { condition, log, ParentClosePolicy, startChild } from '@temporalio/workflow';
import { edgeHost, handoff } from '../activity-proxies';
import { isPatched, PATCHES } from './versions';
import {
  callbackInput,
  callbackWorkflowId,
  isCallableNumber,
  MISSED_DIAL_STATUSES,
  noAgentLine,
  type CallConfig,
  type CallInput,
  type CallState,
  type DialCallStatus,
  type StreamInfo,
} from '../definitions';

/** After the ring bound, how long the dial's outcome may take to arrive. */
const DIAL_REPORT_GRACE_MS = 30_000;

export interface HandoffCall {
  input: CallInput;
  config: CallConfig;
  workflowId: string;
  stream(): StreamInfo | undefined;
  /** The dial's outcome, from the dialStatus signal. */
  dialStatus(): DialCallStatus | undefined;
  hungUp(): boolean;
  /** How long the edge takes to finish saying the transfer line. */
  sayingMs: number;
}

export type HandoffOutcome = 'not_configured' | 'connected' | 'callback' | 'caller_left';

export async function handOff(call: HandoffCall): Promise<HandoffOutcome> {
  const { config, input, workflowId } = call;
  const queue = config.agentQueueNumber;
  if (!queue || !config.dialStatusUrl) return 'not_configured';
  // The edge is saying "Connecting you to an agent…": a redirect now would cut it off.
  if (call.sayingMs > 0) await condition(() => call.hungUp(), call.sayingMs);
  if (call.hungUp()) return 'caller_left';
  const warm = config.transferMode === 'warm' && config.agentStatusUrl !== undefined;
  try {
    if (warm) {
      await handoff.warmTransfer({
        callSid: input.callSid,
        idempotencyKey: `${workflowId}:transfer`,
        to: queue,
        from: input.to,
        conference: `handoff-${input.callSid}`,
        ringTimeoutInS: config.transferRingTimeoutInS,
        agentStatusUrl: `${config.agentStatusUrl}?callSid=${input.callSid}`,
      });
    } else {
      await handoff.transferCall({
        callSid: input.callSid,
        idempotencyKey: `${workflowId}:transfer`,
        to: queue,
        ringTimeoutInS: config.transferRingTimeoutInS,
        statusUrl: config.dialStatusUrl,
      });
    }
  } catch (err) {
    log.warn('the transfer failed; the caller is told and called back', { error: String(err) });
    await (warm ? tellCallerByTwilio(call) : tellCaller(call));
    await scheduleCallback(call, 'transfer_failed');
    return 'callback';
  }
  const ringMs = config.transferRingTimeoutInS * 1000;
  await condition(() => call.dialStatus() !== undefined || call.hungUp(), ringMs + DIAL_REPORT_GRACE_MS); // prettier-ignore
  const status = call.dialStatus();
  if (status && MISSED_DIAL_STATUSES.includes(status)) {
    // Cold: the edge's webhook already told the caller (its TwiML) before hanging up. Warm:
    // the caller is waiting in the conference, so Twilio is asked to tell them.
    if (warm) await tellCallerByTwilio(call);
    await scheduleCallback(call, `dial_${status}`);
    return 'callback';
  }
  // canceled: the caller hung up while it rang. No outcome by the bound: an agent is talking.
  if (status === 'canceled' || (!status && call.hungUp())) return 'caller_left';
  return 'connected';
}

/**
 * A dial outcome that came after handOff stopped waiting, while the call still finishes (its
 * recording, its call log). Missed: the caller heard "we will call you back" from the edge's
 * TwiML, so the callback is scheduled (once: its workflow id is the call's). Answered: noted.
 * A call that already owes a callback from its hand-off has it.
 */
export async function lateDialOutcome(
  call: LateDialCall,
  outcome: HandoffOutcome,
  status: DialCallStatus,
): Promise<void> {
  if (outcome === 'callback' || outcome === 'not_configured') return;
  if (!isPatched(PATCHES.lateDialOutcome)) return;
  if (!MISSED_DIAL_STATUSES.includes(status)) {
    log.info('a late dial outcome: no callback', { dialStatus: status, outcome });
    return;
  }
  log.warn('a missed dial outcome after the hand-off stopped waiting: calling back', { dialStatus: status }); // prettier-ignore
  // Warm: the caller may still hold in the conference, and only Twilio can tell them.
  if (call.config.transferMode === 'warm' && call.config.agentStatusUrl !== undefined)
    await tellCallerByTwilio(call);
  await scheduleCallback(call, `dial_${status}`);
}

type LateDialCall = Pick<HandoffCall, 'input' | 'config' | 'workflowId' | 'stream' | 'hungUp'>;

/** The edge still holds the call (the transfer never replaced its TwiML): it says why, then hangs up. */
async function tellCaller(call: LateDialCall): Promise<void> {
  const queue = call.stream()?.edgeTaskQueue;
  if (!queue || call.hungUp()) return;
  await edgeHost(queue)
    .speakOnCall({
      callSid: call.input.callSid,
      text: noAgentLine(call.input.from),
      hangUpAfter: true,
    })
    .catch((err) => log.warn('the edge could not tell the caller', { error: String(err) }));
}

/**
 * The warm transfer's hold may have moved the caller off the edge: Twilio says the line and
 * hangs up; if even that fails, the edge (if it still holds the call) says it.
 */
async function tellCallerByTwilio(call: LateDialCall): Promise<void> {
  if (call.hungUp()) return;
  try {
    await handoff.sayAndHangUp({
      callSid: call.input.callSid,
      text: noAgentLine(call.input.from),
      idempotencyKey: `${call.workflowId}:no-agent`,
    });
  } catch (err) {
    log.warn('Twilio could not tell the caller', { error: String(err) });
    await tellCaller(call);
  }
}

/** What the agent hears before joining: who calls and what they asked, never what they said. */
export function handoffSummary(state: CallState): string {
  const who = state.customer ? `${state.customer.name} is calling` : 'An unidentified caller';
  const asked = [...new Set(state.intentPath)].map((i) => i.replace(/_/g, ' '));
  return `${who}. ${asked.length ? `They asked about: ${asked.join(', ')}.` : ''}`.trim();
}

/**
 * Every call back a call owes (a missed hand-off, an accepted offer, an answer that could not
 * be given) starts here. At most once per call: the callback's workflow id is the call's.
 */
export async function scheduleCallback(
  call: Pick<HandoffCall, 'input' | 'config' | 'workflowId'>,
  reason: string,
): Promise<void> {
  const { input, config } = call;
  if (!isCallableNumber(input.from)) {
    log.warn('no callback: the caller has no callable number', { reason });
    return;
  }
  if (!config.agentQueueNumber) {
    log.warn("no callback: no agents' queue is configured to connect it to", { reason });
    return;
  }
  const args = callbackInput(input, call.workflowId, config.agentQueueNumber, config.callbackDelayMs, reason); // prettier-ignore
  try {
    await startChild('callbackWorkflow', {
      workflowId: callbackWorkflowId(input.callSid),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [args],
    });
  } catch (err) {
    // By name: workflows/ may not import the error's class from @temporalio/common.
    if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
    log.info('the callback was scheduled already');
  }
}
