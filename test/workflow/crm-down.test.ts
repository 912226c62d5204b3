// The CRM away, for real: the call worker reaches the CRM's PostgreSQL through a Toxiproxy
// proxy, taken down during the call (connections dropped, new ones refused) and brought back
// later. The call goes on (unidentified, general questions answered, a call back offered for
// the account), completes, and its call log is queued in the post-call workflow, which writes
// it once when the CRM is back, across a restart of every worker.
// A call log the CRM refuses for good (a real foreign-key violation) is tried once, the
// call completes and is flagged for review.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { databaseUrl } from '../../infra';
import { createKnowledgeAnswerer } from '../../conversation/answers/knowledge-answerer';
import type { Answerer } from '../../conversation/answers/answerer';
import type { AnyBusEvent } from '../../contracts/events';
import {
  SA_CALL_LOG_PENDING,
  SA_CUSTOMER_ID,
  SA_DISPOSITION,
  SA_NEEDS_REVIEW,
  type CallResult,
} from '../../contracts/call';
import { postCallWorkflowId, type PostCallResult } from '../../contracts/post-call';
import { FakeEventBus } from '../../providers/events/fake';
import { ProviderError } from '../../providers/provider-error';
import { createEmbeddingIntentClassifier } from '../../providers/intent/embedding';
import { postgresCallDeps } from '../../workers/postgres-deps';
import { createCallWorker } from '../../workers/call-worker-factory';
import { PROMPTS } from '../../workflows/call-state';
import {
  callWorker,
  maybeRecordHistory,
  newCallSid,
  postCallResult,
  postCallWorker,
  startCall,
  testEvents,
} from '../../testing/calls';
import { localEnv, resetDb, testDb, workflowBundle } from '../../testing/platform';
import {
  hostPort,
  startFaultProxy,
  throughProxy,
  type FaultProxies,
  type FaultProxy,
} from '../../testing/faults';

