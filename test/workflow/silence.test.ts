// No-input timeouts on the time-skipping test server: minutes of silence in milliseconds.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createEdgeActivities } from '../../activities/edge-activities';
import { PROMPTS } from '../../workflows/call-state';
import { stateQuery, transcriptQuery } from '../../contracts/call';
import {
  callWorker,
  maybeRecordHistory,
  postCallResult,
  postCallWorker,
  startCall,
} from '../../testing/calls';
import { freshTimeSkippingEnv, resetDb } from '../../testing/platform';

describe('silence on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  beforeEach(async () => {
    env = await freshTimeSkippingEnv();
    await resetDb();
  });
  afterEach(() => env?.teardown());

  it('re-prompts once after the no-input timeout, then ends the call politely', async () => {
    const worker = await callWorker(env);
    const post = await postCallWorker(env);
    await post.runUntil(
      worker.runUntil(async () => {
        const { handle } = await startCall(env.client, { config: { noInputTimeoutMs: 60_000 } });
        const result = await handle.result();
        assert.equal(result.disposition, 'abandoned');
        assert.ok(result.durationMs >= 120_000, `duration ${result.durationMs}`);
        const agent = (await handle.query(transcriptQuery)).filter((e) => e.speaker === 'agent');
        assert.deepEqual(
          agent.map((e) => [e.reason, e.text]),
          [
            ['greeting', 'Hello Ada, thanks for calling. How can I help you today?'],
            ['no_input', PROMPTS.stillThere],
            ['end', PROMPTS.silentEnd],
          ],
        );
        await maybeRecordHistory(env, handle.workflowId, 'silence-timeout');
      }),
    );
  });

  it('speech after the re-prompt resets the count', async () => {
    const worker = await callWorker(env);
    const post = await postCallWorker(env);
    await post.runUntil(
      worker.runUntil(async () => {
        const { handle, bridge, callSid } = await startCall(env.client, {
          config: { noInputTimeoutMs: 30_000 },
        });
        await env.sleep(45_000);
        assert.equal((await handle.query(stateQuery)).state.silences, 1);
        await bridge.utterance("what's my balance");
        assert.equal((await handle.query(stateQuery)).state.silences, 0);
        const result = await handle.result();
        assert.equal(result.disposition, 'abandoned');
        assert.deepEqual(result.intentPath, ['check_balance']);
        await postCallResult(env.client, callSid);
      }),
    );
  });
});

describe('silence on a call whose audio is on an edge host', () => {
  interface Spoken {
    callSid: string;
    text: string;
    hungUp: boolean;
  }

  /** A time-skipping call worker and an edge host that notes what it is told to say. */
  async function withEdgeHost(
    body: (edge: {
      env: TestWorkflowEnvironment;
      queue: string;
      spoken: Spoken[];
    }) => Promise<void>,
  ): Promise<void> {
    const env = await freshTimeSkippingEnv();
    after(() => env.teardown());
    await resetDb();
    const spoken: Spoken[] = [];
    const queue = `media-edge.test-${Date.now()}`;
    const edge = await Worker.create({
      connection: env.nativeConnection,
      dataConverter: env.client.options.dataConverter,
      namespace: env.namespace ?? 'default',
      taskQueue: queue,
      activities: createEdgeActivities({
        speak: async (callSid, text) => {
          spoken.push({ callSid, text, hungUp: false });
          return true;
        },
        hangUp: async () => void (spoken[spoken.length - 1]!.hungUp = true),
        openLine: () => {
          throw new Error('no answers in this test');
        },
      }),
    });
    const worker = await callWorker(env);
    const post = await postCallWorker(env);
    await post.runUntil(edge.runUntil(worker.runUntil(() => body({ env, queue, spoken }))));
  }

  it('the edge host is told to say each re-prompt, and to hang up after the last', () =>
    withEdgeHost(async ({ env, queue, spoken }) => {
      const { handle, bridge, callSid } = await startCall(env.client, {
        config: { noInputTimeoutMs: 60_000 },
      });
      await bridge.streamStarted({ streamSid: 'MZ1', edgeTaskQueue: queue });
      assert.equal((await handle.result()).disposition, 'abandoned');
      await postCallResult(env.client, callSid);
      assert.deepEqual(spoken, [
        { callSid, text: PROMPTS.stillThere, hungUp: false },
        { callSid, text: PROMPTS.silentEnd, hungUp: true },
      ]);
      await maybeRecordHistory(env, handle.workflowId, 'silence-prompts-spoken-by-edge');
    }));

  it('silence counts from the greeting as played, however late the stream connects', () =>
    withEdgeHost(async ({ env, queue, spoken }) => {
      const { handle, bridge, callSid } = await startCall(env.client, {
        config: { noInputTimeoutMs: 60_000 },
      });
      // The caller's audio connects 20 s after the call began (the workflow was waiting).
      await env.sleep(20_000);
      const greeting = await bridge.streamStarted({ streamSid: 'MZ1', edgeTaskQueue: queue });
      // 60 s after the call began, 40 s after the greeting: too soon to ask.
      await env.sleep(45_000);
      const early = spoken.map((s) => s.text);
      // The greeting's length and 60 s of silence after it have passed.
      const greetingMs = greeting.text.split(/\s+/).length * 350;
      await env.sleep(greetingMs + 20_000);
      const due = spoken.map((s) => s.text);
      await handle.result();
      await postCallResult(env.client, callSid);
      assert.deepEqual(early, [], 'nothing said 45 s after the greeting began');
      assert.deepEqual(due, [PROMPTS.stillThere]);
    }));
});
