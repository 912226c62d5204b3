// Every "we'll call you back" is a real callback, on a real Temporal dev server: the call
// worker places the callback through Twilio's REST API (the official SDK, against the local
// stand-in replaying its documented exchanges). The CRM is away (every read fails as the
// fallback CRM fails when PostgreSQL is down) or every language model is (the answer fails).
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { callbackWorkflowId, SA_NEEDS_REVIEW, type CallConfig } from '../../contracts/call';
import type { CrmClient } from '../../providers/crm/port';
import { ProviderError } from '../../providers/provider-error';
import { TwilioTelephony } from '../../providers/telephony/twilio';
import type { Answerer } from '../../conversation/answers/answerer';
import type { CallbackResult } from '../../workflows/callback';
import { PROMPTS } from '../../workflows/call-state';
import { ADA, postCallWorker, postgresTestDeps, startCall, testEvents } from '../../testing/calls';
import { localEnv, resetDb, workflowBundle } from '../../testing/platform';
import { TwilioRestReplayServer } from '../../testing/twilio-rest-replay';
import { createCallWorker } from '../../workers/call-worker-factory';

const QUEUE = '+15550002222';

const down = (): never => {
  throw new ProviderError('postgres-crm', 'unavailable', 'connection refused');
};
/** The CRM with its database away: every read and write fails. */
const crmDown: CrmClient = {
  findCustomerByPhone: async () => down(),
  getBalance: async () => down(),
  writeCallLog: async () => down(),
  attachRecording: async () => down(),
};
/** Every language model away: the answer cannot be produced. */
const llmDown: Answerer = {
  answer: async () => {
    throw new ProviderError('template', 'unavailable', 'every model link failed');
  },
};

