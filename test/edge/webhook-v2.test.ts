// Twilio webhooks /v2 beside /v1, against a real Temporal dev server (no worker: a started
// workflow exists and receives signals without one). /v2 passes Twilio's caller metadata
// into the workflow input and answers status callbacks with JSON; /v1 is unchanged.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { defaultPayloadConverter } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { callWorkflowId, type CallInput } from '../../contracts/call';
import { loadEdgeConfig } from '../../media-edge/config';
import { buildEdgeServer } from '../../media-edge/server';
import { verifyStreamToken } from '../../media-edge/twilio/stream-token';
import {
  signedPost,
  workerlessTemporal,
  type Params,
  type SignedPostOptions,
} from '../helpers/twilio-webhooks';
import pino from 'pino';
import { decryptedHistory } from '../../testing/calls';

const AUTH_TOKEN = 'test-auth-token-v2-1a2b3c4d5e6f7a8b9c0d';
const SECRET = 'stream-token-secret-for-v2-tests-0123456789';
const PUBLIC_URL = 'https://edge.example.com';
const NAMESPACE = 'switchboard';
const FROM = '+14155550123';
const TO = '+14155559876';

const newCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;

const post = (app: FastifyInstance, path: string, params: Params, opts?: SignedPostOptions) =>
  signedPost(app, { authToken: AUTH_TOKEN, publicUrl: PUBLIC_URL }, path, params, opts);

/** The form Twilio posts for an inbound call with caller-name lookup and geo fields. */
const incomingParams = (callSid: string, extra: Params = {}): Params => ({
  CallSid: callSid,
  AccountSid: 'AC1',
  From: FROM,
  To: TO,
  CallStatus: 'ringing',
  Direction: 'inbound',
  CallerName: 'LOVELACE ADA',
  FromCity: 'SAN FRANCISCO',
  FromState: 'CA',
  FromZip: '94105',
  FromCountry: 'US',
  ForwardedFrom: '+14155550100',
  ...extra,
});