describe('CRM down: the call goes on, the call log is queued', function () {
  let env: TestWorkflowEnvironment;
  let intent: ReturnType<typeof createEmbeddingIntentClassifier>;
  let answerer: Answerer;
  let db: Pool;
  let faults: FaultProxies;
  let crm: FaultProxy;

  before(async () => {
    env = await localEnv();
    const crmUrl = databaseUrl('switchboard_test');
    faults = await startFaultProxy();
    crm = await faults.proxy('crm-down-postgres', hostPort(crmUrl));
    intent = createEmbeddingIntentClassifier();
    await intent.warmUp();
    answerer = await createKnowledgeAnswerer({
      env: { ...process.env, LLM_CHAIN: 'template' },
      log: () => {},
    });
  });
  after(async () => {
    await faults?.remove('crm-down-postgres');
  });
  beforeEach(async () => {
    db = await resetDb();
  });

  const count = async (callSid: string) =>
    Number(
      (await db.query('SELECT count(*) FROM call_logs WHERE call_sid = $1', [callSid])).rows[0]
        .count,
    );

  /** A call worker on a queue of its own, its CRM on a pool of its own, its events kept. */
  async function crmWorker(taskQueue: string, events: FakeEventBus, pool: Pool) {
    return createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      deps: postgresCallDeps(pool, intent),
      events,
      answerer,
      workflowBundle: await workflowBundle(),
      taskQueue,
    });
  }

  function recordingBus(): { bus: FakeEventBus; sent: AnyBusEvent[] } {
    const bus = new FakeEventBus();
    const sent: AnyBusEvent[] = [];
    const publish = bus.publish.bind(bus);
    bus.publish = async (drafts) => {
      const events = await publish(drafts);
      sent.push(...events);
      return events;
    };
    return { bus, sent };
  }

  it('CRM up: the caller is identified and the call log is written at hang-up', async () => {
    const workers = [await callWorker(env), await postCallWorker(env)];
    const running = workers.map((w) => w.run());
    try {
      const { bridge, handle, callSid } = await startCall(env.client);
      assert.match((await bridge.streamStarted()).text, /^Hello Ada/);
      await bridge.utterance('goodbye');
      const result = await handle.result();
      assert.ok(result.callLogId);
      assert.equal(result.callLogPending, undefined);
      const post: PostCallResult = await postCallResult(env.client, callSid);
      assert.equal(post.callLog, undefined, 'nothing was queued');
      assert.equal(await count(callSid), 1);
      // crm-up-call-log.json and post-call-before-pending-log.json were recorded here before
      // the CRM-down handling (patches crm-unavailable, call-log-queued, pending-call-log).
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    }
  });

  it('CRM down at call start: polite line, general question answered, call back offered; the call completes and its log is written once when the CRM is back, across a worker restart', async function () {
    // The queued log's retries back off to once a minute: on a busy machine the CRM may come
    // back just after one, and the write waits for the next.
    this.timeout(300_000);
    const taskQueue = `calls-crm-down-${newCallSid()}`;
    const { bus, sent } = recordingBus();
    // The CRM behind the proxy; the test's own pool (db) reaches the database directly.
    const pool = new Pool({
      connectionString: throughProxy(databaseUrl('switchboard_test'), crm),
      max: 4,
    });
    pool.on('error', () => {}); // idle connections the proxy drops: expected here
    let workers: Worker[] = [await crmWorker(taskQueue, bus, pool), await postCallWorker(env)];
    let running = workers.map((w) => w.run());
    const stopWorkers = async () => {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    };
    try {
      await crm.down();
      const { bridge, handle, callSid } = await startCall(env.client, { taskQueue });
      assert.equal(
        (await bridge.streamStarted()).text,
        `${PROMPTS.crmUnavailableGreeting} ${PROMPTS.howCanIHelp}`,
      );
      const plans = await bridge.utterance('what internet plans do you have');
      assert.equal(plans.intent?.name, 'ask_plans');
      assert.notEqual(plans.text, PROMPTS.answerFailed);
      assert.match(plans.text, /Is there anything else/);
      assert.equal((await bridge.utterance("what's my balance")).text, PROMPTS.accountUnavailable);
      assert.equal(
        (await bridge.utterance('yes please')).text,
        `${PROMPTS.callbackBooked} ${PROMPTS.anythingElse}`,
      );
      assert.equal((await bridge.utterance('goodbye')).action, 'hangup');

      const result: CallResult = await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      assert.equal(result.disposition, 'resolved');
      assert.equal(result.callLogPending, true);
      assert.equal(result.callLogId, undefined);
      assert.equal(result.callbackRequested, true);
      const sa = (await handle.describe()).typedSearchAttributes;
      assert.equal(sa.get(SA_CALL_LOG_PENDING), true);
      assert.equal(sa.get(SA_CUSTOMER_ID), undefined);
      assert.equal(sa.get(SA_DISPOSITION), 'resolved');
      const ended = sent.find((e) => e.type === 'call.ended' && e.call_id === callSid);
      assert.ok(ended?.type === 'call.ended');
      assert.equal(ended.data.call_log_id, undefined);
      const pending = sent.find((e) => e.type === 'call_log.status' && e.call_id === callSid);
      assert.ok(pending?.type === 'call_log.status');
      assert.equal(pending.data.status, 'pending');

      // The post-call workflow holds the log, marked pending, while the CRM is away.
      const post = env.client.workflow.getHandle(postCallWorkflowId(callSid));
      await waitFor(async () => (await post.describe()).typedSearchAttributes.get(SA_CALL_LOG_PENDING) === true); // prettier-ignore
      assert.equal((await post.describe()).status.name, 'RUNNING');

      // Every worker goes away while the log is pending, the CRM comes back, new workers start.
      assert.equal(await count(callSid), 0);
      await stopWorkers();
      await crm.up();
      workers = [await crmWorker(taskQueue, bus, pool), await postCallWorker(env)];
      running = workers.map((w) => w.run());

      const done: PostCallResult = await post.result();
      assert.ok(done.callLog && 'id' in done.callLog, JSON.stringify(done.callLog));
      assert.equal(await count(callSid), 1);
      const row = (await db.query('SELECT * FROM call_logs WHERE call_sid = $1', [callSid])).rows[0]; // prettier-ignore
      assert.equal(String(row.id), done.callLog.id);
      assert.deepEqual(
        [row.customer_id, row.disposition, row.intent_path],
        [null, 'resolved', ['ask_plans', 'check_balance', 'confirm_yes', 'goodbye']],
      );
      assert.equal((await post.describe()).typedSearchAttributes.get(SA_CALL_LOG_PENDING), false);
      const written = await waitForEvent(
        callSid,
        (e) => e.type === 'call_log.status' && e.data.status === 'written',
      );
      assert.ok(written.type === 'call_log.status');
      assert.equal(written.data.call_log_id, done.callLog.id);
      // For the next change to replay: the call that queued its log, the workflow that wrote it.
      await maybeRecordHistory(env, handle.workflowId, 'crm-down-call-log-queued');
      await maybeRecordHistory(env, post.workflowId, 'post-call-pending-log-written');
    } finally {
      await crm.clear();
      await stopWorkers();
      await pool.end();
    }
  });

  it('a call log the CRM refuses for good (a foreign-key violation) is tried once; the call completes, flagged for review', async () => {
    const taskQueue = `calls-refused-${newCallSid()}`;
    const { bus, sent } = recordingBus();
    const deps = postgresCallDeps(await testDb(), intent);
    // The CRM names a customer its own call_logs table does not know: the insert violates
    // the real foreign key.
    let writes = 0;
    const ghost = Object.create(deps.crm) as typeof deps.crm;
    ghost.findCustomerByPhone = async () => ({ id: 'cus_ghost', name: 'Grace', phone: '+1' });
    ghost.writeCallLog = (key, log) => (writes++, deps.crm.writeCallLog(key, log));
    const worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      deps: { ...deps, crm: ghost },
      events: bus,
      workflowBundle: await workflowBundle(),
      taskQueue,
    });
    const post = await postCallWorker(env);
    const running = [worker.run(), post.run()];
    try {
      const { bridge, handle, callSid } = await startCall(env.client, { taskQueue });
      assert.match((await bridge.streamStarted()).text, /^Hello Grace/);
      await bridge.utterance('goodbye');
      const result: CallResult = await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      assert.equal(result.disposition, 'resolved');
      assert.equal(result.needsReview, 'call_log_refused');
      assert.equal(result.callLogPending, undefined);
      assert.equal(writes, 1, 'a refusal is not retried');
      const sa = (await handle.describe()).typedSearchAttributes;
      assert.deepEqual(sa.get(SA_NEEDS_REVIEW), ['call_log_refused']);
      assert.equal(sa.get(SA_CALL_LOG_PENDING), undefined);
      const status = sent.find((e) => e.type === 'call_log.status' && e.call_id === callSid);
      assert.ok(status?.type === 'call_log.status');
      assert.deepEqual([status.data.status, status.data.reason], ['refused', 'BadInput']);
      const analysed: PostCallResult = await postCallResult(env.client, callSid);
      assert.equal(analysed.callLog, undefined, 'nothing to queue');
      assert.equal(await count(callSid), 0);
      await maybeRecordHistory(env, handle.workflowId, 'call-log-refused');
    } finally {
      worker.shutdown();
      post.shutdown();
      await Promise.all(running);
    }
  });

  it('a queued call log the CRM refuses once it is back is flagged by the post-call workflow, not retried', async () => {
    const taskQueue = `calls-queued-refused-${newCallSid()}`;
    const pool = new Pool({
      connectionString: throughProxy(databaseUrl('switchboard_test'), crm),
      max: 4,
    });
    pool.on('error', () => {});
    const deps = postgresCallDeps(pool, intent);
    // A customer the CRM's call_logs table does not know: its insert violates the foreign key.
    let refusals = 0;
    const ghost = Object.create(deps.crm) as typeof deps.crm;
    ghost.findCustomerByPhone = async () => ({ id: 'cus_ghost', name: 'Grace', phone: '+1' });
    ghost.writeCallLog = (key, log) =>
      deps.crm.writeCallLog(key, log).catch((err: unknown) => {
        if (err instanceof ProviderError && err.kind === 'bad_input') refusals++;
        throw err;
      });
    const worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      deps: { ...deps, crm: ghost },
      events: testEvents,
      workflowBundle: await workflowBundle(),
      taskQueue,
    });
    const post = await postCallWorker(env);
    const running = [worker.run(), post.run()];
    try {
      const { bridge, handle, callSid } = await startCall(env.client, { taskQueue });
      await bridge.streamStarted();
      await crm.down();
      await bridge.utterance('goodbye');
      assert.equal((await handle.result()).callLogPending, true);
      const analysis = env.client.workflow.getHandle(postCallWorkflowId(callSid));
      await waitFor(async () => (await analysis.describe()).typedSearchAttributes.get(SA_CALL_LOG_PENDING) === true); // prettier-ignore
      assert.equal(refusals, 0, 'while the CRM is away nothing reaches it');
      await crm.up();
      const done: PostCallResult = await analysis.result();
      assert.deepEqual(done.callLog, { refused: 'BadInput' });
      assert.equal(refusals, 1, 'a refusal ends the retries');
      const sa = (await analysis.describe()).typedSearchAttributes;
      assert.deepEqual(
        [sa.get(SA_NEEDS_REVIEW), sa.get(SA_CALL_LOG_PENDING)],
        [['call_log_refused'], false],
      );
      const refused = await waitForEvent(
        callSid,
        (e) => e.type === 'call_log.status' && e.data.status === 'refused',
      );
      assert.ok(refused.type === 'call_log.status');
      assert.equal(refused.data.reason, 'BadInput');
      assert.equal(await count(callSid), 0);
    } finally {
      await crm.clear();
      worker.shutdown();
      post.shutdown();
      await Promise.all(running);
      await pool.end();
    }
  });
});

/** The post-call worker publishes to the shared test bus: read the call's events there. */
async function waitForEvent(
  callSid: string,
  match: (e: AnyBusEvent) => boolean,
): Promise<AnyBusEvent> {
  const got: AnyBusEvent[] = [];
  const sub = await testEvents.subscribe({
    groupId: `crm-down-${callSid}`,
    handlers: { 'call_log.status': async (e) => void got.push(e) },
  });
  try {
    await waitFor(async () => got.some((e) => e.call_id === callSid && match(e)));
    return got.find((e) => e.call_id === callSid && match(e))!;
  } finally {
    await sub.close();
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
}
