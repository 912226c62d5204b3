// A black-holed database, for real: the worker's pool (built as the call worker builds it,
// bounded waits and all) reaches the real PostgreSQL through a Toxiproxy proxy that accepts
// connections and drops every byte, the way a dead route looks. Unlike a refusal, only the
// pool's own bounds end the waits.
// - The CRM black-holed at call start: the call goes on unidentified with the polite line,
//   completes, and its call log is queued and written once the database answers again.
// - The card processor black-holed during a confirmed payment's charge: the saga's retries
//   wait it out; once it answers, the card is charged once and the bill is paid once, and
//   paying again changes nothing.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { databaseUrl } from '../../infra';
import { createPostgresPool } from '../../infra/postgres-pool';
import { SA_CALL_LOG_PENDING, SA_CUSTOMER_ID, type CallResult } from '../../contracts/call';
import { postCallWorkflowId, type PostCallResult } from '../../contracts/post-call';
import { createEmbeddingIntentClassifier } from '../../providers/intent/embedding';
import { paymentKeys } from '../../workflows/payment-saga';
import { postgresCallDeps } from '../../workers/postgres-deps';
import { PROMPTS } from '../../workflows/call-state';
import { callWorker, newCallSid, postCallWorker, startCall } from '../../testing/calls';
import { localEnv, resetDb } from '../../testing/platform';
import {
  hostPort,
  startFaultProxy,
  throughProxy,
  type FaultProxies,
  type FaultProxy,
} from '../../testing/faults';

