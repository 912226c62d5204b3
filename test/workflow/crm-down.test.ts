// The CRM (the real PostgreSQL) away: the call goes on, the call log is queued and written
// once when the CRM is back; a call log the CRM refuses for good ends the call cleanly.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import {
  callWorker,
  maybeRecordHistory,
  postCallResult,
  postCallWorker,
  startCall,
} from '../../testing/calls';
import { localEnv, resetDb } from '../../testing/platform';
import { postCallWorkflowId } from '../../contracts/post-call';

describe('CRM down: the call goes on, the call log is queued', function () {
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];
  let db: Pool;

  before(async () => {
    env = await localEnv();
    workers = [await callWorker(env), await postCallWorker(env)];
    running = workers.map((w) => w.run());
  });
  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
  });
  beforeEach(async () => {
    db = await resetDb();
  });

  it('CRM up: the caller is identified and the call log is written at hang-up', async () => {
    const { bridge, handle, callSid } = await startCall(env.client);
    assert.match((await bridge.streamStarted()).text, /^Hello Ada/);
    await bridge.utterance('goodbye');
    const result = await handle.result();
    assert.ok(result.callLogId);
    await postCallResult(env.client, callSid);
    const rows = await db.query('SELECT count(*) FROM call_logs WHERE call_sid = $1', [callSid]);
    assert.equal(Number(rows.rows[0].count), 1);
    // Recorded before CRM-down handling: identify, the call log and the post-call workflow.
    await maybeRecordHistory(env, handle.workflowId, 'crm-up-call-log');
    await maybeRecordHistory(env, postCallWorkflowId(callSid), 'post-call-before-pending-log');
  });
});
