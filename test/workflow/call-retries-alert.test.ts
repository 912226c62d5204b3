// A call whose activities are retried past ALERTS_CALL_RETRIES opens one incident, resolved
// when the call ends: the CRM's PostgreSQL is taken down for real (Toxiproxy) before the call,
// so identifying the caller is retried (3 retries, past a threshold of 2); the call worker's
// interceptor publishes each retry on Kafka, two watchers (as two post-call workers) count
// them, and the PagerDuty stand-in receives exactly one trigger and one resolve.
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { databaseUrl, infraUp, kafkaBrokers, redisUrl } from '../../infra';
import { PROMPTS } from '../../workflows/call-state';
import { callWorkflowId } from '../../contracts/call';
import {
  callDedupKey,
  CallRetryWatcher,
  watchCallRetries,
} from '../../providers/alerts/call-retry-watcher';
import { RedisIncidentLedger } from '../../providers/alerts/incident-watcher';
import { PagerDutyAlerting } from '../../providers/alerts/pagerduty';
import { redisCacheClient } from '../../providers/cache/redis';
import { KafkaEventBus } from '../../providers/events/kafka';
import { createEmbeddingIntentClassifier } from '../../providers/intent/embedding';
import { postgresCallDeps } from '../../workers/postgres-deps';
import { createCallWorker } from '../../workers/call-worker-factory';
import { newCallSid, startCall } from '../../testing/calls';
import { localEnv, resetDb, workflowBundle } from '../../testing/platform';
import { deleteTopicsWithPrefix } from '../../testing/kafka-admin';
import { hostPort, startFaultProxy, throughProxy, type FaultProxies } from '../../testing/faults';
import { PagerDutyStandIn } from '../helpers/alert-vendors';

const RUN = `retries${process.pid}${Date.now().toString(36)}`;
const PREFIX = `test-${RUN}.`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ms: number, what: string, check: () => boolean): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

describe('retries of one call past ALERTS_CALL_RETRIES → one incident for that call', function () {
  let env: TestWorkflowEnvironment;
  let faults: FaultProxies;
  let redis: Redis;
  let bus: KafkaEventBus;
  const pagerDuty = new PagerDutyStandIn();
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    await infraUp({ quiet: true });
    env = await localEnv();
    await resetDb();
    faults = await startFaultProxy();
    redis = redisCacheClient(redisUrl());
    bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: PREFIX, partitions: 1 });
    await bus.ensureTopics();
    await pagerDuty.start();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await faults?.remove('retries-postgres');
    await bus.close();
    await pagerDuty.stop();
    const keys = await redis.keys(`test:${RUN}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await deleteTopicsWithPrefix(kafkaBrokers(), PREFIX);
  });

  it('the CRM down for a call: its retries open one incident (dedup key per call), resolved when it ends', async () => {
    const alerting = new PagerDutyAlerting(pagerDuty.url, {
      PAGERDUTY_ROUTING_KEY: pagerDuty.routingKey,
    });
    for (const i of [1, 2]) {
      const running = await watchCallRetries(
        new CallRetryWatcher({
          alerting,
          ledger: new RedisIncidentLedger(redis, `test:${RUN}:`, 'call-incidents'),
          maxRetries: 2,
        }),
        bus,
        { groupId: `${PREFIX}watcher-${i}`, checkMs: 200 },
      );
      closers.push(() => running.close());
    }
    await sleep(2_000); // the watchers' groups have joined (they read from the newest on)

    const crm = await faults.proxy('retries-postgres', hostPort(databaseUrl('switchboard_test')));
    const pool = new Pool({
      connectionString: throughProxy(databaseUrl('switchboard_test'), crm),
      max: 4,
    });
    pool.on('error', () => {}); // idle connections the proxy drops: expected here
    closers.push(() => pool.end());
    const intent = createEmbeddingIntentClassifier();
    await intent.warmUp();
    const taskQueue = `calls-retries-${newCallSid()}`;
    const worker: Worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      deps: postgresCallDeps(pool, intent),
      events: bus,
      workflowBundle: await workflowBundle(),
      taskQueue,
    });
    const running = worker.run();
    closers.push(async () => {
      worker.shutdown();
      await running;
    });

    await crm.down();
    const { bridge, handle, callSid } = await startCall(env.client, { taskQueue });
    const key = callDedupKey(callWorkflowId(callSid));
    await bridge.streamStarted(); // identify retried (3 retries), then unidentified
    // Past 2 retries, while the call is still on.
    await until(20_000, 'a trigger', () => pagerDuty.openIncidents().includes(key));
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    const trigger = pagerDuty.requests.find(
      (r) => (r.body as { event_action: string }).event_action === 'trigger',
    )!.body as { dedup_key: string; payload: { severity: string; summary: string; custom_details: Record<string, unknown> } }; // prettier-ignore
    assert.equal(trigger.dedup_key, key);
    assert.equal(trigger.payload.severity, 'warning');
    assert.match(trigger.payload.summary, new RegExp(`^call ${callSid}: \\d+ activity retries \\(`)); // prettier-ignore
    assert.ok(Number(trigger.payload.custom_details.retries) > 2, JSON.stringify(trigger));
    assert.ok(Number(trigger.payload.custom_details.retries_identifyCaller) >= 1);

    assert.equal((await bridge.utterance("what's my balance")).text, PROMPTS.accountUnavailable);
    await bridge.utterance('yes please');
    await bridge.utterance('goodbye');
    await handle.result();
    await until(20_000, 'a resolve', () => pagerDuty.resolves() === 1);
    await sleep(2_000); // room for a repeat from the other watcher or a late retry
    assert.equal(pagerDuty.triggers(), 1);
    assert.equal(pagerDuty.resolves(), 1);
    assert.deepEqual(pagerDuty.openIncidents(), []);
    await crm.up();
  });
});
