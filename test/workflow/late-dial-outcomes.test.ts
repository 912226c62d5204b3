// Dial outcomes that arrive late: after the call workflow stopped waiting for them (ring bound
// + grace) or after it ended. A missed one still brings the callback the caller was promised,
// once; an answered one never does. Real dev server, the edge's signed <Dial action> webhook,
// Twilio's REST API through the official SDK against the local stand-in.
import assert from 'node:assert/strict';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  callbackWorkflowId,
  callStatusSignal,
  NO_AGENT_CALLBACK,
  recordingReadySignal,
  type CallConfig,
} from '../../contracts/call';
import { loadEdgeConfig } from '../../media-edge/config';
import { buildEdgeServer } from '../../media-edge/server';
import type { CallbackResult } from '../../workflows/callback';
import { TwilioTelephony } from '../../providers/telephony/twilio';
import {
  ADA,
  maybeRecordHistory,
  postCallWorker,
  callWorker,
  startCall,
} from '../../testing/calls';
import { localEnv, resetDb } from '../../testing/platform';
import { TwilioRestReplayServer } from '../../testing/twilio-rest-replay';
import { signedPost } from '../helpers/twilio-webhooks';

const QUEUE = '+15550002222';
const PUBLIC_URL = 'https://edge.example.com';
/** Long enough that a late outcome arrives while the call still waits for its recording. */
const RECORDING_WAIT_MS = 120_000;

