// Worker Versioning on the real dev server: a call is pinned to the build it started on. With
// build b made current mid-call, the call begun on build a is still served by a — every one
// of its workflow tasks — while a new call starts and runs on b.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createCallWorker } from '../../workers/call-worker-factory';
import {
  deploymentVersionFromEnv,
  makeCurrentVersion,
  type WorkerDeploymentVersion,
} from '../../workers/versioning';
import { postgresTestDeps, startCall, testEvents } from '../../testing/calls';
import { localEnv, resetDb, workflowBundle } from '../../testing/platform';

describe('Worker Versioning: calls pinned to the build they started on', function () {
  let env: TestWorkflowEnvironment;
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  const suffix = randomBytes(4).toString('hex');
  const taskQueue = `versioned-calls-${suffix}`;
  const deploymentName = `switchboard-test-${suffix}`;
  const version = (buildId: string): WorkerDeploymentVersion => ({ deploymentName, buildId });

  before(async () => {
    env = await localEnv();
    await resetDb();
  });
  after(async () => {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.running));
  });

  async function startBuild(buildId: string): Promise<void> {
    const worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      deps: await postgresTestDeps(),
      events: testEvents,
      workflowBundle: await workflowBundle(),
      taskQueue,
      deployment: version(buildId),
    });
    workers.push({ worker, running: worker.run() });
    await makeCurrentVersion(env.connection, env.namespace ?? 'default', version(buildId));
  }

  /** The build ids of the workers that completed each of the run's workflow tasks. */
  async function buildsThatRan(handle: WorkflowHandle): Promise<string[]> {
    const history = await handle.fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      const done = e.workflowTaskCompletedEventAttributes;
      return done ? [done.deploymentVersion?.buildId ?? '(unversioned)'] : [];
    });
  }

  it('keeps a running call on build a after build b becomes current; new calls go to b', async () => {
    await startBuild('a');
    const first = await startCall(env.client, { taskQueue });
    await first.bridge.streamStarted();

    await startBuild('b');
    const second = await startCall(env.client, { taskQueue });
    await second.bridge.streamStarted();

    // Both calls take a turn now that b is current.
    assert.match((await first.bridge.utterance("what's my balance")).text, /42 dollars/);
    assert.match((await second.bridge.utterance("what's my balance")).text, /42 dollars/);
    await first.bridge.utterance('goodbye');
    await second.bridge.utterance('goodbye');
    await Promise.all([first.handle.result(), second.handle.result()]);

    const [ranFirst, ranSecond] = await Promise.all([
      buildsThatRan(first.handle),
      buildsThatRan(second.handle),
    ]);
    assert.ok(ranFirst.length >= 3, `the first call took ${ranFirst.length} workflow tasks`);
    assert.deepEqual(new Set(ranFirst), new Set(['a']), 'every task of the first call ran on a');
    assert.deepEqual(new Set(ranSecond), new Set(['b']), 'every task of the second ran on b');
    const info = (await first.handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
    assert.equal(info?.deploymentVersion?.buildId, 'a');
    assert.equal(String(info?.behavior), '1', 'pinned (VERSIONING_BEHAVIOR_PINNED)');
  });

  it('reads its version from the environment: both variables or neither', () => {
    assert.equal(deploymentVersionFromEnv({}), undefined);
    assert.deepEqual(
      deploymentVersionFromEnv({ WORKER_DEPLOYMENT_NAME: 'switchboard', WORKER_BUILD_ID: 'abc' }),
      { deploymentName: 'switchboard', buildId: 'abc' },
    );
    assert.throws(
      () => deploymentVersionFromEnv({ WORKER_BUILD_ID: 'abc' }),
      /WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID go together \(got no WORKER_DEPLOYMENT_NAME\)/,
    );
  });
});
