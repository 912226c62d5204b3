// Builds the call worker from its parts, so the process entry, tests and the benchmark
// run the same worker with different adapters.
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createAnswerActivities } from '../activities/answer-activities';
import { createCallActivities, type CallActivityDeps } from '../activities/call-activities';
import { createPaymentActivities } from '../activities/payment-activities';
import { createRecordingActivities } from '../activities/recording-activities';
import type { Answerer } from '../conversation/answers/answerer';
import { createEventActivities } from '../activities/event-activities';
import type { EventBus } from '../providers/events/port';
import { createTelephonyActivities } from '../activities/telephony-activities';
import { FallbackTelephony } from '../providers/telephony/fallback';
import type { Telephony } from '../providers/telephony/port';
import { CALL_TASK_QUEUE } from '../contracts/call';
import { historyDataConverter } from '../infra/payload-codec';
import { BackgroundPublisher } from '../providers/health/background-publisher';
import { callRetryInterceptors } from './call-retries';
import { versioningOptions, type WorkerDeploymentVersion } from './versioning';
import { workflowCode } from './workflow-code';

export interface CallWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: CallActivityDeps;
  /** Where the call's events go (Kafka in production, memory in unit-level tests). */
  events: EventBus;
  /** Grounded answers for text calls; without one, knowledge questions go to an agent. */
  answerer?: Answerer;
  /** Twilio's REST API: transfers to a human, texts and callbacks (none: every request fails, retryable). */
  telephony?: Telephony;
  taskQueue?: string;
  /** A pre-built bundle saves the few seconds webpack takes per worker (default: workflowCode). */
  workflowBundle?: WorkflowBundleOption;
  /** Run as this version of a Worker Deployment, calls pinned to it (default: unversioned). */
  deployment?: WorkerDeploymentVersion;
  /** Default: history encrypted with PAYLOAD_ENCRYPTION_KEYS. */
  dataConverter?: DataConverter;
}

const unconfiguredTelephony = new FallbackTelephony([
  { provider: 'twilio', skipReason: 'this worker has no telephony configured' },
]);

export function createCallWorker(opts: CallWorkerOptions): Promise<Worker> {
  // A call's retries leave as events for the incident watcher (ALERTS_CALL_RETRIES).
  const retries = new BackgroundPublisher(opts.events);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? CALL_TASK_QUEUE,
    dataConverter: opts.dataConverter ?? historyDataConverter(),
    ...workflowCode(opts.workflowBundle),
    ...versioningOptions(opts.deployment),
    interceptors: { activity: [callRetryInterceptors((e) => retries.enqueue(e))] },
    activities: {
      ...createCallActivities(opts.deps),
      ...createRecordingActivities(opts.deps),
      ...createPaymentActivities(opts.deps.payments),
      ...createEventActivities(opts.events),
      ...createTelephonyActivities(opts.telephony ?? unconfiguredTelephony),
      ...(opts.answerer && createAnswerActivities(opts.answerer)),
    },
  });
}