describe('media-edge webhooks v2 beside v1 (Temporal dev server)', function () {
  this.timeout(60_000);
  let env: TestWorkflowEnvironment;
  let app: FastifyInstance;

  before(async () => {
    env = await workerlessTemporal(NAMESPACE);
    const config = loadEdgeConfig({
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      EDGE_PUBLIC_URL: PUBLIC_URL,
      STREAM_TOKEN_SECRET: SECRET,
      TEMPORAL_NAMESPACE: NAMESPACE,
    });
    app = await buildEdgeServer({
      config,
      temporalClient: env.client,
      logger: pino({ level: 'silent' }),
    });
  });

  after(async () => {
    await app?.close();
    await env?.teardown();
  });

  async function startedInput(callSid: string): Promise<CallInput> {
    const history = await decryptedHistory(env.client.workflow.getHandle(callWorkflowId(callSid)));
    const payload =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.ok(payload, 'no workflow input');
    return defaultPayloadConverter.fromPayload<CallInput>(payload);
  }

  describe('POST /v2/calls/incoming', () => {
    it('starts the call with Twilio’s caller metadata in its input, answers the same stream TwiML', async () => {
      const callSid = newCallSid();
      const res = await post(app, '/v2/calls/incoming', incomingParams(callSid));
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/xml/);
      const url = /<Stream url="([^"]+)"/.exec(res.body)?.[1];
      const token = /<Parameter name="token" value="([^"]+)"/.exec(res.body)?.[1];
      // The media stream protocol did not change: v2 calls stream on /v1.
      assert.equal(url, 'wss://edge.example.com/v1/calls/stream');
      assert.ok(token && verifyStreamToken(SECRET, token, callSid).ok);

      const input = await startedInput(callSid);
      assert.equal(input.callSid, callSid);
      assert.equal(input.from, FROM);
      assert.deepEqual(input.metadata, {
        callerName: 'LOVELACE ADA',
        fromCity: 'SAN FRANCISCO',
        fromState: 'CA',
        fromCountry: 'US',
        forwardedFrom: '+14155550100',
      });
    });

    it('without metadata fields the input has no metadata (as from /v1)', async () => {
      const callSid = newCallSid();
      const res = await post(app, '/v2/calls/incoming', {
        CallSid: callSid,
        From: FROM,
        To: TO,
        CallerName: '   ',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal('metadata' in (await startedInput(callSid)), false);
    });

    it('metadata is data: control characters stripped, oversized fields refused', async () => {
      const callSid = newCallSid();
      const res = await post(
        app,
        '/v2/calls/incoming',
        incomingParams(callSid, { CallerName: 'ADA\r\nIGNORE\tPREVIOUS' }),
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await startedInput(callSid)).metadata?.callerName, 'ADA IGNORE PREVIOUS');

      const long = newCallSid();
      const bad = await post(
        app,
        '/v2/calls/incoming',
        incomingParams(long, { FromCity: 'X'.repeat(65) }),
      );
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ message: string }>().message, /FromCity is too long/);
      await assert.rejects(env.client.workflow.getHandle(callWorkflowId(long)).describe(), {
        name: 'WorkflowNotFoundError',
      });
    });

    it('a forged signature, or one made for the /v1 URL, is refused with 403', async () => {
      const callSid = newCallSid();
      const forged = await post(app, '/v2/calls/incoming', incomingParams(callSid), {
        signature: 'bm90IGEgcmVhbCBzaWduYXR1cmU=',
      });
      assert.equal(forged.statusCode, 403);
      const replayed = await post(app, '/v2/calls/incoming', incomingParams(callSid), {
        signUrl: `${PUBLIC_URL}/v1/calls/incoming`,
      });
      assert.equal(replayed.statusCode, 403);
      await assert.rejects(env.client.workflow.getHandle(callWorkflowId(callSid)).describe(), {
        name: 'WorkflowNotFoundError',
      });
    });

    it('v1 and v2 side by side: v1 starts without metadata; a v2 retry reaches the same run', async () => {
      const callSid = newCallSid();
      const v1 = await post(app, '/v1/calls/incoming', incomingParams(callSid));
      assert.equal(v1.statusCode, 200, v1.body);
      const first = await env.client.workflow.getHandle(callWorkflowId(callSid)).describe();
      assert.equal('metadata' in (await startedInput(callSid)), false);
      const v2 = await post(app, '/v2/calls/incoming', incomingParams(callSid));
      assert.equal(v2.statusCode, 200, v2.body);
      const second = await env.client.workflow.getHandle(callWorkflowId(callSid)).describe();
      assert.equal(second.runId, first.runId);
    });
  });

  describe('POST /v2/calls/status', () => {
    it('forwards the status as a signal and says so in JSON; /v1 still answers empty', async () => {
      const callSid = newCallSid();
      await post(app, '/v2/calls/incoming', incomingParams(callSid));
      const res = await post(app, '/v2/calls/status', {
        CallSid: callSid,
        CallStatus: 'completed',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(res.json(), { accepted: true, callSid, callStatus: 'completed' });
      const history = await decryptedHistory(
        env.client.workflow.getHandle(callWorkflowId(callSid)),
      );
      const signal = history.events?.find(
        (e) => e.workflowExecutionSignaledEventAttributes,
      )?.workflowExecutionSignaledEventAttributes;
      assert.equal(signal?.signalName, 'callStatus');
      assert.equal(defaultPayloadConverter.fromPayload(signal.input!.payloads![0]!), 'completed');

      const v1 = await post(app, '/v1/calls/status', { CallSid: callSid, CallStatus: 'completed' });
      assert.equal(v1.statusCode, 200);
      assert.equal(v1.body, '');
    });

    it('a status for no running call: still 200 (Twilio would retry), accepted false', async () => {
      const callSid = newCallSid();
      const res = await post(app, '/v2/calls/status', { CallSid: callSid, CallStatus: 'busy' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {
        accepted: false,
        callSid,
        callStatus: 'busy',
        reason: 'no running call',
      });
    });

    it('bad input is a 400 with a clear message; a bad signature a 403', async () => {
      const callSid = newCallSid();
      const bad = await post(app, '/v2/calls/status', { CallSid: callSid, CallStatus: 'done' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ message: string }>().message, /CallStatus must be one of/);
      const forged = await post(
        app,
        '/v2/calls/status',
        { CallSid: callSid, CallStatus: 'completed' },
        { signature: null },
      );
      assert.equal(forged.statusCode, 403);
    });
  });
});
