// A slow turn on a real audio call: the card processor's database black-holed (Toxiproxy drops
// every byte) while a confirmed payment is charged, so the saga's retries hold the workflow's
// reply for half a minute. The caller is not left in silence: the edge's prerecorded hold
// lines are what the caller's audio, transcribed back, has after the "yes".
import assert from 'node:assert/strict';
import type { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { databaseUrl } from '../../infra';
import { createPostgresPool } from '../../infra/postgres-pool';
import { createEmbeddingIntentClassifier } from '../../providers/intent/embedding';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { postgresCallDeps } from '../../workers/postgres-deps';
import { ADA, callWorker } from '../../testing/calls';
import { callStack, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import {
  hostPort,
  startFaultProxy,
  throughProxy,
  type FaultProxies,
  type FaultProxy,
} from '../../testing/faults';
import { localEnv, resetDb } from '../../testing/platform';

describe('payments database black-holed on a real audio call: the hold line, not silence', function () {
  this.timeout(300_000);
  let stack: EdgeStack;
  let faults: FaultProxies;
  let proxy: FaultProxy;
  let proxied: Pool;
  let worker: Worker;
  let running: Promise<void>;
  const url = databaseUrl('switchboard_test');
  const transcriber = { stt: new PocketsphinxSpeechToText() };

  before(async () => {
    const env = await localEnv();
    const db = await resetDb();
    faults = await startFaultProxy();
    proxy = await faults.proxy('payment-hold-postgres', hostPort(url));
    await proxy.clear();
    proxied = createPostgresPool(throughProxy(url, proxy), { max: 4 });
    const intent = createEmbeddingIntentClassifier();
    await intent.warmUp();
    // CRM and billing straight to the database; the card processor through the proxy.
    const deps = postgresCallDeps(db, intent);
    const viaProxy = postgresCallDeps(proxied, intent);
    worker = await callWorker(env, {
      ...deps,
      payments: { billing: deps.payments.billing, gateway: viaProxy.payments.gateway },
    });
    running = worker.run();
    stack = await startEdgeStack({
      callWorker: false,
      env: { TTS_CACHE_NAMESPACE: `payment-hold-${process.pid}` },
    });
  });
  after(async () => {
    await proxy?.clear();
    await stack?.stop();
    worker?.shutdown();
    await running;
    await proxied?.end();
    await faults?.remove('payment-hold-postgres');
  });

  it('the caller hears "one moment" after the "yes" while the charge retries, then "thanks for holding"', async () => {
    await proxy.blackhole();
    const report = await callStack(
      stack,
      [
        { kind: 'say', text: 'I want to pay my bill' },
        { kind: 'say', text: 'yes' },
        { kind: 'pause', ms: 14_000 },
        { kind: 'hangup' },
      ],
      { from: ADA, pace: 2, transcriber },
    );
    const said = report.turns.map((t) => t.agentTranscript ?? '');
    // Turn 0 is the greeting; turn 1 asks to confirm the payment.
    assert.match(said[1] ?? '', /say yes/i, said.join(' | '));
    // What the caller hears after the "yes": the hold line, then the second one.
    assert.match(said[2] ?? '', /one moment/i, said.join(' | '));
    assert.match(said.slice(2).join(' '), /holding/i, said.join(' | '));
    // The workflow's compensation finishes once the database answers again.
    await proxy.clear();
    await (
      await localEnv()
    ).client.workflow
      .getHandle(report.workflowId)
      .terminate('test over')
      .catch(() => undefined);
  });
});
