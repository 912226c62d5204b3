// Two degraded modes that end in a call back, on a real Temporal dev server with the call
// worker placing callbacks through Twilio's REST API (the official SDK, against the local
// stand-in replaying its documented exchanges):
// - a prolonged TTS outage: the edge reports every synthesizer out at stream start (what
//   media-edge/call/tts-outage.ts decides; the whole edge is in test/e2e/tts-outage.test.ts),
//   and the caller hears the outage notice instead of a conversation;
// - the vector store away for real (Qdrant's stand-in behind a downed Toxiproxy proxy, the
//   local index closed): a plans question gets the general line and a call back offer.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  callbackWorkflowId,
  SA_DEGRADED_MODE,
  SA_NEEDS_REVIEW,
  streamStartedUpdate,
  transcriptQuery,
  type CallConfig,
} from '../../contracts/call';
import { noRetrievalLine } from '../../conversation/answers/answer';
import { TwilioTelephony } from '../../providers/telephony/twilio';
import type { CallbackResult } from '../../workflows/callback';
import { PROMPTS } from '../../workflows/call-state';
import { PATCHES } from '../../workflows/call/versions';
import {
  ADA,
  historyPayloadText,
  postCallWorker,
  callWorker,
  startCall,
} from '../../testing/calls';
import { localEnv, resetDb } from '../../testing/platform';
import { TwilioRestReplayServer } from '../../testing/twilio-rest-replay';
import { answererWithVectorsDown, type VectorsDown } from '../helpers/no-retrieval';

const QUEUE = '+15550002222';
const ANONYMOUS = 'anonymous';

