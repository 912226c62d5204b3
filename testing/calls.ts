// Placing calls against the test platform: a call worker on the test database, calls
// started as the webhook starts them, and recording of histories for the replay suite.
import type { Telephony } from '../providers/telephony/port';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { decryptPayloadsIn, payloadCodecFromEnv } from '../infra/payload-codec';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createEmbeddingIntentClassifier } from '../providers/intent/embedding';
import type { CallActivityDeps } from '../activities/call-activities';
import { FakeEventBus } from '../providers/events/fake';
import type { Answerer } from '../conversation/answers/answerer';
import { CallBridge } from '../media-edge/call/bridge';
import { createCallWorker } from '../workers/call-worker-factory';
import { postgresCallDeps } from '../workers/postgres-deps';
import { createPostCallWorker } from '../workers/post-call-worker-factory';
import { postCallWorkflowId } from '../contracts/post-call';
import { FakeObjectStore } from '../providers/object-store/fake';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import {
  CALL_TASK_QUEUE,
  callWorkflowId,
  type CallConfig,
  type CallInput,
  type CallResult,
} from '../contracts/call';
import { testDb, workflowBundle } from './platform';

export const ADA = '+15550100001';

/** Where test calls' events go unless a test brings its own bus (one per process). */
export const testEvents = new FakeEventBus();
export const UNKNOWN = '+15559999999';

export async function postgresTestDeps(): Promise<CallActivityDeps> {
  const db = await testDb();
  // Loaded before the first turn: a cold model load would eat the local activity's timeout.
  const intent = createEmbeddingIntentClassifier();
  await intent.warmUp();
  // The chains the worker runs (workers/postgres-deps.ts), on the test database.
  return postgresCallDeps(db, intent);
}

export async function callWorker(
  env: TestWorkflowEnvironment,
  deps?: CallActivityDeps,
  taskQueue?: string,
  answerer?: Answerer,
  /** Transfers, texts and callbacks (e.g. Twilio's stand-in); default none. */
  telephony?: Telephony,
): Promise<Worker> {
  return createCallWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    deps: deps ?? (await postgresTestDeps()),
    events: testEvents,
    ...(answerer && { answerer }),
    ...(telephony && { telephony }),
    workflowBundle: await workflowBundle(),
    ...(taskQueue && { taskQueue }),
  });
}

export const newCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;

/** Starts a call the way the webhook does and returns the edge's bridge to it. */
export async function startCall(
  client: Client,
  opts: { from?: string; config?: Partial<CallConfig>; callSid?: string; taskQueue?: string } = {},
) {
  const callSid = opts.callSid ?? newCallSid();
  const input: CallInput = {
    callSid,
    from: opts.from ?? ADA,
    to: '+15550009999',
    ...(opts.config && { config: opts.config }),
  };
  const handle = await client.workflow.start<(input: CallInput) => Promise<CallResult>>(
    'callWorkflow',
    {
      taskQueue: opts.taskQueue ?? CALL_TASK_QUEUE,
      workflowId: callWorkflowId(callSid),
      args: [input],
    },
  );
  return { callSid, handle, bridge: new CallBridge(client, callSid) };
}

/** With RECORD_HISTORIES=1, saves the call's history as test/histories/<name>.json. */
export async function maybeRecordHistory(
  env: TestWorkflowEnvironment,
  workflowId: string,
  name: string,
): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  // Decrypted: a recorded history replays with or without the key.
  const history = await decryptedHistory(env.client.workflow.getHandle(workflowId));
  fs.writeFileSync(
    path.join(__dirname, '..', 'test', 'histories', `${name}.json`),
    historyToJSON(history),
  );
}

/**
 * A post-call worker for calls that end in a test: on the time-skipping server an unpolled
 * child workflow would hold time still. Memory store and bus; calls here have no recording.
 */
export async function postCallWorker(env: TestWorkflowEnvironment): Promise<Worker> {
  return createPostCallWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    deps: {
      recordings: new FakeObjectStore(),
      stt: new PocketsphinxSpeechToText(),
      events: testEvents,
      log: () => undefined,
    },
    workflowBundle: await workflowBundle(),
  });
}

/** The post-call workflow a finished call started; awaited so none is left half-run. */
export const postCallResult = (client: Client, callSid: string) =>
  client.workflow.getHandle(postCallWorkflowId(callSid)).result();

type History = Parameters<typeof historyToJSON>[0];

/** A run's history with its payloads decrypted: what the call put there, as tests read it. */
export async function decryptedHistory(handle: {
  fetchHistory(): Promise<History>;
}): Promise<History> {
  return decryptPayloadsIn(await handle.fetchHistory(), payloadCodecFromEnv());
}

/** Every run of a workflow, first to last: a call that continued as new has several. */
export async function runHistories(client: Client, workflowId: string): Promise<History[]> {
  const latest = await decryptedHistory(client.workflow.getHandle(workflowId));
  const started = latest.events?.[0]?.workflowExecutionStartedEventAttributes;
  const runs: History[] = [];
  for (let runId = started?.firstExecutionRunId; runId;) {
    const run = await decryptedHistory(client.workflow.getHandle(workflowId, runId));
    runs.push(run);
    runId = run.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return runs.length ? runs : [latest];
}

/** Every payload of a call's history, decrypted and decoded to text. */
export async function historyPayloadText(handle: {
  fetchHistory(): Promise<History>;
}): Promise<string> {
  return payloadText(await decryptedHistory(handle));
}

/** The payloads of one run's history, decoded to text. */
export function payloadText(history: History): string {
  const json = historyToJSON(history);
  return [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)]
    .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
    .join('\n');
}
