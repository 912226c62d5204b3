// speakOnCall resolves once its line has played, however long, heartbeating meanwhile; a
// retry of the same request (same activity, a later attempt) waits for the line the first
// try is saying instead of saying it again — the caller hears a re-prompt once.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEdgeActivities, type CallAudio } from '../../activities/edge-activities';

class SlowLine implements CallAudio {
  said: string[] = [];
  failNext = false;
  constructor(private readonly playMs: number) {}

  async speak(_callSid: string, text: string): Promise<boolean> {
    this.said.push(text);
    await new Promise((r) => setTimeout(r, this.playMs));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('call not on this host');
    }
    return true;
  }

  async hangUp(): Promise<void> {}

  openLine(): never {
    throw new Error('no answer is spoken here');
  }
}

const req = { callSid: 'CA1', text: 'Are you still there?', hangUpAfter: false, reprompt: true };
const run = { workflowId: 'call-CA1', runId: 'r1' };
const attempt = (activityId: string, n: number) =>
  new MockActivityEnvironment({ activityId, attempt: n, workflowExecution: run });

const edge = (line: SlowLine) => createEdgeActivities(line);

describe('edge activities: speakOnCall', () => {
  it('a retry while the first try is still speaking waits for it: the line is said once', async () => {
    const line = new SlowLine(300);
    const activities = edge(line);
    const first = attempt('7', 1).run(() => activities.speakOnCall(req));
    await new Promise((r) => setTimeout(r, 100));
    const retry = attempt('7', 2).run(() => activities.speakOnCall(req));
    assert.deepEqual(await Promise.all([first, retry]), [{ said: true }, { said: true }]);
    // A retry after the first try finished (its result lost) is answered from it too.
    assert.deepEqual(await attempt('7', 3).run(() => activities.speakOnCall(req)), { said: true });
    assert.deepEqual(line.said, [req.text]);
    // Another request (another activity) is another line.
    await attempt('8', 1).run(() => activities.speakOnCall(req));
    assert.deepEqual(line.said, [req.text, req.text]);
  });

  it('a failed try is tried afresh', async () => {
    const line = new SlowLine(10);
    line.failNext = true;
    const activities = edge(line);
    await assert.rejects(
      attempt('9', 1).run(() => activities.speakOnCall(req)),
      /not on this host/,
    );
    assert.deepEqual(await attempt('9', 2).run(() => activities.speakOnCall(req)), { said: true });
    assert.equal(line.said.length, 2);
  });

  it('heartbeats while a long line plays', async () => {
    const env = attempt('10', 1);
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await env.run(() => edge(new SlowLine(2_200)).speakOnCall(req));
    assert.ok(beats >= 2, `${beats} heartbeats in 2.2 s`);
  });
});
