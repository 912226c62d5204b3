// The hand-off to a human on a real Temporal dev server: the call worker talks to Twilio's
// REST API through the official SDK, against the local stand-in replaying its documented
// exchanges; the edge's <Dial action> webhook is the real route, signed like Twilio signs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  callbackWorkflowId,
  NO_AGENT_CALL_LATER,
  NO_AGENT_CALLBACK,
  type CallConfig,
} from '../../contracts/call';
import { loadEdgeConfig, type EdgeConfig } from '../../media-edge/config';
import { buildEdgeServer } from '../../media-edge/server';
import { NO_SUMMARY } from '../../media-edge/twilio/agent-briefing';
import type { CallbackResult } from '../../workflows/callback';
import { TwilioTelephony } from '../../providers/telephony/twilio';
import { ADA, postgresTestDeps, startCall, testEvents } from '../../testing/calls';
import { localEnv, resetDb, workflowBundle } from '../../testing/platform';
import { TwilioRestReplayServer } from '../../testing/twilio-rest-replay';
import { createCallWorker } from '../../workers/call-worker-factory';
import { signedPost } from '../helpers/twilio-webhooks';
import { killHard, spawnWorkerProcess, waitForMarker } from '../helpers/worker-process';

const CRASH_FIXTURE = path.join(__dirname, '..', 'fixtures', 'telephony-crash-worker.ts');
const TELEPHONY_CRASH_READY = 'telephony-crash-worker: ready';

const QUEUE = '+15550002222';
const PUBLIC_URL = 'https://edge.example.com';

