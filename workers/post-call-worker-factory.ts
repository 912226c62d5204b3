// Builds the post-call worker from its parts, so the process entry and tests run the same
// worker with different adapters. It polls its own queue: batch work (minutes of audio,
// summaries) never competes with live calls for the call worker's slots.
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import {
  createPostCallActivities,
  type PostCallActivityDeps,
} from '../activities/post-call-activities';
import { POST_CALL_TASK_QUEUE } from '../contracts/post-call';
import { historyDataConverter } from '../infra/payload-codec';
import { versioningOptions, type WorkerDeploymentVersion } from './versioning';
import { workflowCode } from './workflow-code';

export interface PostCallWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: PostCallActivityDeps;
  taskQueue?: string;
  /** A pre-built bundle saves the few seconds webpack takes per worker (default: workflowCode). */
  workflowBundle?: WorkflowBundleOption;
  /** Recordings decoded at once; each holds a recognizer and minutes of PCM. */
  maxConcurrentActivities?: number;
  /** Run as this version of a Worker Deployment, runs pinned to it (default: unversioned). */
  deployment?: WorkerDeploymentVersion;
  /** Default: history encrypted with PAYLOAD_ENCRYPTION_KEYS. */
  dataConverter?: DataConverter;
}

export function createPostCallWorker(opts: PostCallWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? POST_CALL_TASK_QUEUE,
    dataConverter: opts.dataConverter ?? historyDataConverter(),
    ...workflowCode(opts.workflowBundle),
    ...versioningOptions(opts.deployment),
    activities: createPostCallActivities(opts.deps),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 2,
  });
}
