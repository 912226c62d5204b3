// The payment saga survives its worker process being SIGKILLed between steps: a step's
// effect is in the database (or at the processor) but its activity never completed. A new
// worker takes the saga over and it ends in a whole payment or none: exactly one charge,
// one payment, the invoice paid; or no charge standing and the hold released.
import {
  killHard,
  spawnWorkerProcess,
  waitForMarker,
  type WorkerProcess,
} from '../helpers/worker-process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { paymentKeys, type PaymentOutcome } from '../../workflows/payment-saga';
import {
  createSagaActivities,
  customerWithInvoice,
  sagaDatabase,
  sagaWorkflowBundle,
} from '../fixtures/payment-saga-stack';
import { localEnv } from '../../testing/platform';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'saga-crash-worker.ts');
const READY = 'saga-crash-worker: ready';
const TASK_QUEUE = `payment-crash-${randomBytes(4).toString('hex')}`;

type CrashWorker = WorkerProcess;

describe('payment crash: a saga survives its worker process being killed between steps', function () {
  this.timeout(120_000);

  let env: TestWorkflowEnvironment;
  let db: Awaited<ReturnType<typeof sagaDatabase>>;
  let tmp: string;
  let bundle: { code: string; file: string };
  const children: CrashWorker[] = [];
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  let nextInvoice = 0;

  before(async () => {
    env = await localEnv();
    db = await sagaDatabase(Array.from({ length: 6 }, (_, i) => customerWithInvoice(i + 1)));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'payment-crash-'));
    bundle = await sagaWorkflowBundle(tmp);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed')
      for (const c of children) console.error(`--- saga-crash-worker ---\n${c.output.join('')}`);
    await Promise.all(children.splice(0).map(killHard));
    await Promise.all(
      workers.splice(0).map(async ({ worker, running }) => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      }),
    );
  });

  after(async () => {
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function startCrashWorker(
    crashAfter: string,
    marker: string,
    extraEnv: Record<string, string> = {},
  ): Promise<CrashWorker> {
    const crash = await spawnWorkerProcess(
      FIXTURE,
      {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        TASK_QUEUE,
        DATABASE_URL: db.url,
        WORKFLOW_BUNDLE_CODE: bundle.file,
        SAGA_CRASH_AFTER: crashAfter,
        CRASH_MARKER_FILE: marker,
        ...extraEnv,
      },
      READY,
      'saga crash worker',
    );
    children.push(crash);
    return crash;
  }

  async function startWorker(): Promise<void> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      dataConverter: env.client.options.dataConverter,
      namespace: env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      workflowBundle: { code: bundle.code },
      activities: createSagaActivities(db.pool),
    });
    workers.push({ worker, running: worker.run() });
  }

  async function startSaga(): Promise<{ handle: WorkflowHandle; invoiceId: string }> {
    const invoiceId = `inv_saga_${++nextInvoice}`;
    const workflowId = `saga-crash-${randomBytes(6).toString('hex')}`;
    const handle = await env.client.workflow.start('paymentSagaWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ workflowId, invoiceId, amountCents: 4250 }],
    });
    return { handle, invoiceId };
  }

  /** Kills the worker once the step is done, starts a new one, returns the saga's end. */
  async function crashAfter(step: string, extraEnv: Record<string, string> = {}) {
    const marker = path.join(tmp, `${step}-${randomBytes(3).toString('hex')}`);
    const crash = await startCrashWorker(step, marker, extraEnv);
    const { handle, invoiceId } = await startSaga();
    const stepResult = await waitForMarker(marker, crash, 'saga crash worker');
    await killHard(crash);
    await startWorker();
    const outcome: PaymentOutcome = await handle.result();
    return {
      outcome,
      stepResult,
      invoiceId,
      keys: paymentKeys(handle.workflowId, invoiceId),
      handle,
    };
  }

  async function endState(invoiceId: string) {
    const q = async (sql: string) => (await db.pool.query(sql, [invoiceId])).rows;
    return {
      invoice: (await q('SELECT status FROM invoices WHERE id = $1'))[0]?.status as string,
      payments: await q('SELECT idempotency_key, charge_id FROM payments WHERE invoice_id = $1'),
      charges: await q(
        "SELECT id, status FROM gateway_charges WHERE metadata->>'invoice_id' = $1 ORDER BY id",
      ),
      refunds: await q(
        "SELECT r.idempotency_key FROM gateway_refunds r JOIN gateway_charges c ON c.id = r.charge_id WHERE c.metadata->>'invoice_id' = $1",
      ),
      holds: await q('SELECT status FROM payment_reservations WHERE invoice_id = $1'),
    };
  }

  /** A whole payment: one charge standing, one payment naming it, the invoice paid. */
  async function assertPaidOnce(invoiceId: string, paymentKey: string) {
    const s = await endState(invoiceId);
    assert.equal(s.invoice, 'paid');
    assert.equal(s.charges.length, 1, `one charge: ${JSON.stringify(s.charges)}`);
    assert.equal(s.charges[0].status, 'succeeded');
    assert.deepEqual(s.payments, [{ idempotency_key: paymentKey, charge_id: s.charges[0].id }]);
    assert.deepEqual(s.refunds, []);
    assert.deepEqual(s.holds, [{ status: 'committed' }]);
  }

  /** Attempts of one activity type, as history saw them. */
  async function attemptsOf(handle: WorkflowHandle, type: string): Promise<number> {
    const events = (await handle.fetchHistory()).events ?? [];
    const ids = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)
        .map((e) => String(e.eventId)),
    );
    assert.equal(ids.size, 1, `${type} scheduled once`);
    const started = events.filter((e) =>
      ids.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)),
    );
    return started[0]!.activityTaskStartedEventAttributes!.attempt!;
  }

  it('killed after the charge, before the commit: the new worker finds the charge by key and commits; one charge, one payment', async () => {
    const { outcome, stepResult, invoiceId, keys, handle } = await crashAfter('charge');
    const charged = stepResult as { chargeId: string; created: boolean };
    assert.equal(charged.created, true, 'the dead worker charged the card');
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal(
      outcome.ok && outcome.chargeId,
      charged.chargeId,
      'the first charge, not a new one',
    );
    assert.ok((await attemptsOf(handle, 'chargePayment')) > 1, 'the charge step was retried');
    await assertPaidOnce(invoiceId, keys.payment);
  });

  it('killed after the reserve: the saga ends completed or released, never half-way', async () => {
    const { outcome, invoiceId, keys } = await crashAfter('reserve');
    const s = await endState(invoiceId);
    if (outcome.ok) await assertPaidOnce(invoiceId, keys.payment);
    else {
      assert.equal(s.invoice, 'open');
      assert.deepEqual(s.payments, []);
      assert.ok(s.charges.every((c) => c.status !== 'succeeded'));
      assert.deepEqual(s.holds, [{ status: 'released' }]);
    }
    console.log(
      `      (after the kill the saga ${outcome.ok ? 'completed' : 'released the hold'})`,
    );
  });

  it('killed after the commit landed: the retried commit returns the payment, nothing more is charged', async () => {
    const { outcome, stepResult, invoiceId, keys, handle } = await crashAfter('commit');
    const paid = stepResult as { paymentId: string; created: boolean };
    assert.equal(paid.created, true);
    assert.equal(outcome.ok && outcome.paymentId, paid.paymentId);
    assert.ok((await attemptsOf(handle, 'payInvoice')) > 1);
    await assertPaidOnce(invoiceId, keys.payment);
  });

  it('killed in the compensation, after the refund landed: the retried refund repeats nothing; no payment, one refund', async () => {
    const { outcome, invoiceId, keys, handle } = await crashAfter('refund', {
      SETTLE_ELSEWHERE_AFTER_CHARGE: '1',
    });
    assert.equal(outcome.ok, false);
    assert.deepEqual(outcome.ok === false && [outcome.failedStep, outcome.compensated], [
      'commit',
      ['released', 'refunded'],
    ]);
    assert.ok((await attemptsOf(handle, 'refundPayment')) > 1);
    const s = await endState(invoiceId);
    assert.deepEqual(s.payments, []);
    assert.deepEqual(
      s.charges.map((c) => c.status),
      ['refunded'],
    );
    assert.deepEqual(s.refunds, [{ idempotency_key: keys.refund }]);
    assert.deepEqual(s.holds, [{ status: 'released' }]);
  });
});
