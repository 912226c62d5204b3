// The hand-off to the agent desk on a real Temporal dev server with the call worker (CRM and
// payments on the test database): a transfer waits for an agent; an agent accepts (one of
// two at once wins), the AI stops answering while the transcript grows, the agent hands the
// call back or ends it; nobody within the bound → a callback; the caller may leave meanwhile.
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  acceptHandoffUpdate,
  callbackWorkflowId,
  callStatusSignal,
  endCallUpdate,
  handBackUpdate,
  SA_HUMAN_HANDOFF,
  stateQuery,
  transcriptQuery,
  type CallConfig,
} from '../../contracts/call';
import { PROMPTS } from '../../workflows/call-state';
import { BACK_WITH_ASSISTANT } from '../../workflows/call/desk-handoff';
import { ADA, callWorker, postCallWorker, startCall } from '../../testing/calls';
import { localEnv, resetDb, testDb } from '../../testing/platform';

const DESK: Partial<CallConfig> = {
  handoffTarget: 'desk',
  deskAnswerTimeoutMs: 60_000,
  agentQueueNumber: '+15550002222',
  // The callback of a missed hand-off sleeps this long: the test only sees it scheduled.
  callbackDelayMs: 10 * 60_000,
};

describe('hand-off to the agent desk', function () {
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];

  before(async () => {
    env = await localEnv();
    await resetDb();
    workers = [await callWorker(env), await postCallWorker(env)];
    running = workers.map((w) => w.run());
  });
  after(async () => {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
  });

  async function waitingCall(config: Partial<CallConfig> = DESK) {
    const call = await startCall(env.client, { config, from: ADA });
    await call.bridge.streamStarted();
    const reply = await call.bridge.utterance('I want to talk to an agent');
    assert.equal(reply.action, 'transfer');
    await until(async () => (await call.handle.query(stateQuery)).handoff?.status === 'waiting');
    return call;
  }

  const accept = (handle: WorkflowHandle, agent: string) =>
    handle.executeUpdate(acceptHandoffUpdate, { args: [{ agent }] });

  it('waits for an agent: the search attribute says so and the state holds the summary', async () => {
    const { handle } = await waitingCall();
    const state = await handle.query(stateQuery);
    assert.equal(state.handoff?.status, 'waiting');
    assert.ok(state.handoff.waitingSince > 0);
    assert.match(state.summary ?? '', /Ada .*is calling\. They asked about: talk to agent\./);
    const sa = (await handle.describe()).typedSearchAttributes;
    assert.equal(sa.get(SA_HUMAN_HANDOFF), 'waiting');
    await handle.signal(callStatusSignal, 'completed');
    await handle.result();
  });

  it('accepted: the AI is silent while the transcript grows; handed back, it answers again', async () => {
    const { handle, bridge } = await waitingCall();
    const taken = await accept(handle, 'alice');
    assert.equal(taken.status, 'with_human');
    assert.equal(taken.agent, 'alice');
    assert.equal((await handle.describe()).typedSearchAttributes.get(SA_HUMAN_HANDOFF), 'with_human'); // prettier-ignore

    const silent = await bridge.utterance('what is my balance');
    assert.deepEqual(
      { text: silent.text, action: silent.action },
      { text: '', action: 'continue' },
    );
    const lines = await handle.query(transcriptQuery);
    const last = lines[lines.length - 1]!;
    assert.deepEqual({ speaker: last.speaker, text: last.text }, { speaker: 'caller', text: 'what is my balance' }); // prettier-ignore

    // Someone else cannot hand it back.
    await refused(handle.executeUpdate(handBackUpdate, { args: [{ agent: 'bob' }] }), /the call is with alice/); // prettier-ignore
    const back = await handle.executeUpdate(handBackUpdate, { args: [{ agent: 'alice' }] });
    assert.equal(back.agent, 'alice');
    await until(async () => (await handle.query(stateQuery)).handoff?.status === 'handed_back');
    const afterBack = await handle.query(transcriptQuery);
    assert.equal(afterBack[afterBack.length - 1]!.text, BACK_WITH_ASSISTANT);

    const answered = await bridge.utterance('what is my balance');
    assert.match(answered.text, /balance/i);
    assert.equal(answered.action, 'continue');
    const bye = await bridge.utterance('goodbye');
    assert.equal(bye.action, 'hangup');
    const result = await handle.result();
    assert.equal(result.disposition, 'resolved');
    assert.equal(await handledBy(result.callSid), 'alice');
  });

  it('handed back, a no to its "anything else?" says goodbye and ends the call, resolved', async () => {
    const { handle, bridge } = await waitingCall();
    await accept(handle, 'alice');
    await handle.executeUpdate(handBackUpdate, { args: [{ agent: 'alice' }] });
    await until(async () => (await handle.query(stateQuery)).handoff?.status === 'handed_back');
    const no = await bridge.utterance('no');
    assert.deepEqual({ text: no.text, action: no.action }, { text: PROMPTS.goodbye, action: 'hangup' }); // prettier-ignore
    assert.equal((await handle.result()).disposition, 'resolved');
  });

  it('the agent ends the call: the goodbye, then the call ends once with its call log', async () => {
    const { handle, bridge } = await waitingCall();
    await accept(handle, 'alice');
    await bridge.utterance('thanks for your help');
    await refused(handle.executeUpdate(endCallUpdate, { args: [{ agent: 'bob' }] }), /the call is with alice/); // prettier-ignore
    await handle.executeUpdate(endCallUpdate, { args: [{ agent: 'alice' }] });
    const result = await handle.result();
    assert.equal(result.disposition, 'transferred');
    const lines = await handle.query(transcriptQuery);
    assert.equal(lines[lines.length - 1]!.text, 'Thank you for calling. Goodbye.');
    assert.ok(lines.some((l) => l.speaker === 'caller' && l.text === 'thanks for your help'));
    assert.equal((await handle.describe()).typedSearchAttributes.get(SA_HUMAN_HANDOFF), 'ended');
    assert.equal(await handledBy(result.callSid), 'alice');
    const db = await testDb();
    const { rows } = await db.query('SELECT count(*)::int AS n FROM call_logs WHERE call_sid = $1', [result.callSid]); // prettier-ignore
    assert.equal(rows[0].n, 1);
  });

  it('handed back and transferred again: the call waits on the desk again; the log names the last agent', async () => {
    const { handle, bridge } = await waitingCall();
    await accept(handle, 'alice');
    await handle.executeUpdate(handBackUpdate, { args: [{ agent: 'alice' }] });
    await until(async () => (await handle.query(stateQuery)).handoff?.status === 'handed_back');
    assert.equal((await bridge.utterance('I want to talk to an agent')).action, 'transfer');
    await until(async () => (await handle.query(stateQuery)).handoff?.status === 'waiting');
    assert.equal((await handle.query(stateQuery)).handoff?.agent, undefined);
    await accept(handle, 'bob');
    await handle.executeUpdate(endCallUpdate, { args: [{ agent: 'bob' }] });
    const result = await handle.result();
    assert.equal(result.handledBy, 'bob');
    assert.equal(await handledBy(result.callSid), 'bob');
  });

  it('two agents accept at once: exactly one wins, the other is told who has it', async () => {
    const { handle } = await waitingCall();
    const outcomes = await Promise.allSettled([accept(handle, 'alice'), accept(handle, 'bob')]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    const winner = (won[0] as PromiseFulfilledResult<{ agent?: string }>).value.agent;
    await refused(Promise.reject((lost[0] as PromiseRejectedResult).reason), new RegExp(`already taken by ${winner}`)); // prettier-ignore
    assert.equal((await handle.query(stateQuery)).handoff?.agent, winner);
    await handle.signal(callStatusSignal, 'completed');
    await handle.result();
  });

  it('nobody accepts within the bound: "thanks for holding" meanwhile, then the caller is told and a callback is scheduled', async () => {
    const { handle, callSid } = await waitingCall({ ...DESK, deskAnswerTimeoutMs: 2500, deskHoldReminderMs: 1000 }); // prettier-ignore
    const result = await handle.result();
    assert.equal(result.disposition, 'transferred');
    const lines = await handle.query(transcriptQuery);
    const reminders = lines.filter((l) => l.text === PROMPTS.deskStillWaiting);
    assert.equal(reminders.length, 2, 'a reminder at 1 s and at 2 s, none at the bound');
    assert.ok(reminders.every((l) => l.speaker === 'agent' && l.reason === 'handoff'));
    assert.match(lines[lines.length - 1]!.text, /no agent is free .* call you back/);
    assert.equal((await handle.describe()).typedSearchAttributes.get(SA_HUMAN_HANDOFF), 'missed');
    const callback = await env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe();
    assert.equal(callback.status.name, 'RUNNING');
    await env.client.workflow.getHandle(callbackWorkflowId(callSid)).terminate('test done');
    // An accept after the bound is refused.
    await assert.rejects(accept(handle, 'alice'));
  });

  it('the caller hangs up while waiting: the call ends as usual, no callback', async () => {
    const { handle, callSid } = await waitingCall();
    await handle.signal(callStatusSignal, 'completed');
    const result = await handle.result();
    assert.equal(result.disposition, 'transferred');
    await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
  });

  it('the caller hangs up while with a human: the call ends with the agent in its log', async () => {
    const { handle } = await waitingCall();
    await accept(handle, 'alice');
    await handle.signal(callStatusSignal, 'completed');
    const result = await handle.result();
    assert.equal(await handledBy(result.callSid), 'alice');
  });

  it('the twilio target (the default) never waits on the desk', async () => {
    const { handle } = await waitingCallOrEnded({ agentQueueNumber: undefined });
    const result = await handle.result();
    assert.equal(result.disposition, 'transferred');
    assert.equal((await handle.query(stateQuery)).handoff, undefined);
  });

  async function waitingCallOrEnded(config: Partial<CallConfig>) {
    const call = await startCall(env.client, { config, from: ADA });
    await call.bridge.streamStarted();
    assert.equal((await call.bridge.utterance('I want to talk to an agent')).action, 'transfer');
    return call;
  }
});

async function handledBy(callSid: string): Promise<string | null> {
  const db = await testDb();
  const { rows } = await db.query('SELECT handled_by FROM call_logs WHERE call_sid = $1', [callSid]); // prettier-ignore
  return rows[0]?.handled_by ?? null;
}

/** An update its validator refused, for this reason (the update's failure cause). */
async function refused(update: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(update, (err: Error) => {
    assert.match((err.cause as Error | undefined)?.message ?? '', reason);
    return true;
  });
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('the condition was never met');
}