describe('callback offers: a prolonged TTS outage and the vector store away', function () {
  const twilioApi = new TwilioRestReplayServer();
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];
  let vectors: VectorsDown;
  const config: Partial<CallConfig> = { agentQueueNumber: QUEUE, callbackDelayMs: 500 };

  before(async () => {
    env = await localEnv();
    await resetDb();
    await twilioApi.start();
    vectors = await answererWithVectorsDown();
    workers = [
      await callWorker(
        env,
        undefined,
        undefined,
        vectors.answerer,
        new TwilioTelephony(twilioApi.env),
      ),
      await postCallWorker(env),
    ];
    running = workers.map((w) => w.run());
  });
  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await twilioApi.close();
    await vectors.close();
  });

  /** Each test counts what reached Twilio from its own start. */
  let since = 0;
  beforeEach(() => {
    since = twilioApi.mark();
  });

  /** The callback the call started: one workflow, one text saying why, one call placed. */
  async function calledBackOnce(callSid: string, why: RegExp) {
    const result: CallbackResult = await env.client.workflow
      .getHandle(callbackWorkflowId(callSid))
      .result();
    const { count } = await env.client.workflow.count(`WorkflowId = "${callbackWorkflowId(callSid)}"`); // prettier-ignore
    assert.equal(count, 1);
    assert.equal(result.smsSent, true);
    const texts = twilioApi.creations('Messages', ADA, since);
    assert.equal(texts.length, 1, 'one text');
    assert.match(texts[0]?.form.Body ?? '', why);
    assert.equal(twilioApi.creations('Calls', ADA, since).length, 1, 'one call placed');
    assert.equal(twilioApi.calls.get(result.callbackSid)?.to, ADA);
  }

  const noCallback = (callSid: string) =>
    assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());

  describe('every synthesizer of the edge out (reported at stream start)', () => {
    it('a new call hears the notice instead of a greeting, ends, and is called back once', async () => {
      const { bridge, handle, callSid } = await startCall(env.client, { config });
      const first = await bridge.streamStarted({ ttsOutage: true });
      assert.deepEqual([first.text, first.action], [PROMPTS.ttsOutageCallBack, 'hangup']);
      const result = await handle.result();
      assert.equal(result.disposition, 'resolved');
      assert.equal(result.callbackRequested, true);
      const transcript = await handle.query(transcriptQuery);
      assert.deepEqual(
        transcript.map((e) => e.text),
        [PROMPTS.ttsOutageCallBack],
        'the greeting was never said',
      );
      const sa = (await handle.describe()).typedSearchAttributes;
      assert.ok(sa.get(SA_DEGRADED_MODE)?.includes('tts:outage'), String(sa.get(SA_DEGRADED_MODE)));
      assert.ok(sa.get(SA_NEEDS_REVIEW)?.includes('tts_outage'), String(sa.get(SA_NEEDS_REVIEW)));
      assert.match(await historyPayloadText(handle), new RegExp(PATCHES.ttsOutageNotice));
      await calledBackOnce(callSid, /voice system/);
    });

    it('a caller who cannot be called back is asked to call again later; no callback', async () => {
      const { bridge, handle, callSid } = await startCall(env.client, { config, from: ANONYMOUS });
      const first = await bridge.streamStarted({ ttsOutage: true });
      assert.deepEqual([first.text, first.action], [PROMPTS.ttsOutageCallLater, 'hangup']);
      const result = await handle.result();
      assert.equal(result.callbackRequested, undefined);
      await noCallback(callSid);
    });

    it('a call already in conversation keeps it when its stream restarts during the outage', async () => {
      const { bridge, handle, callSid } = await startCall(env.client, { config });
      const greeting = await bridge.streamStarted();
      assert.match(greeting.text, /How can I help/);
      assert.equal((await bridge.utterance("what's my balance")).action, 'continue');
      // A second stream start (its own update id, as an edge resuming the call would send).
      const again = await handle.executeUpdate(streamStartedUpdate, {
        args: [{ ttsOutage: true }],
        updateId: 'stream-restarted',
      });
      assert.equal(again.text, greeting.text, 'the greeting it had, not the notice');
      assert.equal((await bridge.utterance('goodbye')).action, 'hangup');
      const result = await handle.result();
      assert.equal(result.callbackRequested, undefined);
      const sa = (await handle.describe()).typedSearchAttributes;
      assert.equal(sa.get(SA_NEEDS_REVIEW), undefined);
      await noCallback(callSid);
    });
  });

  describe('no vector index (Qdrant down, the local index closed)', () => {
    const plansLine = noRetrievalLine('ask_plans').text;

    async function askPlans(from = ADA) {
      const started = await startCall(env.client, { config, from });
      await started.bridge.streamStarted();
      const reply = await started.bridge.utterance('what internet plans do you have');
      assert.equal(reply.intent?.name, 'ask_plans');
      return { ...started, reply };
    }

    it('the general line offers a call back; yes schedules one, placed once', async () => {
      const { bridge, handle, callSid, reply } = await askPlans();
      assert.equal(reply.text, `${plansLine} ${PROMPTS.offerCallbackLater}`);
      const yes = await bridge.utterance('yes please');
      assert.equal(yes.text, `${PROMPTS.callbackLaterBooked} ${PROMPTS.anythingElse}`);
      assert.equal((await bridge.utterance('goodbye')).action, 'hangup');
      const result = await handle.result();
      assert.equal(result.callbackRequested, true);
      assert.ok(vectors.failures.length > 0, 'retrieval failed for real');
      await calledBackOnce(callSid, /answer your question/);
    });

    it('keypad 1 is a yes', async () => {
      const { bridge, handle, callSid } = await askPlans();
      const yes = await bridge.dtmf({ digits: '1' });
      assert.equal(yes.text, `${PROMPTS.callbackLaterBooked} ${PROMPTS.anythingElse}`);
      await bridge.utterance('goodbye');
      assert.equal((await handle.result()).callbackRequested, true);
      await calledBackOnce(callSid, /answer your question/);
    });

    it('no: the call carries on, no callback', async () => {
      const { bridge, handle, callSid } = await askPlans();
      const no = await bridge.utterance('no thanks');
      assert.equal(no.text, `Okay. ${PROMPTS.anythingElse}`);
      await bridge.utterance('goodbye');
      assert.equal((await handle.result()).callbackRequested, undefined);
      await noCallback(callSid);
    });

    it('unclear: asked once more, then taken as a no', async () => {
      const { bridge, handle, callSid } = await askPlans();
      assert.equal((await bridge.utterance('mumble', 0.1)).text, PROMPTS.offerCallbackLaterAgain);
      assert.equal(
        (await bridge.utterance('mumble', 0.1)).text,
        `${PROMPTS.takenAsNo} ${PROMPTS.anythingElse}`,
      );
      await bridge.utterance('goodbye');
      assert.equal((await handle.result()).callbackRequested, undefined);
      await noCallback(callSid);
    });

    it('a caller who cannot be called back gets the general line alone', async () => {
      const { bridge, handle, callSid, reply } = await askPlans(ANONYMOUS);
      assert.equal(reply.text, `${plansLine} ${PROMPTS.anythingElse}`);
      await bridge.utterance('goodbye');
      assert.equal((await handle.result()).callbackRequested, undefined);
      await noCallback(callSid);
    });
  });
});
