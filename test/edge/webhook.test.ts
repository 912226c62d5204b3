// Twilio webhooks against a real Temporal dev server. No worker runs: a started workflow
// exists (and receives signals into its history) without one, so these tests do not
// depend on the workflow code.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import twilio from 'twilio';
import type { FastifyInstance } from 'fastify';
import { defaultPayloadConverter, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  CALLER_MEMO,
  SA_CALLER_NUMBER,
  callWorkflowId,
  type CallInput,
} from '../../contracts/call';
import { callerNumberIndex, callerNumberQuery } from '../../infra/caller-index';
import { loadEdgeConfig, type EdgeConfig } from '../../media-edge/config';
import { buildEdgeServer } from '../../media-edge/server';
import { issueStreamToken, verifyStreamToken } from '../../media-edge/twilio/stream-token';
import { maskPhone } from '../../media-edge/twilio/webhooks-v1';
import {
  signedPost,
  workerlessTemporal,
  type Params,
  type SignedPostOptions as PostOptions,
} from '../helpers/twilio-webhooks';
import { linesSink } from '../../testing/log-sink';
import { decryptedHistory } from '../../testing/calls';

const AUTH_TOKEN = 'test-auth-token-9f8e7d6c5b4a39281706';
const SECRET = 'stream-token-secret-for-tests-only-0123456789';
const PUBLIC_URL = 'https://edge.example.com';
const NAMESPACE = 'switchboard';
const FROM = '+14155550123';
const TO = '+14155559876';

const newCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const post = (app: FastifyInstance, path: string, params: Params, opts?: PostOptions) =>
  signedPost(app, { authToken: AUTH_TOKEN, publicUrl: PUBLIC_URL }, path, params, opts);

const incoming = (app: FastifyInstance, callSid: string, opts?: PostOptions) =>
  post(
    app,
    '/v1/calls/incoming',
    { CallSid: callSid, From: FROM, To: TO, AccountSid: 'AC1' },
    opts,
  );

const status = (app: FastifyInstance, callSid: string, callStatus: string, opts?: PostOptions) =>
  post(app, '/v1/calls/status', { CallSid: callSid, CallStatus: callStatus }, opts);

function streamParams(twiml: string): { url: string; token: string; callSid: string } {
  const url = /<Stream url="([^"]+)"/.exec(twiml)?.[1];
  const token = /<Parameter name="token" value="([^"]+)"/.exec(twiml)?.[1];
  const callSid = /<Parameter name="callSid" value="([^"]+)"/.exec(twiml)?.[1];
  assert.ok(url && token && callSid, `no Stream with token and callSid in: ${twiml}`);
  return { url, token, callSid };
}

/** Executions (all runs, open or closed) with this workflow id, via visibility. */
async function countExecutions(client: Client, workflowId: string): Promise<number> {
  const { count } = await client.workflow.count(`WorkflowId = "${workflowId}"`);
  return count;
}

/** Visibility is eventually consistent: wait for the first, then make sure no second shows. */
async function assertExactlyOneExecution(client: Client, workflowId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await countExecutions(client, workflowId)) === 0 && Date.now() < deadline) {
    await sleep(100);
  }
  await sleep(500);
  assert.equal(await countExecutions(client, workflowId), 1);
}