describe('hand-off to a human through Twilio', function () {
  const twilioApi = new TwilioRestReplayServer();
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let edge: FastifyInstance;
  let edgeConfig: EdgeConfig;
  let callConfig: Partial<CallConfig>;

  before(async () => {
    env = await localEnv();
    await resetDb();
    await twilioApi.start();
    worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      deps: await postgresTestDeps(),
      events: testEvents,
      telephony: new TwilioTelephony(twilioApi.env),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    edgeConfig = loadEdgeConfig({
      TWILIO_AUTH_TOKEN: twilioApi.authToken,
      EDGE_PUBLIC_URL: PUBLIC_URL,
      STREAM_TOKEN_SECRET: 'stream-token-secret-for-tests-only-0123456789',
      AGENT_QUEUE_NUMBER: QUEUE,
      CALL_TRANSFER_RING_TIMEOUT_S: '20',
    });
    callConfig = { ...edgeConfig.call, callbackDelayMs: 500 };
    edge = await buildEdgeServer({
      config: edgeConfig,
      temporalClient: env.client,
      logger: pino({ level: 'silent' }),
      telephony: new TwilioTelephony(twilioApi.env),
    });
  });
  after(async () => {
    worker.shutdown();
    await running;
    await edge.close();
    await twilioApi.close();
  });

  const dialStatus = (callSid: string, status: string, from = ADA) =>
    signedPost(
      edge,
      { authToken: twilioApi.authToken, publicUrl: PUBLIC_URL },
      '/v1/calls/dial-status',
      {
        CallSid: callSid,
        DialCallStatus: status,
        From: from,
        To: '+15550009999',
      },
    );

  /** What the call made at Twilio since a mark, as Twilio acted on it. */
  const made = (callSid: string, since: number) =>
    twilioApi.tally({ callSid, caller: ADA, queue: QUEUE }, since);
  /** The retries that looked for the transfer's dial before redirecting again. */
  const lookedForDial = (callSid: string) =>
    twilioApi.requests.filter((r) => r.method === 'GET' && r.form.ParentCallSid === callSid).length; // prettier-ignore

  async function transferredCall(from = ADA) {
    const since = twilioApi.mark();
    const call = { ...(await startCall(env.client, { config: callConfig, from })), since };
    twilioApi.addLiveCall(call.callSid);
    await call.bridge.streamStarted();
    const reply = await call.bridge.utterance('I want to talk to an agent');
    assert.equal(reply.action, 'transfer');
    return call;
  }

  async function transferArrived(callSid: string) {
    for (let i = 0; i < 200 && !twilioApi.calls.get(callSid)?.twiml; i++)
      await new Promise((r) => setTimeout(r, 50));
    return twilioApi.calls.get(callSid)?.twiml;
  }

  it('a new call transfers the live call to the queue once; the agent takes it: no callback', async () => {
    const { callSid, handle, since } = await transferredCall();
    const twiml = await transferArrived(callSid);
    assert.ok(twiml, 'Twilio was never asked to transfer the call');
    assert.match(twiml, /<Dial timeout="20" action="https:\/\/edge\.example\.com\/v1\/calls\/dial-status" method="POST"><Number>\+15550002222<\/Number><\/Dial>/); // prettier-ignore
    const answer = await dialStatus(callSid, 'completed');
    assert.equal(answer.statusCode, 200);
    assert.doesNotMatch(answer.body, /call you back/);
    assert.equal((await handle.result()).disposition, 'transferred');
    assert.equal(made(callSid, since).transfers, 1);
    assert.equal(lookedForDial(callSid), 0, 'a first try does not look');
    await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
  });

  it('a transfer whose answer was lost is retried: the retry finds the dial, one transfer at Twilio', async () => {
    twilioApi.fail({ status: 503, code: 20503, message: 'Service Unavailable', afterActing: true });
    const { callSid, handle, since } = await transferredCall();
    await transferArrived(callSid);
    await dialStatus(callSid, 'completed');
    await handle.result();
    assert.ok(lookedForDial(callSid) >= 1, 'the activity was retried and looked first');
    assert.equal(made(callSid, since).transfers, 1, 'the retry did not redirect the call again');
  });

  it('the worker is killed after Twilio took the transfer: the new worker repeats nothing', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-crash-'));
    const bundleFile = path.join(tmp, 'workflows.js');
    fs.writeFileSync(bundleFile, (await workflowBundle()).code);
    const taskQueue = `handoff-crash-${randomBytes(4).toString('hex')}`;
    const marker = path.join(tmp, 'transferred');
    const crash = await spawnWorkerProcess(
      CRASH_FIXTURE,
      {
        ...process.env,
        ...twilioApi.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        CALL_TASK_QUEUE: taskQueue,
        CRASH_MARKER_FILE: marker,
        WORKFLOW_BUNDLE_CODE: bundleFile,
      },
      TELEPHONY_CRASH_READY,
      'telephony crash worker',
    );
    let next: { worker: Worker; running: Promise<void> } | undefined;
    try {
      const since = twilioApi.mark();
      const { callSid, handle, bridge } = await startCall(env.client, { config: callConfig, taskQueue }); // prettier-ignore
      twilioApi.addLiveCall(callSid);
      await bridge.streamStarted();
      assert.equal((await bridge.utterance('I want to talk to an agent')).action, 'transfer');
      await waitForMarker(marker, crash, 'telephony crash worker');
      await killHard(crash);
      const worker = await createCallWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        deps: await postgresTestDeps(),
        events: testEvents,
        telephony: new TwilioTelephony(twilioApi.env),
        workflowBundle: await workflowBundle(),
      });
      next = { worker, running: worker.run() };
      // The activity's start-to-close bound passes, and the retry runs on the new worker.
      for (let i = 0; i < 600 && lookedForDial(callSid) < 1; i++)
        await new Promise((r) => setTimeout(r, 50));
      await dialStatus(callSid, 'completed');
      assert.equal((await handle.result()).disposition, 'transferred');
      assert.equal(lookedForDial(callSid), 1, 'the retry looked for the dial');
      assert.equal(made(callSid, since).transfers, 1, 'and found it: no second redirect');
    } finally {
      await killHard(crash);
      next?.worker.shutdown();
      await next?.running;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('no agent answers: the caller is told, and called back once after a text, even if told twice', async () => {
    const { callSid, handle, since } = await transferredCall();
    await transferArrived(callSid);
    const first = await dialStatus(callSid, 'no-answer');
    assert.equal(first.statusCode, 200);
    assert.ok(first.body.includes(`<Say>${NO_AGENT_CALLBACK.replace(/'/g, '&apos;')}</Say><Hangup/>`), first.body); // prettier-ignore
    await dialStatus(callSid, 'no-answer'); // Twilio retried the webhook
    assert.equal((await handle.result()).disposition, 'transferred');
    const callback = env.client.workflow.getHandle(callbackWorkflowId(callSid));
    const result: CallbackResult = await callback.result();
    assert.equal(result.smsSent, true);
    const placed = twilioApi.calls.get(result.callbackSid);
    assert.deepEqual([placed?.to, placed?.from], [ADA, '+15550009999']);
    assert.match(placed?.twiml ?? '', /<Dial><Number>\+15550002222<\/Number><\/Dial>/);
    assert.equal(made(callSid, since).callbacks, 1);
    assert.equal(made(callSid, since).texts, 1);
    const { count } = await env.client.workflow.count(`WorkflowId = "${callbackWorkflowId(callSid)}"`); // prettier-ignore
    assert.ok(count <= 1, `${count} callback workflows`);
  });

  it('no agent answers an anonymous caller: told to call again, no callback', async () => {
    const { callSid, handle } = await transferredCall('anonymous');
    await transferArrived(callSid);
    const answer = await dialStatus(callSid, 'busy', 'anonymous');
    assert.ok(answer.body.includes(NO_AGENT_CALL_LATER), answer.body);
    assert.equal((await handle.result()).disposition, 'transferred');
    await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
  });

  describe('warm transfer', () => {
    const signing = { authToken: twilioApi.authToken, publicUrl: PUBLIC_URL };
    const agentStatus = (callSid: string, status: string) =>
      signedPost(edge, signing, `/v1/calls/agent-status?callSid=${callSid}`, { CallSid: `CA${'a'.repeat(32)}`, CallStatus: status }); // prettier-ignore
    /** A conference status callback, as Twilio posts it to the agent leg's status URL. */
    const conferenceEvent = (callSid: string, conferenceSid: string, event: string, label?: string) =>
      signedPost(edge, signing, `/v1/calls/agent-status?callSid=${callSid}`, { ConferenceSid: conferenceSid, FriendlyName: `handoff-${callSid}`, StatusCallbackEvent: event, CallSid: `CA${'b'.repeat(32)}`, ...(label && { ParticipantLabel: label }) }); // prettier-ignore

    async function warmCall() {
      const since = twilioApi.mark();
      const call = { ...(await startCall(env.client, { config: { ...callConfig, transferMode: 'warm' } })), since }; // prettier-ignore
      twilioApi.addLiveCall(call.callSid);
      await call.bridge.streamStarted();
      assert.equal((await call.bridge.utterance('I want to talk to an agent')).action, 'transfer');
      await transferArrived(call.callSid);
      const conference = `handoff-${call.callSid}`;
      const agent = () => twilioApi.participant(conference, 'agent');
      for (let i = 0; i < 200 && !agent(); i++) await new Promise((r) => setTimeout(r, 50));
      const conferenceSid = twilioApi.participant(conference, 'caller')?.conferenceSid ?? '';
      const caller = () => twilioApi.participant(conference, 'caller')!;
      return { ...call, conference, conferenceSid, caller, agent, leg: twilioApi.calls.get(agent()?.callSid ?? '') }; // prettier-ignore
    }

    it('the caller holds in the conference; the agent hears who calls and why, then the two talk', async () => {
      const { callSid, handle, leg, conferenceSid, caller, agent } = await warmCall();
      assert.match(twilioApi.calls.get(callSid)!.twiml!, new RegExp(`<Conference participantLabel="caller" startConferenceOnEnter="false"[^>]*>handoff-${callSid}<`)); // prettier-ignore
      assert.ok(leg, 'the agent was called');
      assert.equal(leg.to, QUEUE);
      assert.equal(leg.statusCallback, `${PUBLIC_URL}/v1/calls/agent-status?callSid=${callSid}`);
      assert.equal((await conferenceEvent(callSid, conferenceSid, 'participant-join', 'caller')).statusCode, 204); // prettier-ignore
      assert.equal(caller().hold, false, 'the caller hears the waiting music, not a hold');
      // The agent answers: the caller holds while the agent hears the summary.
      assert.equal((await conferenceEvent(callSid, conferenceSid, 'participant-join', 'agent')).statusCode, 204); // prettier-ignore
      assert.equal(caller().hold, true);
      const announceUrl = `/v1/calls/agent-summary?callSid=${callSid}`;
      assert.equal(agent()?.announceUrl, PUBLIC_URL + announceUrl);
      const said = await signedPost(edge, signing, announceUrl, { CallSid: leg.sid, ConferenceSid: conferenceSid }); // prettier-ignore
      assert.match(said.body, /<Response><Say>Ada is calling\. They asked about: talk to agent\.<\/Say><\/Response>/); // prettier-ignore
      assert.equal(
        (await conferenceEvent(callSid, conferenceSid, 'announcement-end')).statusCode,
        204,
      );
      assert.equal(caller().hold, false, 'the two talk');
      assert.equal((await agentStatus(callSid, 'completed')).statusCode, 204);
      assert.equal((await handle.result()).disposition, 'transferred');
      await assert.rejects(env.client.workflow.getHandle(callbackWorkflowId(callSid)).describe());
    });

    it('a briefing Twilio refuses puts the two together at once: the caller is not left on hold', async () => {
      const { callSid, conferenceSid, caller, agent } = await warmCall();
      twilioApi.fail({ status: 503, code: 20503, message: 'Service Unavailable', path: /Participants\/agent\.json$/ }); // prettier-ignore
      assert.equal((await conferenceEvent(callSid, conferenceSid, 'participant-join', 'agent')).statusCode, 204); // prettier-ignore
      assert.equal(agent()?.announceUrl, undefined);
      assert.equal(caller().hold, false);
      await agentStatus(callSid, 'completed');
    });

    it("a conference event that is not Twilio's shape is refused with the reason", async () => {
      const callSid = `CA${'d'.repeat(32)}`;
      const bad = await conferenceEvent(callSid, 'CF-not-a-sid', 'participant-join', 'agent');
      assert.equal(bad.statusCode, 400);
      const { message } = bad.json<{ message: string }>();
      assert.match(message, /ConferenceSid must be "CF" followed by 32 hex digits/);
    });

    it('the summary of a call the edge cannot read: the agent is told so', async () => {
      const said = await signedPost(edge, signing, `/v1/calls/agent-summary?callSid=CA${'c'.repeat(32)}`, {}); // prettier-ignore
      assert.equal(said.statusCode, 200);
      assert.ok(said.body.includes(`<Say>${NO_SUMMARY}</Say>`), said.body);
      const forged = await signedPost(edge, { ...signing, authToken: 'not-the-token' }, `/v1/calls/agent-summary?callSid=CA${'c'.repeat(32)}`, {}); // prettier-ignore
      assert.equal(forged.statusCode, 403);
    });

    it('the agent does not answer: Twilio tells the held caller, and the callback comes once', async () => {
      const { callSid, handle, since } = await warmCall();
      await agentStatus(callSid, 'no-answer');
      await handle.result();
      const told = twilioApi.calls.get(callSid)!.twiml!;
      assert.ok(told.includes(`<Say>${NO_AGENT_CALLBACK.replace(/'/g, '&apos;')}</Say><Hangup/>`), told); // prettier-ignore
      const result: CallbackResult = await env.client.workflow
        .getHandle(callbackWorkflowId(callSid))
        .result();
      assert.ok(twilioApi.calls.get(result.callbackSid));
      assert.equal(made(callSid, since).hangUps, 1);
      assert.equal(made(callSid, since).agentLegs, 1);
    });
  });

  it('the dial webhook refuses a request Twilio did not sign', async () => {
    const forged = await signedPost(
      edge,
      { authToken: 'not-the-token', publicUrl: PUBLIC_URL },
      '/v1/calls/dial-status',
      { CallSid: `CA${'1'.repeat(32)}`, DialCallStatus: 'no-answer' },
    );
    assert.equal(forged.statusCode, 403);
  });

  it('the transfer fails for good (Twilio no longer has the call): a callback is scheduled', async () => {
    const call = await startCall(env.client, { config: callConfig }); // never live at Twilio
    await call.bridge.streamStarted();
    await call.bridge.utterance('I want to talk to an agent');
    await call.handle.result();
    const callback = env.client.workflow.getHandle(callbackWorkflowId(call.callSid));
    const result: CallbackResult = await callback.result();
    assert.ok(twilioApi.calls.get(result.callbackSid));
    assert.equal(twilioApi.redirects(call.callSid).length, 1, 'a final error is not retried');
    assert.equal(lookedForDial(call.callSid), 0);
  });
});
