// The texts a call owes: a line no synthesizer could say was replaced by the apology ("I'll
// send it to you by text message"); after the call the caller gets that line by SMS, once
// per turn, through the call worker's telephony (the fake, which keeps one message per
// idempotency key). Real Temporal dev server and PostgreSQL CRM.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { turnTimingSignal, type TurnTimingReport } from '../../contracts/call';
import type { PostCallResult } from '../../contracts/post-call';
import { FakeTelephony } from '../../providers/telephony/fake';
import { createCallWorker } from '../../workers/call-worker-factory';
import {
  maybeRecordHistory,
  postCallResult,
  postCallWorker,
  postgresTestDeps,
  startCall,
  testEvents,
} from '../../testing/calls';
import { localEnv, resetDb, workflowBundle } from '../../testing/platform';

/** The edge's report of a turn whose line was replaced by the apology. */
const apologised = (turnId: number): TurnTimingReport => ({
  turnId,
  endpointingMs: 0,
  asrMs: 0,
  orchestrationMs: 0,
  ttsMs: 0,
  firstFrameMs: 0,
  voiceToVoiceMs: 0,
  cacheHit: false,
  spokenAs: 'apology',
  smsFollowUp: true,
});

describe('texts owed after a call (smsFollowUp)', function () {
  let env: TestWorkflowEnvironment;
  let telephony: FakeTelephony;
  let workers: Worker[];
  let running: Promise<void>[];

  before(async () => {
    env = await localEnv();
    await resetDb();
    telephony = new FakeTelephony();
    workers = [
      await createCallWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        deps: await postgresTestDeps(),
        events: testEvents,
        telephony,
        workflowBundle: await workflowBundle(),
      }),
      await postCallWorker(env),
    ];
    running = workers.map((w) => w.run());
  });
  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
  });

  const texts = (workflowId: string) =>
    [...telephony.done]
      .filter(([key]) => key.startsWith(`${workflowId}:sms:followup:`))
      .map(([key, { request }]) => ({ key, request }));

  it('the apologised line reaches the caller by SMS once, the lines that were said do not', async () => {
    const { bridge, handle, callSid } = await startCall(env.client);
    await bridge.streamStarted();
    const balance = await bridge.utterance("what's my balance");
    // The edge could not say the balance, played the apology, and said so; a repeated
    // report of the same turn still owes one text.
    await handle.signal(turnTimingSignal, apologised(1));
    await handle.signal(turnTimingSignal, apologised(1));
    await bridge.utterance('goodbye');
    await handle.result();
    // Recorded before the texts were sent: a call that owes one (it must replay).
    await maybeRecordHistory(env, handle.workflowId, 'sms-follow-up-owed');
    const post: PostCallResult = await postCallResult(env.client, callSid);

    const sent = texts(handle.workflowId);
    assert.equal(sent.length, 1, JSON.stringify(sent));
    assert.equal(sent[0]!.key, `${handle.workflowId}:sms:followup:1`);
    assert.ok(sent[0]!.request.kind === 'sms');
    assert.deepEqual(
      { to: sent[0]!.request.req.to, from: sent[0]!.request.req.from },
      { to: '+15550100001', from: '+15550009999' },
    );
    assert.equal(sent[0]!.request.req.body, balance.text);
    assert.deepEqual(post.owedTexts, { sent: [1] });
  });

  it('a caller whose number cannot take a text gets none; the result says why', async () => {
    const { bridge, handle, callSid } = await startCall(env.client, { from: 'anonymous' });
    await bridge.streamStarted();
    // The greeting (turn 0) could not be said.
    await handle.signal(turnTimingSignal, apologised(0));
    await bridge.utterance('goodbye');
    await handle.result();
    const post: PostCallResult = await postCallResult(env.client, callSid);
    assert.equal(texts(handle.workflowId).length, 0);
    assert.deepEqual(post.owedTexts, { sent: [], notSent: 'number_not_callable' });
  });
});