describe('media-edge webhooks v1 (Temporal dev server)', function () {
  this.timeout(60_000);

  let env: TestWorkflowEnvironment;
  let app: FastifyInstance;
  let config: EdgeConfig;
  const logLines: string[] = [];
  const issuedTokens: string[] = [];

  before(async () => {
    env = await workerlessTemporal(NAMESPACE);
    config = loadEdgeConfig({
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      EDGE_PUBLIC_URL: PUBLIC_URL,
      STREAM_TOKEN_SECRET: SECRET,
      TEMPORAL_NAMESPACE: NAMESPACE,
      CALL_CONFIDENCE_THRESHOLD: '0.6',
    });
    const sink = linesSink(logLines);
    app = await buildEdgeServer({
      config,
      temporalClient: env.client,
      logger: pino({ level: 'debug' }, sink),
    });
  });

  after(async () => {
    await app?.close();
    await env?.teardown();
  });

  describe('POST /v1/calls/incoming', () => {
    it('starts the call workflow and answers <Connect><Stream> with a verifiable token', async () => {
      const callSid = newCallSid();
      const res = await incoming(app, callSid);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/xml/);
      assert.match(res.body, /<Response><Connect><Stream /);

      const stream = streamParams(res.body);
      issuedTokens.push(stream.token);
      assert.equal(stream.url, 'wss://edge.example.com/v1/calls/stream');
      assert.equal(stream.callSid, callSid);
      assert.deepEqual(verifyStreamToken(SECRET, stream.token, callSid).ok, true);

      const handle = env.client.workflow.getHandle(callWorkflowId(callSid));
      const description = await handle.describe();
      assert.equal(description.type, 'callWorkflow');
      assert.equal(description.taskQueue, 'switchboard-calls');
      // Found by number through its keyed index (under every key); the number itself only in
      // the encrypted memo.
      const index = description.typedSearchAttributes.get(SA_CALLER_NUMBER);
      assert.equal(index, callerNumberIndex(FROM));
      assert.ok(!index?.includes(FROM.slice(2)), index);
      assert.equal(description.memo?.[CALLER_MEMO], FROM);
      const memoBytes = description.raw.workflowExecutionInfo?.memo?.fields?.[CALLER_MEMO]?.data;
      assert.ok(
        !Buffer.from(memoBytes ?? [])
          .toString('latin1')
          .includes(FROM),
        'memo in clear',
      );
      const found: string[] = [];
      const query = `${callerNumberQuery(FROM)} AND WorkflowId = '${callWorkflowId(callSid)}'`;
      for (let i = 0; i < 50 && !found.length; i++) {
        for await (const info of env.client.workflow.list({ query })) found.push(info.workflowId);
        if (!found.length) await new Promise((r) => setTimeout(r, 200)); // the index catches up
      }
      assert.deepEqual(found, [callWorkflowId(callSid)]);

      const history = await decryptedHistory(handle);
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const payload = started?.input?.payloads?.[0];
      assert.ok(payload);
      const input = defaultPayloadConverter.fromPayload<CallInput>(payload);
      assert.deepEqual(input, {
        callSid,
        from: FROM,
        to: TO,
        config: {
          confidenceThreshold: 0.6,
          paymentConfirmThreshold: 0.9,
          noInputTimeoutMs: 10_000,
          recordingWaitMs: 30_000,
          transferRingTimeoutInS: 30,
          callbackDelayMs: 300_000,
        },
      });
    });

    it('rejects a forged signature with 403 and starts nothing', async () => {
      const callSid = newCallSid();
      const res = await incoming(app, callSid, { signature: 'bm90IGEgcmVhbCBzaWduYXR1cmU=' });
      assert.equal(res.statusCode, 403);
      const handle = env.client.workflow.getHandle(callWorkflowId(callSid));
      await assert.rejects(handle.describe(), { name: 'WorkflowNotFoundError' });
    });

    it('rejects a missing signature with 403', async () => {
      const res = await incoming(app, newCallSid(), { signature: null });
      assert.equal(res.statusCode, 403);
    });

    it('rejects a signature made for a different URL with 403', async () => {
      const res = await incoming(app, newCallSid(), {
        signUrl: 'https://attacker.example.com/v1/calls/incoming',
      });
      assert.equal(res.statusCode, 403);
    });

    it('rejects a signature over different form fields with 403', async () => {
      const callSid = newCallSid();
      const signature = twilio.getExpectedTwilioSignature(
        AUTH_TOKEN,
        `${PUBLIC_URL}/v1/calls/incoming`,
        { CallSid: callSid, From: '+15550000000', To: TO },
      );
      const res = await incoming(app, callSid, { signature });
      assert.equal(res.statusCode, 403);
    });

    it('answers 400 with a clear message when CallSid is missing or malformed', async () => {
      const missing = await post(app, '/v1/calls/incoming', { From: FROM, To: TO });
      assert.equal(missing.statusCode, 400);
      assert.match(missing.json<{ message: string }>().message, /CallSid is required/);

      const bad = await post(app, '/v1/calls/incoming', { CallSid: 'nope', From: FROM, To: TO });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ message: string }>().message, /CallSid must be "CA"/);
    });

    it('reaches the same run for a repeated webhook, sequential and concurrent', async () => {
      const callSid = newCallSid();
      const first = await incoming(app, callSid);
      assert.equal(first.statusCode, 200);
      const again = await incoming(app, callSid);
      assert.equal(again.statusCode, 200);
      assert.match(again.body, /<Connect><Stream /);
      await assertExactlyOneExecution(env.client, callWorkflowId(callSid));

      const concurrentSid = newCallSid();
      const all = await Promise.all(Array.from({ length: 8 }, () => incoming(app, concurrentSid)));
      for (const res of all) {
        assert.equal(res.statusCode, 200, res.body);
        assert.match(res.body, /<Connect><Stream /);
      }
      await assertExactlyOneExecution(env.client, callWorkflowId(concurrentSid));
    });

    it('never starts a finished call again: answers a silent hang-up', async () => {
      const callSid = newCallSid();
      assert.equal((await incoming(app, callSid)).statusCode, 200);
      await env.client.workflow.getHandle(callWorkflowId(callSid)).terminate('test: call over');

      const res = await incoming(app, callSid);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/xml/);
      assert.match(res.body, /<Response><Hangup\/><\/Response>/);
      assert.doesNotMatch(res.body, /Say|Stream/);
      await assertExactlyOneExecution(env.client, callWorkflowId(callSid));
    });
  });

  describe('POST /v1/calls/status', () => {
    it('forwards the call status to the workflow as the callStatus signal', async () => {
      const callSid = newCallSid();
      assert.equal((await incoming(app, callSid)).statusCode, 200);
      const res = await status(app, callSid, 'completed');
      assert.equal(res.statusCode, 200, res.body);

      const history = await decryptedHistory(
        env.client.workflow.getHandle(callWorkflowId(callSid)),
      );
      const signals = (history.events ?? [])
        .map((e) => e.workflowExecutionSignaledEventAttributes)
        .filter((a) => a?.signalName === 'callStatus');
      assert.equal(signals.length, 1);
      const payload = signals[0]?.input?.payloads?.[0];
      assert.ok(payload);
      assert.equal(defaultPayloadConverter.fromPayload(payload), 'completed');
    });

    it('answers 200 for an unknown call and for a call whose workflow is closed', async () => {
      assert.equal((await status(app, newCallSid(), 'busy')).statusCode, 200);

      const callSid = newCallSid();
      assert.equal((await incoming(app, callSid)).statusCode, 200);
      await env.client.workflow.getHandle(callWorkflowId(callSid)).terminate('test: call over');
      assert.equal((await status(app, callSid, 'no-answer')).statusCode, 200);
    });

    it('answers 400 for an unknown CallStatus and 403 without a signature', async () => {
      const bad = await status(app, newCallSid(), 'exploded');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ message: string }>().message, /CallStatus must be one of/);
      assert.equal(
        (await status(app, newCallSid(), 'completed', { signature: null })).statusCode,
        403,
      );
    });
  });

  // Root-level its run before nested describes in mocha; this one must run last.
  describe('health and logs', () => {
    it('GET /healthz answers 200', async () => {
      const res = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 200);
    });

    it('never logs the auth token, stream tokens or full phone numbers', () => {
      const logs = logLines.join('');
      assert.ok(logs.includes(maskPhone(FROM)), 'expected masked caller numbers in the logs');
      assert.ok(!logs.includes(AUTH_TOKEN));
      assert.ok(!logs.includes(SECRET));
      assert.ok(!logs.includes(FROM.slice(1)), 'full caller number in logs');
      assert.ok(!logs.includes(TO.slice(1)), 'full called number in logs');
      assert.ok(issuedTokens.length > 0);
      for (const token of issuedTokens) assert.ok(!logs.includes(token), 'stream token in logs');
    });
  });
});