describe('late dial outcomes', function () {
  this.timeout(300_000);
  const twilioApi = new TwilioRestReplayServer();
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];
  let edge: FastifyInstance;
  let callConfig: Partial<CallConfig>;

  before(async () => {
    env = await localEnv();
    await resetDb();
    await twilioApi.start();
    workers = [
      await callWorker(env, undefined, undefined, undefined, new TwilioTelephony(twilioApi.env)),
      await postCallWorker(env),
    ];
    running = workers.map((w) => w.run());
    const edgeConfig = loadEdgeConfig({
      TWILIO_AUTH_TOKEN: twilioApi.authToken,
      EDGE_PUBLIC_URL: PUBLIC_URL,
      STREAM_TOKEN_SECRET: 'stream-token-secret-for-tests-only-0123456789',
      AGENT_QUEUE_NUMBER: QUEUE,
      // The shortest ring bound: the workflow stops waiting 35 s after the transfer.
      CALL_TRANSFER_RING_TIMEOUT_S: '5',
      CALL_CALLBACK_DELAY_MS: '500',
    });
    callConfig = { ...edgeConfig.call, recordingWaitMs: RECORDING_WAIT_MS };
    edge = await buildEdgeServer({
      config: edgeConfig,
      temporalClient: env.client,
      logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await edge.close();
    await twilioApi.close();
  });

  const dialStatus = (callSid: string, status: string) =>
    signedPost(
      edge,
      { authToken: twilioApi.authToken, publicUrl: PUBLIC_URL },
      '/v1/calls/dial-status',
      { CallSid: callSid, DialCallStatus: status, From: ADA, To: '+15550009999' },
    );

  const agentStatus = (callSid: string, status: string) =>
    signedPost(
      edge,
      { authToken: twilioApi.authToken, publicUrl: PUBLIC_URL },
      `/v1/calls/agent-status?callSid=${callSid}`,
      { CallSid: `CA${'a'.repeat(32)}`, CallStatus: status },
    );

  /** What the call made at Twilio since its start, as Twilio acted on it. */
  const made = (call: { callSid: string; since: number }) =>
    twilioApi.tally({ callSid: call.callSid, caller: ADA, queue: QUEUE }, call.since);
  const pick = ({ callbacks, texts }: { callbacks: number; texts: number }) => ({ callbacks, texts }); // prettier-ignore
  /** What reached Twilio since a mark, for an assertion's message. */
  const requestsSince = (since: number) =>
    JSON.stringify(twilioApi.requests.slice(since).map((r) => `${r.method} ${r.path.split('/').pop()} ${r.form.To ?? ''}`)); // prettier-ignore

  const callbackRuns = async (callSid: string) =>
    (await env.client.workflow.count(`WorkflowId = "${callbackWorkflowId(callSid)}"`)).count;

  /** A call handed to the agents' queue (cold): Twilio has the <Dial>. */
  async function transferredCall(config: Partial<CallConfig> = callConfig) {
    const since = twilioApi.mark();
    const call = { ...(await startCall(env.client, { config })), since };
    twilioApi.addLiveCall(call.callSid);
    await call.bridge.streamStarted({ streamSid: `MZ${call.callSid.slice(2)}` });
    const reply = await call.bridge.utterance('I want to talk to an agent');
    assert.equal(reply.action, 'transfer');
    for (let i = 0; i < 200 && !twilioApi.calls.get(call.callSid)?.twiml; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(twilioApi.calls.get(call.callSid)?.twiml, 'Twilio was never asked to transfer');
    return call;
  }

  /** Waits until the workflow gave up on the dial and waits for the recording instead. */
  async function pastTheDialWait(workflowId: string): Promise<void> {
    const handle = env.client.workflow.getHandle(workflowId);
    for (;;) {
      const { events } = await handle.fetchHistory();
      const waiting = events?.some((e) => {
        const ms = e.timerStartedEventAttributes?.startToFireTimeout;
        return ms && Number(ms.seconds) * 1000 === RECORDING_WAIT_MS;
      });
      if (waiting) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('a missed outcome after the dial wait, the call still finishing: one callback', async () => {
    const { callSid, handle, since } = await transferredCall();
    await pastTheDialWait(handle.workflowId);
    assert.equal((await dialStatus(callSid, 'no-answer')).statusCode, 200);
    assert.equal((await dialStatus(callSid, 'no-answer')).statusCode, 200); // Twilio retried
    await handle.signal(recordingReadySignal, {
      key: `recordings/${callSid}.wav`,
      durationMs: 20,
      truncated: false,
    });
    assert.equal((await handle.result()).disposition, 'transferred');
    await maybeRecordHistory(env, handle.workflowId, 'late-dial-after-wait');
    const result: CallbackResult = await env.client.workflow
      .getHandle(callbackWorkflowId(callSid))
      .result();
    assert.equal(result.smsSent, true);
    assert.ok(twilioApi.calls.get(result.callbackSid), 'the callback was placed');
    assert.deepEqual(
      pick(made({ callSid, since })),
      { callbacks: 1, texts: 1 },
      requestsSince(since),
    );
    assert.equal(await callbackRuns(callSid), 1, 'callback workflow runs');
  });

  it('a warm transfer agent leg missed after the wait: Twilio tells the held caller, one callback', async () => {
    const { callSid, handle, since } = await transferredCall({
      ...callConfig,
      transferMode: 'warm',
    });
    await pastTheDialWait(handle.workflowId);
    assert.equal((await agentStatus(callSid, 'no-answer')).statusCode, 204);
    assert.equal((await agentStatus(callSid, 'no-answer')).statusCode, 204); // Twilio retried
    await handle.signal(recordingReadySignal, {
      key: `recordings/${callSid}.wav`,
      durationMs: 20,
      truncated: false,
    });
    await handle.result();
    const told = twilioApi.calls.get(callSid)!.twiml!;
    assert.ok(told.includes(`<Say>${NO_AGENT_CALLBACK.replace(/'/g, '&apos;')}</Say><Hangup/>`), told); // prettier-ignore
    assert.equal(made({ callSid, since }).hangUps, 1, requestsSince(since));
    const result: CallbackResult = await env.client.workflow
      .getHandle(callbackWorkflowId(callSid))
      .result();
    assert.ok(twilioApi.calls.get(result.callbackSid), 'the callback was placed');
    assert.equal(made({ callSid, since }).callbacks, 1, requestsSince(since));
    assert.equal(await callbackRuns(callSid), 1, 'callback workflow runs');
  });

  it('a missed outcome after the call workflow ended: the edge starts the one callback', async () => {
    const { callSid, handle, since } = await transferredCall({ ...callConfig, recordingWaitMs: 0 });
    await handle.signal(callStatusSignal, 'completed');
    await handle.result();
    await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
    const first = await dialStatus(callSid, 'busy');
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /call you back/);
    assert.equal((await dialStatus(callSid, 'busy')).statusCode, 200); // Twilio retried
    const result: CallbackResult = await env.client.workflow
      .getHandle(callbackWorkflowId(callSid))
      .result();
    assert.equal(result.smsSent, true);
    const placed = twilioApi.calls.get(result.callbackSid);
    assert.deepEqual([placed?.to, placed?.from], [ADA, '+15550009999']);
    assert.deepEqual(
      pick(made({ callSid, since })),
      { callbacks: 1, texts: 1 },
      requestsSince(since),
    );
    // A third report, after the callback ran, starts nothing either.
    assert.equal((await dialStatus(callSid, 'busy')).statusCode, 200);
    assert.equal(await callbackRuns(callSid), 1, 'callback workflow runs');
  });

  it('a warm agent leg missed after the call workflow ended: the caller read from the call, one callback', async () => {
    const { callSid, handle, since } = await transferredCall({ ...callConfig, transferMode: 'warm', recordingWaitMs: 0 }); // prettier-ignore
    await handle.signal(callStatusSignal, 'completed');
    await handle.result();
    assert.equal((await agentStatus(callSid, 'no-answer')).statusCode, 204);
    assert.equal((await agentStatus(callSid, 'no-answer')).statusCode, 204); // Twilio retried
    const result: CallbackResult = await env.client.workflow
      .getHandle(callbackWorkflowId(callSid))
      .result();
    const placed = twilioApi.calls.get(result.callbackSid);
    assert.deepEqual([placed?.to, placed?.from], [ADA, '+15550009999']);
    assert.deepEqual(
      pick(made({ callSid, since })),
      { callbacks: 1, texts: 1 },
      requestsSince(since),
    );
    assert.equal(await callbackRuns(callSid), 1, 'callback workflow runs');
  });

  it('an answered outcome after the call workflow ended: recorded, no callback', async () => {
    const { callSid, handle, since } = await transferredCall({ ...callConfig, recordingWaitMs: 0 });
    await handle.signal(callStatusSignal, 'completed');
    await handle.result();
    const answer = await dialStatus(callSid, 'completed');
    assert.equal(answer.statusCode, 200);
    assert.doesNotMatch(answer.body, /call you back/);
    await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
    assert.deepEqual([made({ callSid, since }).callbacks, made({ callSid, since }).texts], [0, 0]);
  });
});
