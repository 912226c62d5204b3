// The suite's isolation between test files: one dev server is shared, and every file's call
// worker polls the same task queue, so a workflow a file leaves running (a post-call workflow
// retrying an owed text) would run on the next file's worker, against its stand-ins.
import assert from 'node:assert/strict';
import { CALL_TASK_QUEUE } from '../../contracts/call';
import { endLeftoverWorkflows, localEnv } from '../../testing/platform';

describe('workflows a test file left running', function () {
  this.timeout(60_000);

  it('are ended and named, so no later file runs them', async () => {
    const { client } = await localEnv();
    const handle = await client.workflow.start('postCallWorkflow', {
      taskQueue: CALL_TASK_QUEUE,
      workflowId: `leftover-${process.pid}-${Date.now()}`,
      args: [],
    });
    const ended = await endLeftoverWorkflows();
    assert.ok(ended.includes(`postCallWorkflow ${handle.workflowId}`), ended.join(', '));
    assert.equal((await handle.describe()).status.name, 'TERMINATED');
    assert.deepEqual(await endLeftoverWorkflows(), [], 'nothing is left after');
  });
});
