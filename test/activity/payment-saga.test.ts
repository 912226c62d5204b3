// The payment saga on a real Temporal dev server, over the real PostgreSQL billing and the
// local gateway, with a fault injected at each failure point. Whatever fails, the end state
// is a whole payment (one charge, one payment naming it, the invoice paid) or none (no
// charge standing, the hold released, the invoice open).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import {
  CardDeclinedError,
  type ChargeRequest,
  type PaymentGateway,
} from '../../providers/payments/port';
import { PostgresBilling } from '../../providers/billing/postgres';
import { LocalPostgresGateway } from '../../providers/payments/local-postgres';
import type { SeedCustomer } from '../../providers/postgres/schema';
import { paymentKeys, type PaymentOutcome } from '../../workflows/payment-saga';
import {
  createSagaActivities,
  customerWithInvoice,
  sagaDatabase,
  sagaWorkflowBundle,
  type Intercept,
  type SagaActivityName,
} from '../fixtures/payment-saga-stack';
import { localEnv } from '../../testing/platform';

const TASK_QUEUE = `payment-saga-${randomBytes(4).toString('hex')}`;
const CASES = 10;
const PAID_ELSEWHERE: SeedCustomer = {
  ...customerWithInvoice(99),
  invoices: [{ id: 'inv_saga_99', amountCents: 4250, dueDate: '2026-12-05', status: 'paid' }],
};

/** The real gateway with faults a test switches on: a decline, a lost reply, a failing refund. */
class FaultyGateway implements PaymentGateway {
  readonly name = 'faulty-local';
  declineNext?: string;
  /** Attempts whose reply is lost after the processor charged. */
  lostChargeReplies = 0;
  refundFailures = 0;
  constructor(private readonly real: PaymentGateway) {}

  async charge(key: string, req: ChargeRequest) {
    if (this.declineNext) {
      const code = this.declineNext;
      this.declineNext = undefined;
      throw new CardDeclinedError(code, `Your card was declined (${code}).`);
    }
    const charge = await this.real.charge(key, req);
    if (this.lostChargeReplies > 0) {
      this.lostChargeReplies--;
      throw new Error('ETIMEDOUT: no reply from the processor');
    }
    return charge;
  }
  findCharge(key: string) {
    return this.real.findCharge(key);
  }
  async refund(refundKey: string, chargeKey: string) {
    if (this.refundFailures > 0) {
      this.refundFailures--;
      throw new Error('ECONNRESET: the processor dropped the connection');
    }
    return this.real.refund(refundKey, chargeKey);
  }
}

