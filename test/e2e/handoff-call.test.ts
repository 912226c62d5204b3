// The hand-off on a real audio call through the edge: with an agent queue configured the
// edge keeps the line after "Connecting you to an agent now" (before, it hung up there).
// This stack's call worker has no Twilio credentials, so the transfer fails for good: the
// workflow has the edge — still holding the call — tell the caller no agent is free and
// hang up, and schedules the callback.
import assert from 'node:assert/strict';
import { callbackWorkflowId, NO_AGENT_CALLBACK } from '../../contracts/call';
import { PROMPTS } from '../../workflows/call-state';
import { decryptedHistory, historyPayloadText } from '../../testing/calls';
import { callStack, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { localEnv, resetDb } from '../../testing/platform';

describe('hand-off on an audio call (real edge, transfer refused)', function () {
  this.timeout(180_000);
  let stack: EdgeStack;

  before(async () => {
    await resetDb();
    stack = await startEdgeStack({
      env: {
        AGENT_QUEUE_NUMBER: '+15550002222',
        // Long enough that the callback waits quietly for the test to end it.
        CALL_CALLBACK_DELAY_MS: '3600000',
        TTS_CACHE_NAMESPACE: `tts-handoff-${process.pid}`,
      },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it('the edge holds the line after the transfer line; the caller hears why and the call ends', async () => {
    const report = await callStack(
      stack,
      [
        { kind: 'say', text: 'I want to talk to an agent' },
        // On hold: the caller waits (in audio time) for what comes next.
        { kind: 'pause', ms: 40_000 },
      ],
      {
        pace: 2,
      },
    );
    const { client } = await localEnv();
    const handle = client.workflow.getHandle(report.workflowId);
    const result = await handle.result();
    assert.equal(result.disposition, 'transferred');
    const payloads = await historyPayloadText(handle);
    assert.ok(payloads.includes(PROMPTS.agent), 'the transfer line was the reply');
    // The edge said the no-agent line after the transfer line: the session was still there.
    assert.ok(payloads.includes(NO_AGENT_CALLBACK), 'the no-agent line was asked for');
    const events = (await decryptedHistory(handle)).events ?? [];
    const outcome = (type: string) => {
      const scheduled = events.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type,
      );
      assert.ok(scheduled, `${type} was scheduled`);
      const id = String(scheduled.eventId);
      const ended = events.find(
        (e) =>
          String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id ||
          String(e.activityTaskFailedEventAttributes?.scheduledEventId) === id,
      );
      return ended?.activityTaskCompletedEventAttributes ? 'completed' : 'failed';
    };
    assert.equal(outcome('transferCall'), 'failed', 'no Twilio credentials on this worker');
    assert.equal(outcome('speakOnCall'), 'completed', 'the edge still held the call');
    assert.equal(report.endedBy, 'edge', 'the edge hung up after saying why');
    const callback = client.workflow.getHandle(callbackWorkflowId(report.callSid));
    assert.equal((await callback.describe()).status.name, 'RUNNING');
    await callback.terminate('test over');
  });
});