describe('callbacks: accepted offers and failed answers are called back', function () {
  const twilioApi = new TwilioRestReplayServer();
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];
  const callConfig: Partial<CallConfig> = { agentQueueNumber: QUEUE, callbackDelayMs: 500 };

  before(async () => {
    env = await localEnv();
    await resetDb();
    await twilioApi.start();
    const deps = await postgresTestDeps();
    workers = [
      await createCallWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        deps: { ...deps, crm: crmDown },
        events: testEvents,
        answerer: llmDown,
        telephony: new TwilioTelephony(twilioApi.env),
        workflowBundle: await workflowBundle(),
      }),
      await postCallWorker(env),
    ];
    running = workers.map((w) => w.run());
  });
  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await twilioApi.close();
  });

  /** Each test counts what reached Twilio from its own start. */
  let since = 0;
  beforeEach(() => {
    since = twilioApi.mark();
  });

  /** The callback the call started: exactly one workflow, its call placed once at Twilio. */
  async function calledBackOnce(callSid: string, reason: string) {
    const callback = env.client.workflow.getHandle(callbackWorkflowId(callSid));
    const result: CallbackResult = await callback.result();
    const { count } = await env.client.workflow.count(`WorkflowId = "${callbackWorkflowId(callSid)}"`); // prettier-ignore
    assert.equal(count, 1);
    assert.equal(twilioApi.creations('Calls', ADA, since).length, 1, 'one call placed');
    const call = twilioApi.calls.get(result.callbackSid);
    assert.deepEqual([call?.to, call?.from], [ADA, '+15550009999']);
    assert.match(call?.twiml ?? '', /<Dial><Number>\+15550002222<\/Number><\/Dial>/);
    const text = [...twilioApi.messages.values()].find((m) => m.to === ADA && m.body.includes(reason)); // prettier-ignore
    assert.ok(text, `a text saying why (${reason})`);
  }

  it('CRM down, the caller accepts the call back offer: the callback is scheduled once and placed once', async () => {
    const { bridge, handle, callSid } = await startCall(env.client, { config: callConfig });
    await bridge.streamStarted();
    assert.equal((await bridge.utterance("what's my balance")).text, PROMPTS.accountUnavailable);
    assert.equal(
      (await bridge.utterance('yes please')).text,
      `${PROMPTS.callbackBooked} ${PROMPTS.anythingElse}`,
    );
    // A second yes to a second offer still makes one callback.
    assert.equal((await bridge.utterance('pay my bill')).text, PROMPTS.accountUnavailable);
    assert.match((await bridge.utterance('yes')).text, /call you back/);
    assert.equal((await bridge.utterance('goodbye')).action, 'hangup');
    const result = await handle.result();
    assert.equal(result.callbackRequested, true);
    await calledBackOnce(callSid, 'reach your account');
    // crm-down-callback-accepted.json was recorded here before the callback-on-request patch.
  });

  it('no answer can be produced: the temporary-issue line, a callback, NeedsReview', async () => {
    const { bridge, handle, callSid } = await startCall(env.client, { config: callConfig });
    await bridge.streamStarted();
    const reply = await bridge.utterance('what internet plans do you have');
    assert.equal(reply.intent?.name, 'ask_plans');
    assert.equal(reply.text, `${PROMPTS.temporaryIssue} ${PROMPTS.anythingElse}`);
    assert.equal(reply.action, 'continue');
    assert.equal((await bridge.utterance('goodbye')).action, 'hangup');
    const result = await handle.result();
    assert.equal(result.callbackRequested, true);
    const review = (await handle.describe()).typedSearchAttributes.get(SA_NEEDS_REVIEW);
    assert.ok(review?.includes('no_grounded_answer'), String(review));
    await calledBackOnce(callSid, 'answer your question');
    // answer-failed-before-callback.json was recorded here before the no-grounded-answer patch.
  });

  it('an off-topic question stays an ordinary reply: no callback, no review', async () => {
    const { bridge, handle, callSid } = await startCall(env.client, { config: callConfig });
    await bridge.streamStarted();
    const reply = await bridge.utterance('what is the weather like on mars');
    assert.notEqual(reply.text, `${PROMPTS.temporaryIssue} ${PROMPTS.anythingElse}`);
    if (reply.action === 'continue') await bridge.utterance('goodbye');
    const result = await handle.result();
    assert.equal(result.callbackRequested, undefined);
    assert.equal((await handle.describe()).typedSearchAttributes.get(SA_NEEDS_REVIEW), undefined);
    await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
  });

  /** What the edge sends when every recognizer failed for an utterance. */
  const unrecognized = { attempts: [{ provider: 'deepgram', ok: false, ms: 40, kind: 'unavailable' as const }, { provider: 'vosk', ok: false, ms: 30, kind: 'unavailable' as const }] }; // prettier-ignore

  it('three failed recognitions: a call back or an agent is offered; yes schedules the callback', async () => {
    const { bridge, handle, callSid } = await startCall(env.client, { config: callConfig });
    await bridge.streamStarted();
    assert.equal((await bridge.utterance('', 0, undefined, unrecognized)).text, PROMPTS.repeat);
    assert.equal((await bridge.utterance('', 0, undefined, unrecognized)).text, PROMPTS.repeat);
    const third = await bridge.utterance('', 0, undefined, unrecognized);
    assert.equal(third.text, PROMPTS.troubleHearing);
    assert.equal(third.action, 'continue');
    const yes = await bridge.dtmf({ digits: '1' });
    assert.deepEqual([yes.text, yes.action], [PROMPTS.callbackSoon, 'hangup']);
    const result = await handle.result();
    assert.equal(result.callbackRequested, true);
    assert.equal(result.disposition, 'resolved');
    await calledBackOnce(callSid, 'Sorry we missed you');
    // asr-failed-before-offer.json was recorded here before the asr-failed-offer patch.
  });

  it('three failed recognitions, then not heard again: an agent, no callback', async () => {
    const { bridge, handle, callSid } = await startCall(env.client, { config: callConfig });
    await bridge.streamStarted();
    for (let i = 0; i < 3; i++) await bridge.utterance('', 0, undefined, unrecognized);
    const fourth = await bridge.utterance('', 0, undefined, unrecognized);
    assert.deepEqual([fourth.text, fourth.action], [PROMPTS.agent, 'transfer']);
    const result = await handle.result();
    assert.equal(result.disposition, 'transferred');
    assert.equal(result.callbackRequested, undefined);
    await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
  });
});