describe('payment saga: every failure point ends in a whole payment or none', function () {
  this.timeout(120_000);

  let env: TestWorkflowEnvironment;
  let db: Awaited<ReturnType<typeof sagaDatabase>>;
  let pool: Pool;
  let gateway: FaultyGateway;
  let worker: Worker;
  let running: Promise<void>;
  let tmp: string;
  const intercepts: Partial<Record<SagaActivityName, Intercept>> = {};
  let nextCase = 0;

  before(async () => {
    env = await localEnv();
    db = await sagaDatabase([
      ...Array.from({ length: CASES }, (_, i) => customerWithInvoice(i + 1)),
      PAID_ELSEWHERE,
    ]);
    pool = db.pool;
    gateway = new FaultyGateway(new LocalPostgresGateway(pool));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'payment-saga-'));
    const bundle = await sagaWorkflowBundle(tmp);
    worker = await Worker.create({
      connection: env.nativeConnection,
      dataConverter: env.client.options.dataConverter,
      namespace: env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      workflowBundle: { code: bundle.code },
      activities: createSagaActivities(pool, intercepts, gateway),
    });
    running = worker.run();
  });

  afterEach(() => {
    for (const k of Object.keys(intercepts)) delete intercepts[k as SagaActivityName];
    gateway.declineNext = undefined;
    gateway.lostChargeReplies = gateway.refundFailures = 0;
  });

  after(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs the saga for an invoice (workflowId: the keys' workflow id, default the run's own). */
  async function pay(invoiceId: string, opts: { keysOf?: string; amountCents?: number } = {}) {
    const workflowId = `saga-test-${randomBytes(6).toString('hex')}`;
    const handle = await env.client.workflow.start('paymentSagaWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [
        {
          workflowId: opts.keysOf ?? workflowId,
          invoiceId,
          amountCents: opts.amountCents ?? 4250,
        },
      ],
    });
    const outcome: PaymentOutcome = await handle.result();
    return { outcome, keys: paymentKeys(opts.keysOf ?? workflowId, invoiceId), handle };
  }

  /** Attempts of each activity type in a run's history. */
  async function attempts(handle: { fetchHistory(): Promise<{ events?: unknown[] | null }> }) {
    type E = {
      activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
      activityTaskStartedEventAttributes?: { scheduledEventId?: unknown; attempt?: number };
      eventId?: unknown;
    };
    const events = ((await handle.fetchHistory()).events ?? []) as E[];
    const names = new Map<string, string>();
    for (const e of events)
      if (e.activityTaskScheduledEventAttributes)
        names.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType!.name!);
    const out: Record<string, number> = {};
    for (const e of events) {
      const s = e.activityTaskStartedEventAttributes;
      if (s) out[names.get(String(s.scheduledEventId))!] = s.attempt!;
    }
    return out;
  }

  const invoice = () => {
    nextCase++;
    assert.ok(nextCase <= CASES, 'seed more invoices');
    return `inv_saga_${nextCase}`;
  };

  async function state(invoiceId: string, keys: ReturnType<typeof paymentKeys>) {
    const q = async (sql: string, args: unknown[]) => (await pool.query(sql, args)).rows;
    return {
      invoice: (await q('SELECT status FROM invoices WHERE id = $1', [invoiceId]))[0]?.status,
      payments: await q(
        'SELECT id::text, idempotency_key, amount_cents, charge_id FROM payments WHERE invoice_id = $1',
        [invoiceId],
      ),
      charges: await q(
        "SELECT id, status, amount_cents FROM gateway_charges WHERE metadata->>'invoice_id' = $1 OR idempotency_key = $2",
        [invoiceId, keys.charge],
      ),
      refunds: await q(
        'SELECT r.idempotency_key FROM gateway_refunds r JOIN gateway_charges c ON c.id = r.charge_id WHERE c.idempotency_key = $1',
        [keys.charge],
      ),
      holds: await q(
        'SELECT status, charge_id FROM payment_reservations WHERE invoice_id = $1 ORDER BY id',
        [invoiceId],
      ),
    };
  }

  it('pays: one hold, one charge, one payment naming the charge; the same keys again repeat nothing', async () => {
    const inv = invoice();
    const first = await pay(inv);
    assert.equal(first.outcome.ok, true, JSON.stringify(first.outcome));
    const s = await state(inv, first.keys);
    assert.equal(s.invoice, 'paid');
    assert.equal(s.charges.length, 1);
    assert.deepEqual(s.charges[0], {
      id: s.charges[0].id,
      status: 'succeeded',
      amount_cents: 4250,
    });
    assert.deepEqual(s.payments, [
      {
        id: s.payments[0].id,
        idempotency_key: first.keys.payment,
        amount_cents: 4250,
        charge_id: s.charges[0].id,
      },
    ]);
    assert.deepEqual(s.holds, [{ status: 'committed', charge_id: s.charges[0].id }]);

    // A second run with the first one's keys (a repeated or replayed payment).
    const again = await pay(inv, { keysOf: first.handle.workflowId });
    assert.deepEqual(again.outcome, first.outcome);
    assert.deepEqual(await state(inv, first.keys), s, 'nothing charged, paid or held again');
  });

  it('reserve declined (the invoice is already paid): nothing charged, nothing held', async () => {
    const { outcome, keys } = await pay('inv_saga_99');
    assert.equal(outcome.ok, false);
    assert.deepEqual(outcome.ok === false && [outcome.failedStep, outcome.declined], [
      'reserve',
      true,
    ]);
    assert.match(outcome.ok === false ? outcome.reason : '', /already paid/);
    const s = await state('inv_saga_99', keys);
    assert.deepEqual([s.payments, s.charges], [[], []]);
    assert.deepEqual(s.holds, [{ status: 'released', charge_id: null }]);
  });

  it('reserve failing at billing on every attempt: after its retries the key is released, so a late reserve holds nothing', async () => {
    const inv = invoice();
    intercepts.reservePayment = async () => {
      throw new Error('ECONNREFUSED: billing is down');
    };
    const { outcome, keys, handle } = await pay(inv);
    assert.equal(outcome.ok, false);
    assert.deepEqual(outcome.ok === false && [outcome.failedStep, outcome.declined], [
      'reserve',
      false,
    ]);
    assert.equal((await attempts(handle)).reservePayment, 6, 'retried before giving up');
    // The attempt that "failed" may still be running somewhere: it finds the key released.
    const late = await new PostgresBilling(pool).reserve(keys.reserve, {
      paymentKey: keys.payment,
      invoiceId: inv,
      amountCents: 4250,
      holdMs: 60_000,
    });
    assert.equal(late.status, 'released');
    const s = await state(inv, keys);
    assert.deepEqual([s.invoice, s.payments, s.charges], ['open', [], []]);
    delete intercepts.reservePayment; // billing is back
    assert.equal((await pay(inv)).outcome.ok, true, 'the bill can still be paid');
  });

  it('charge declined: the charge key is voided, the hold released, the invoice stays open', async () => {
    const inv = invoice();
    gateway.declineNext = 'insufficient_funds';
    const { outcome, keys, handle } = await pay(inv);
    assert.equal(outcome.ok, false);
    assert.deepEqual(
      outcome.ok === false && [outcome.failedStep, outcome.declined, outcome.compensated],
      ['charge', true, ['voided', 'released']],
    );
    assert.equal((await attempts(handle)).chargePayment, 1, 'a decline is not retried');
    const s = await state(inv, keys);
    assert.equal(s.invoice, 'open');
    assert.deepEqual(s.payments, []);
    assert.deepEqual(
      s.charges.map((c) => [c.status, c.amount_cents]),
      [['voided', 0]],
      'no money moved; a late charge with the key would find it voided',
    );
    assert.deepEqual(s.holds, [{ status: 'released', charge_id: null }]);
    assert.equal((await pay(inv)).outcome.ok, true, 'the released bill can be paid again');
  });

  it('charge times out after the processor charged: the retry finds the charge by its key, one charge', async () => {
    const inv = invoice();
    gateway.lostChargeReplies = 1;
    const { outcome, keys, handle } = await pay(inv);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal((await attempts(handle)).chargePayment, 2);
    const s = await state(inv, keys);
    assert.equal(s.charges.length, 1, 'charged once');
    assert.equal(s.charges[0].status, 'succeeded');
    assert.equal(s.payments.length, 1);
    assert.equal(s.payments[0].charge_id, s.charges[0].id);
    assert.equal(outcome.ok && outcome.chargeId, s.charges[0].id);
    assert.equal(s.invoice, 'paid');
  });

  it('commit declined after the charge: the hold is released and the charge refunded, the refund retried until it lands', async () => {
    const inv = invoice();
    // The bill is settled elsewhere while the card is being charged.
    intercepts.chargePayment = async (next) => {
      const charge = await next();
      await pool.query("UPDATE invoices SET status = 'paid' WHERE id = $1", [inv]);
      return charge;
    };
    gateway.refundFailures = 2;
    const { outcome, keys, handle } = await pay(inv);
    assert.equal(outcome.ok, false);
    assert.deepEqual(
      outcome.ok === false && [outcome.failedStep, outcome.declined, outcome.compensated],
      ['commit', true, ['released', 'refunded']],
    );
    assert.equal((await attempts(handle)).refundPayment, 3, 'the compensation was retried');
    const s = await state(inv, keys);
    assert.deepEqual(s.payments, [], 'no payment recorded');
    assert.deepEqual(
      s.charges.map((c) => c.status),
      ['refunded'],
    );
    assert.deepEqual(s.refunds, [{ idempotency_key: keys.refund }], 'refunded once');
    assert.equal(s.holds[0].status, 'released');
  });

  it('commit landed but its reply was lost: release finds it committed, the payment stands, nothing refunded', async () => {
    const inv = invoice();
    intercepts.payInvoice = async (next) => {
      await next();
      throw ApplicationFailure.nonRetryable('connection reset after COMMIT', 'ProviderUnavailable');
    };
    const { outcome, keys } = await pay(inv);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    const s = await state(inv, keys);
    assert.equal(s.invoice, 'paid');
    assert.equal(s.payments.length, 1);
    assert.equal(outcome.ok && outcome.paymentId, s.payments[0].id);
    assert.deepEqual(
      s.charges.map((c) => c.status),
      ['succeeded'],
    );
    assert.deepEqual(s.refunds, []);
    assert.equal(s.holds[0].status, 'committed');
  });

  it('two calls pay one bill at once: one payment, the other declined at reserve, one charge', async () => {
    const inv = invoice();
    const both = await Promise.all([pay(inv), pay(inv)]);
    const ok = both.filter((r) => r.outcome.ok);
    const refused = both.filter((r) => !r.outcome.ok);
    assert.equal(ok.length, 1, JSON.stringify(both.map((b) => b.outcome)));
    assert.equal(refused.length, 1);
    const r = refused[0]!.outcome;
    assert.deepEqual(r.ok === false && [r.failedStep, r.declined], ['reserve', true]);
    const s = await state(inv, ok[0]!.keys);
    assert.equal(s.payments.length, 1);
    const charged = (
      await pool.query(
        "SELECT count(*)::int AS n FROM gateway_charges WHERE metadata->>'invoice_id' = $1 AND status = 'succeeded'",
        [inv],
      )
    ).rows[0].n;
    assert.equal(charged, 1);
  });

  it('a commit after the saga released its hold is declined (a late commit cannot record a refunded charge)', async () => {
    const inv = invoice();
    const billing = new PostgresBilling(pool);
    const keys = paymentKeys('late-commit', inv);
    const req = { paymentKey: keys.payment, invoiceId: inv, amountCents: 4250, holdMs: 60_000 };
    assert.equal((await billing.reserve(keys.reserve, req)).status, 'held');
    assert.deepEqual(await billing.release(keys.reserve, req), { status: 'released' });
    await assert.rejects(billing.payInvoice(keys.payment, inv, 4250), /was released/);
    assert.equal((await state(inv, keys)).invoice, 'open');
  });
});