describe('database black-holed: the call degrades as if it were down, nothing lost or done twice', function () {
  let env: TestWorkflowEnvironment;
  let intent: ReturnType<typeof createEmbeddingIntentClassifier>;
  let db: Pool;
  let faults: FaultProxies;
  let proxy: FaultProxy;
  let proxied: Pool;
  const url = databaseUrl('switchboard_test');

  before(async () => {
    env = await localEnv();
    faults = await startFaultProxy();
    proxy = await faults.proxy('db-blackhole-postgres', hostPort(url));
    intent = createEmbeddingIntentClassifier();
    await intent.warmUp();
  });
  after(async () => {
    await faults?.remove('db-blackhole-postgres');
  });
  beforeEach(async () => {
    db = await resetDb();
    await proxy.clear();
    // The worker's pool (default bounds), through the proxy; the test's own (db) goes direct.
    proxied = createPostgresPool(throughProxy(url, proxy), { max: 4 });
  });
  afterEach(async () => {
    await proxy.clear();
    await proxied.end();
  });

  async function running(workers: Worker[], body: () => Promise<void>): Promise<void> {
    const runs = workers.map((w) => w.run());
    try {
      await body();
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.all(runs);
    }
  }

  /** Call and post-call workers: CRM and billing straight to the database, the card
   * processor through the proxy. */
  async function processorBehindProxy(taskQueue: string) {
    const deps = postgresCallDeps(db, intent);
    const { gateway } = postgresCallDeps(proxied, intent).payments;
    const workers = [
      await callWorker(
        env,
        { ...deps, payments: { billing: deps.payments.billing, gateway } },
        taskQueue,
      ),
      await postCallWorker(env),
    ];
    return { workers, gateway };
  }

  it('CRM black-holed at call start: polite line, the call completes, its log is queued and written once after the black hole clears', async function () {
    // The queued log's retries back off to once a minute.
    this.timeout(300_000);
    const taskQueue = `calls-crm-blackhole-${newCallSid()}`;
    const deps = postgresCallDeps(proxied, intent);
    const workers = [await callWorker(env, deps, taskQueue), await postCallWorker(env)];
    await running(workers, async () => {
      await proxy.blackhole();
      const { bridge, handle, callSid } = await startCall(env.client, { taskQueue });
      // Within the identify bound: the greeting does not wait for the database.
      assert.equal(
        (await bridge.streamStarted()).text,
        `${PROMPTS.crmUnavailableGreeting} ${PROMPTS.howCanIHelp}`,
      );
      assert.equal((await bridge.utterance("what's my balance")).text, PROMPTS.accountUnavailable);
      assert.equal(
        (await bridge.utterance('yes please')).text,
        `${PROMPTS.callbackBooked} ${PROMPTS.anythingElse}`,
      );
      assert.equal((await bridge.utterance('goodbye')).action, 'hangup');

      const result: CallResult = await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      assert.equal(result.callLogPending, true);
      assert.equal(result.callLogId, undefined);
      assert.equal((await handle.describe()).typedSearchAttributes.get(SA_CUSTOMER_ID), undefined);

      const post = env.client.workflow.getHandle(postCallWorkflowId(callSid));
      await waitFor(async () => (await post.describe()).typedSearchAttributes.get(SA_CALL_LOG_PENDING) === true); // prettier-ignore
      // Its tries fail as the pool's timeout (retried, counted by the breaker), not as the
      // activity's own deadline.
      await waitFor(async () => poolTimedOut(await pendingActivity(post, 'writeCallLog'), 'postgres'), 60_000); // prettier-ignore
      assert.equal(await logCount(callSid), 0, 'nothing written through the black hole');
      await proxy.clear();

      const done: PostCallResult = await post.result();
      assert.ok(done.callLog && 'id' in done.callLog, JSON.stringify(done.callLog));
      assert.equal(await logCount(callSid), 1, 'written exactly once');
      const row = (await db.query('SELECT id, customer_id FROM call_logs WHERE call_sid = $1', [callSid])).rows[0]; // prettier-ignore
      assert.equal(String(row.id), done.callLog.id);
      assert.equal(row.customer_id, null);
    });
  });

  it('payments black-holed during the charge of a confirmed payment: once it answers, one charge, one payment, the bill paid; paying again changes nothing', async function () {
    this.timeout(300_000);
    const taskQueue = `calls-pay-blackhole-${newCallSid()}`;
    const { workers, gateway } = await processorBehindProxy(taskQueue);
    await running(workers, async () => {
      // The processor's connection is open and idle when the black hole starts.
      assert.equal(await gateway.findCharge('warm-up'), undefined);
      const { bridge, handle } = await startCall(env.client, { taskQueue });
      assert.match((await bridge.streamStarted()).text, /^Hello Ada/);
      assert.match((await bridge.utterance('I want to pay my bill')).text, /Shall I pay it now/);
      await proxy.blackhole();
      const answered = bridge.utterance('yes');

      // The charge's attempts time out (the pool's bounds, not the activity's) and are retried.
      await waitFor(async () => {
        const charge = await pendingActivity(handle, 'chargePayment');
        return (charge?.attempt ?? 0) >= 3 && poolTimedOut(charge, 'local-postgres');
      }, 120_000);
      assert.equal(await chargeCount('succeeded'), 0, 'nothing charged through the black hole');
      await proxy.clear();

      assert.match((await answered).text, /payment of 42 dollars and 50 cents is complete/);
      const keys = paymentKeys(handle.workflowId, 'inv_ada_1');
      const charges = await db.query(
        "SELECT id, idempotency_key, amount_cents FROM gateway_charges WHERE status = 'succeeded'",
      );
      assert.deepEqual(
        charges.rows.map((r) => [r.idempotency_key, r.amount_cents]),
        [[keys.charge, 4250]],
        'the card was charged once',
      );
      const payments = await db.query(
        "SELECT charge_id FROM payments WHERE invoice_id = 'inv_ada_1'",
      );
      assert.deepEqual(payments.rows, [{ charge_id: charges.rows[0].id }], 'one payment, naming the charge'); // prettier-ignore
      assert.equal(await invoiceStatus(), 'paid');

      // The caller tries again: the bill is paid, nothing is charged.
      assert.match((await bridge.utterance('pay my bill')).text, /no open bill/);
      await bridge.utterance('goodbye');
      assert.equal((await handle.result()).disposition, 'resolved');
      assert.equal(await chargeCount('succeeded'), 1);
      assert.equal(await chargeCount('refunded'), 0);
    });
  });

  it('payments black-holed through every try of the charge: once it answers the charge key is voided, the hold released, the caller told; a new call pays once', async function () {
    this.timeout(300_000);
    const taskQueue = `calls-pay-blackhole-long-${newCallSid()}`;
    const { workers } = await processorBehindProxy(taskQueue);
    await running(workers, async () => {
      const first = await startCall(env.client, { taskQueue });
      await first.bridge.streamStarted();
      assert.match((await first.bridge.utterance('I want to pay my bill')).text, /Shall I pay it now/); // prettier-ignore
      await proxy.blackhole();
      const answered = first.bridge.utterance('yes');

      // The charge gave up; its compensation (void the key, then release) waits for the database.
      await waitFor(async () => poolTimedOut(await pendingActivity(first.handle, 'refundPayment'), 'local-postgres'), 120_000); // prettier-ignore
      assert.equal(await chargeCount('succeeded'), 0);
      await proxy.clear();

      assert.equal((await answered).text, PROMPTS.paymentFailed);
      const keys = paymentKeys(first.handle.workflowId, 'inv_ada_1');
      const voided = await db.query('SELECT status FROM gateway_charges WHERE idempotency_key = $1', [keys.charge]); // prettier-ignore
      assert.deepEqual(
        voided.rows,
        [{ status: 'voided' }],
        'a late charge with that key finds the void',
      );
      const hold = await db.query('SELECT status FROM payment_reservations WHERE payment_key = $1', [keys.payment]); // prettier-ignore
      assert.deepEqual(hold.rows, [{ status: 'released' }]);
      assert.equal(await invoiceStatus(), 'open');
      assert.equal(await paymentCount(), 0);
      await first.bridge.utterance('no');
      await first.bridge.utterance('goodbye');
      await first.handle.result();

      // The caller calls again and pays: one charge, one payment, the bill paid.
      const second = await startCall(env.client, { taskQueue });
      await second.bridge.streamStarted();
      await second.bridge.utterance('I want to pay my bill');
      assert.match((await second.bridge.utterance('yes')).text, /is complete/);
      await second.bridge.utterance('goodbye');
      await second.handle.result();
      assert.equal(await chargeCount('succeeded'), 1);
      assert.equal(await chargeCount('refunded'), 0);
      assert.equal(await paymentCount(), 1);
      assert.equal(await invoiceStatus(), 'paid');
    });
  });

  it('the whole database black-holed the moment the card was charged, before the charge is recorded: once it answers, the retry finds that charge; one charge, one payment', async function () {
    this.timeout(300_000);
    const taskQueue = `calls-pay-blackhole-charged-${newCallSid()}`;
    const deps = postgresCallDeps(proxied, intent);
    const gateway = deps.payments.gateway;
    let cut = false;
    // The real fault at the worst moment: the processor has charged; nothing else knows yet.
    const charging = Object.create(gateway) as typeof gateway;
    charging.charge = async (key, req) => {
      const charge = await gateway.charge(key, req);
      if (!cut) {
        cut = true;
        await proxy.blackhole();
      }
      return charge;
    };
    const workers = [
      await callWorker(
        env,
        { ...deps, payments: { ...deps.payments, gateway: charging } },
        taskQueue,
      ),
      await postCallWorker(env),
    ];
    await running(workers, async () => {
      const { bridge, handle } = await startCall(env.client, { taskQueue });
      assert.match((await bridge.streamStarted()).text, /^Hello Ada/);
      assert.match((await bridge.utterance('I want to pay my bill')).text, /Shall I pay it now/);
      const answered = bridge.utterance('yes');
      await waitFor(async () => {
        const charge = await pendingActivity(handle, 'chargePayment');
        return (charge?.attempt ?? 0) >= 3 && poolTimedOut(charge, 'postgres');
      }, 120_000);
      assert.equal(await chargeCount('succeeded'), 1, 'the processor charged');
      assert.equal(await paymentCount(), 0, 'billing has not recorded it');
      await proxy.clear();

      assert.match((await answered).text, /payment of 42 dollars and 50 cents is complete/);
      const charges = await db.query("SELECT id FROM gateway_charges WHERE status = 'succeeded'");
      assert.equal(charges.rows.length, 1, 'charged once');
      const payments = await db.query("SELECT charge_id FROM payments WHERE invoice_id = 'inv_ada_1'"); // prettier-ignore
      assert.deepEqual(payments.rows, [{ charge_id: charges.rows[0].id }], 'one payment, naming the charge'); // prettier-ignore
      assert.equal(await invoiceStatus(), 'paid');
      assert.equal(await chargeCount('refunded'), 0);
      await bridge.utterance('goodbye');
      await handle.result();
    });
  });

  const logCount = async (callSid: string) =>
    Number((await db.query('SELECT count(*) FROM call_logs WHERE call_sid = $1', [callSid])).rows[0].count); // prettier-ignore
  const chargeCount = async (status: string) =>
    Number((await db.query('SELECT count(*) FROM gateway_charges WHERE status = $1', [status])).rows[0].count); // prettier-ignore
  const paymentCount = async () =>
    Number((await db.query("SELECT count(*) FROM payments WHERE invoice_id = 'inv_ada_1'")).rows[0].count); // prettier-ignore
  const invoiceStatus = async () =>
    (await db.query("SELECT status FROM invoices WHERE id = 'inv_ada_1'")).rows[0].status as string;
});

type Described = { describe(): Promise<{ raw: { pendingActivities?: PendingActivity[] | null } }> }; // prettier-ignore
type PendingActivity = {
  activityType?: { name?: string | null } | null;
  attempt?: number | null;
  lastFailure?: { message?: string | null; applicationFailureInfo?: { type?: string | null } | null } | null; // prettier-ignore
};

async function pendingActivity(
  handle: Described,
  name: string,
): Promise<PendingActivity | undefined> {
  const pending = (await handle.describe()).raw.pendingActivities ?? [];
  return pending.find((a) => a.activityType?.name === name);
}

/** The last try failed as the provider's ProviderError `timeout` (pool bound), retryable. */
function poolTimedOut(activity: PendingActivity | undefined, provider: string): boolean {
  const failure = activity?.lastFailure;
  return (
    failure?.applicationFailureInfo?.type === 'ProviderUnavailable' &&
    (failure.message ?? '').includes(`${provider}: timeout`)
  );
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
}