describe('stream token', () => {
  const now = 1_700_000_000_000;
  const callSid = newCallSid();

  it('verifies a fresh token for its call', () => {
    const token = issueStreamToken(SECRET, callSid, 60_000, now);
    assert.deepEqual(verifyStreamToken(SECRET, token, callSid, now + 59_999), {
      ok: true,
      expiresAtMs: now + 60_000,
    });
  });

  it('rejects an expired token', () => {
    const token = issueStreamToken(SECRET, callSid, 60_000, now);
    assert.deepEqual(verifyStreamToken(SECRET, token, callSid, now + 60_000), {
      ok: false,
      reason: 'expired',
    });
  });

  it('rejects a tampered token or one signed with another secret', () => {
    const token = issueStreamToken(SECRET, callSid, 60_000, now);
    const [payload, sig] = token.split('.') as [string, string];
    // Extend the expiry without re-signing.
    const longer = Buffer.from(`${callSid}.${now + 3_600_000}`).toString('base64url');
    assert.deepEqual(verifyStreamToken(SECRET, `${longer}.${sig}`, callSid, now), {
      ok: false,
      reason: 'bad_signature',
    });
    const flipped = `${payload}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    assert.equal(verifyStreamToken(SECRET, flipped, callSid, now).ok, false);
    const other = issueStreamToken('x'.repeat(40), callSid, 60_000, now);
    assert.deepEqual(verifyStreamToken(SECRET, other, callSid, now), {
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a valid token presented for another call', () => {
    const token = issueStreamToken(SECRET, callSid, 60_000, now);
    assert.deepEqual(verifyStreamToken(SECRET, token, newCallSid(), now), {
      ok: false,
      reason: 'wrong_call',
    });
  });

  it('rejects malformed tokens', () => {
    for (const token of [
      '',
      'abc',
      'a.b.c',
      'a b.c',
      `${Buffer.from('nodot').toString('base64url')}.AAAA`,
    ]) {
      assert.deepEqual(verifyStreamToken(SECRET, token, callSid, now), {
        ok: false,
        reason: 'malformed',
      });
    }
  });
});

describe('edge config', () => {
  const base = {
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    EDGE_PUBLIC_URL: 'https://edge.example.com/',
    STREAM_TOKEN_SECRET: SECRET,
  };

  it('applies defaults and derives the host task queue', () => {
    const c = loadEdgeConfig({ ...base, EDGE_HOST_ID: 'edge-1' });
    assert.equal(c.publicUrl, 'https://edge.example.com');
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.hostTaskQueue, 'media-edge.edge-1');
    assert.deepEqual(c.temporal, { address: '127.0.0.1:7233', namespace: 'switchboard' });
    assert.deepEqual(c.call, {
      confidenceThreshold: 0.5,
      paymentConfirmThreshold: 0.9,
      noInputTimeoutMs: 10_000,
      recordingWaitMs: 30_000,
      transferRingTimeoutInS: 30,
      callbackDelayMs: 300_000,
    });
    const strict = loadEdgeConfig({ ...base, CALL_PAYMENT_CONFIRM_CONFIDENCE: '0.95' });
    assert.equal(strict.call.paymentConfirmThreshold, 0.95);
    assert.throws(() => loadEdgeConfig({ ...base, CALL_PAYMENT_CONFIRM_CONFIDENCE: '95' }), /CALL_PAYMENT_CONFIRM_CONFIDENCE/); // prettier-ignore
  });

  it('HANDOFF_TARGET=desk sends transfers to the agent desk, with its answer bound', () => {
    const c = loadEdgeConfig({ ...base, HANDOFF_TARGET: 'desk', DESK_ANSWER_TIMEOUT_MS: '45000' });
    assert.equal(c.call.handoffTarget, 'desk');
    assert.equal(c.call.deskAnswerTimeoutMs, 45_000);
    assert.equal(loadEdgeConfig({ ...base, HANDOFF_TARGET: 'desk' }).call.deskAnswerTimeoutMs, 60_000); // prettier-ignore
    assert.throws(() => loadEdgeConfig({ ...base, HANDOFF_TARGET: 'pbx' }), /HANDOFF_TARGET/);
  });

  it('an agent queue number turns on the hand-off, with the dial webhook on the public URL', () => {
    const c = loadEdgeConfig({ ...base, AGENT_QUEUE_NUMBER: '+15550002222' });
    assert.equal(c.call.agentQueueNumber, '+15550002222');
    assert.equal(c.call.dialStatusUrl, 'https://edge.example.com/v1/calls/dial-status');
    assert.equal(c.call.transferMode, 'cold');
    assert.equal(c.call.agentStatusUrl, 'https://edge.example.com/v1/calls/agent-status');
    const warm = loadEdgeConfig({ ...base, AGENT_QUEUE_NUMBER: 'sip:agents@pbx.example.com', CALL_TRANSFER_MODE: 'warm' }); // prettier-ignore
    assert.equal(warm.call.transferMode, 'warm');
    assert.throws(
      () => loadEdgeConfig({ ...base, AGENT_QUEUE_NUMBER: '555-2222' }),
      /AGENT_QUEUE_NUMBER must be E\.164/,
    );
  });

  it('names missing or bad variables without echoing secret values', () => {
    assert.throws(
      () => loadEdgeConfig({ ...base, TWILIO_AUTH_TOKEN: '' }),
      /TWILIO_AUTH_TOKEN is required/,
    );
    assert.throws(
      () => loadEdgeConfig({ ...base, EDGE_PUBLIC_URL: undefined }),
      /EDGE_PUBLIC_URL is required/,
    );
    assert.throws(
      () => loadEdgeConfig({ ...base, EDGE_PUBLIC_URL: 'ftp://x' }),
      /EDGE_PUBLIC_URL must be/,
    );
    assert.throws(
      () => loadEdgeConfig({ ...base, STREAM_TOKEN_SECRET: 'short-secret-value' }),
      (err: Error) =>
        /STREAM_TOKEN_SECRET must be at least 32 characters/.test(err.message) &&
        !err.message.includes('short-secret-value'),
    );
    assert.throws(() => loadEdgeConfig({ ...base, EDGE_PORT: 'http' }), /EDGE_PORT/);
  });
});
