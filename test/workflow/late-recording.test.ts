// The late-recording workflow on a real dev server, with the CRM in memory: a recording whose
// call log does not exist yet (still queued while the CRM is away) waits for it and then lands
// on it once; a log that names another recording is never overwritten (NeedsReview). The
// analysis runs either way. The whole path through the edge, the object store down for real
// and Kafka is test/e2e/object-store-down.test.ts.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { SA_NEEDS_REVIEW } from '../../contracts/call';
import {
  lateAnalysisWorkflowId,
  POST_CALL_TASK_QUEUE,
  RECORDING_WORKFLOW_TYPE,
  recordingWorkflowId,
  type LateRecordingInput,
  type LateRecordingResult,
} from '../../contracts/post-call';
import { createRecordingActivities } from '../../activities/recording-activities';
import { FakeCrmClient, FakeCrmStore } from '../../providers/crm/fake';
import { DEMO_CUSTOMERS } from '../../providers/postgres/schema';
import { newCallSid, postCallWorker, testEvents } from '../../testing/calls';
import { localEnv } from '../../testing/platform';

const CRM_QUEUE = 'late-recording-crm';

describe('late recordings: recording-<CallSid>', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];
  const crm = new FakeCrmClient(new FakeCrmStore(DEMO_CUSTOMERS));
  let attaches = 0;

  before(async () => {
    env = await localEnv();
    const counted = createRecordingActivities({ crm });
    workers = [
      await Worker.create({
        connection: env.nativeConnection,
        dataConverter: env.client.options.dataConverter,
        namespace: env.namespace ?? 'default',
        taskQueue: CRM_QUEUE,
        activities: {
          attachRecording: (input: Parameters<typeof counted.attachRecording>[0]) => {
            attaches++;
            return counted.attachRecording(input);
          },
        },
      }),
      await postCallWorker(env),
    ];
    running = workers.map((w) => w.run());
  });
  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
  });

  /** call.analyzed events on the in-memory bus from that workflow. */
  const analyzedBy = (workflowId: string) =>
    (testEvents.topics.get(testEvents.topicOf('call.analyzed')) ?? [])
      .flat()
      .map((m) => JSON.parse(m.value?.toString('utf8') ?? '{}') as { workflow_id?: string })
      .filter((e) => e.workflow_id === workflowId);

  const start = (callSid: string) =>
    env.client.workflow.start(RECORDING_WORKFLOW_TYPE, {
      taskQueue: POST_CALL_TASK_QUEUE,
      workflowId: recordingWorkflowId(callSid),
      args: [
        {
          callSid,
          recordingKey: `recordings/${callSid}.wav`,
          crmTaskQueue: CRM_QUEUE,
        } satisfies LateRecordingInput,
      ],
    });

  const log = (callSid: string, recordingKey?: string) =>
    crm.writeCallLog(`call-${callSid}:call-log`, {
      callSid,
      customerId: 'cus_ada',
      callerNumber: '+15550100001',
      intentPath: ['check_balance', 'goodbye'],
      disposition: 'resolved',
      turns: 2,
      durationMs: 9_000,
      ...(recordingKey && { recordingKey }),
    });

  it('a call log still queued gets the key once it is written; the analysis follows once', async () => {
    const callSid = newCallSid();
    attaches = 0;
    const handle = await start(callSid);
    for (let i = 0; i < 200 && attaches === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(attaches > 0, 'the attach was tried before the log existed');
    const { id } = await log(callSid); // the queued log written: the CRM is back
    const result: LateRecordingResult = await handle.result();
    assert.deepEqual(result.callLog, { id });
    assert.equal(
      [...crm.store.callLogs.values()].find((r) => r.log.callSid === callSid)?.log.recordingKey,
      `recordings/${callSid}.wav`,
    );
    // The store here has no such WAV: the analysis says so and still publishes, once.
    assert.equal(result.analysis.transcriptMissing, 'transcription_failed');
    assert.equal(analyzedBy(lateAnalysisWorkflowId(callSid)).length, 1);
    assert.equal((await handle.describe()).typedSearchAttributes.get(SA_NEEDS_REVIEW), undefined);
  });

  it('a call log with another recording is not overwritten: flagged for review', async () => {
    const callSid = newCallSid();
    await log(callSid, 'recordings/another.wav');
    const handle = await start(callSid);
    const result: LateRecordingResult = await handle.result();
    assert.deepEqual(result.callLog, { notAttached: 'BadInput' });
    const sa = (await handle.describe()).typedSearchAttributes;
    assert.deepEqual(sa.get(SA_NEEDS_REVIEW), ['recording_not_attached']);
    assert.equal(
      [...crm.store.callLogs.values()].find((r) => r.log.callSid === callSid)?.log.recordingKey,
      'recordings/another.wav',
    );
  });
});
