// One conformance suite for the payment saga's ports, run by every adapter: PaymentGateway
// (the local PostgreSQL processor and the fake one) and PaymentReservations (the PostgreSQL
// and fake Billing), and by the fallback adapters wrapping PostgreSQL, alone and behind a
// gated fake that is down. Every call here writes under a key (or reads what such a write
// did), so none falls through to a second provider: test/unit/data-fallbacks.test.ts shows
// that. The saga's guarantees rest on these contracts.
import assert from 'node:assert/strict';
import {
  PaymentDeclinedError,
  type Billing,
  type PaymentReservations,
} from '../../providers/billing/port';
import {
  CardDeclinedError,
  type ChargeRequest,
  type PaymentGateway,
} from '../../providers/payments/port';
import { PostgresBilling } from '../../providers/billing/postgres';
import { FakeBilling } from '../../providers/billing/fake';
import { FallbackBilling } from '../../providers/billing/fallback';
import { FakeCrmStore } from '../../providers/crm/fake';
import type { FallbackGate } from '../../providers/fallback';
import { LocalPostgresGateway } from '../../providers/payments/local-postgres';
import { FakePaymentGateway } from '../../providers/payments/fake';
import { FallbackPaymentGateway } from '../../providers/payments/fallback';
import { customerWithInvoice, sagaDatabase } from '../fixtures/payment-saga-stack';

const CUSTOMERS = Array.from({ length: 12 }, (_, i) => customerWithInvoice(i + 1));
const request = (amountCents = 4250): ChargeRequest => ({
  customerId: 'cus_saga_1',
  amountCents,
  currency: 'usd',
  description: 'Invoice inv_saga_1',
  metadata: { invoice_id: 'inv_saga_1' },
});
let unique = 0;
const key = (step: string) => `conformance-${process.pid}-${++unique}:${step}`;

function gatewayConformance(name: string, create: () => Promise<PaymentGateway>): void {
  describe(`PaymentGateway conformance: ${name}`, () => {
    let gw: PaymentGateway;
    beforeEach(async () => {
      gw = await create();
    });

    it('charges once per key: a repeat returns the first charge, created false', async () => {
      const k = key('charge');
      const first = await gw.charge(k, request());
      assert.deepEqual([first.status, first.amountCents, first.created], ['succeeded', 4250, true]);
      const again = await gw.charge(k, request(9999));
      assert.deepEqual(
        again,
        { ...first, created: false },
        'the first charge, even for other params',
      );
      assert.deepEqual(await gw.findCharge(k), { ...first, created: false });
    });

    it('concurrent charges with one key make one charge', async () => {
      const k = key('charge');
      const all = await Promise.all(Array.from({ length: 5 }, () => gw.charge(k, request())));
      assert.equal(new Set(all.map((c) => c.chargeId)).size, 1);
      assert.equal(all.filter((c) => c.created).length, 1);
    });

    it('declines what it cannot charge with CardDeclinedError', async () => {
      await assert.rejects(gw.charge(key('charge'), request(0)), CardDeclinedError);
    });

    it('refunds a charge once, whatever the refund key; the charge then reads refunded', async () => {
      const k = key('charge');
      const charge = await gw.charge(k, request());
      const r1 = await gw.refund(key('refund'), k);
      assert.deepEqual(r1, { status: 'refunded', chargeId: charge.chargeId, created: true });
      assert.equal((await gw.refund(key('refund'), k)).created, false);
      assert.equal((await gw.findCharge(k))?.status, 'refunded');
      assert.equal((await gw.charge(k, request())).status, 'refunded', 'no new charge');
    });

    it('refunding a key never charged voids it: a late charge with it moves no money', async () => {
      const k = key('charge');
      assert.deepEqual(await gw.refund(key('refund'), k), { status: 'voided', created: false });
      const late = await gw.charge(k, request());
      assert.deepEqual([late.status, late.created], ['voided', false]);
      assert.equal(await gw.findCharge(key('unused')), undefined);
    });
  });
}

function reservationsConformance(
  name: string,
  create: () => Promise<Billing & PaymentReservations>,
): void {
  describe(`PaymentReservations conformance: ${name}`, () => {
    let billing: Billing & PaymentReservations;
    let n = 0;
    beforeEach(async () => {
      billing = await create();
      n = 0;
    });
    const keys = () => {
      const base = key(`pay:${++n}`);
      return { reserve: `${base}:reserve`, payment: base };
    };
    const hold = (k: { reserve: string; payment: string }, invoiceId: string, holdMs = 60_000) =>
      billing.reserve(k.reserve, { paymentKey: k.payment, invoiceId, amountCents: 4250, holdMs });

    it('holds an open invoice once per key and returns its customer', async () => {
      const k = keys();
      const r = await hold(k, 'inv_saga_1');
      assert.deepEqual(r, {
        paymentKey: k.payment,
        invoiceId: 'inv_saga_1',
        customerId: 'cus_saga_1',
        amountCents: 4250,
        status: 'held',
        created: true,
      });
      assert.deepEqual(await hold(k, 'inv_saga_1'), { ...r, created: false });
    });

    it('declines an unknown, differently priced or held invoice', async () => {
      await assert.rejects(hold(keys(), 'inv_nope'), PaymentDeclinedError);
      await assert.rejects(
        billing.reserve(key('r'), {
          paymentKey: key('p'),
          invoiceId: 'inv_saga_2',
          amountCents: 1,
          holdMs: 60_000,
        }),
        /is for 4250 cents/,
      );
      await hold(keys(), 'inv_saga_2');
      await assert.rejects(hold(keys(), 'inv_saga_2'), /being paid by another payment/);
    });

    it('an expired hold is taken over; its own commit is then declined', async () => {
      const stale = keys();
      await hold(stale, 'inv_saga_3', 1);
      await new Promise((r) => setTimeout(r, 20));
      const fresh = keys();
      assert.equal((await hold(fresh, 'inv_saga_3')).status, 'held');
      await assert.rejects(billing.payInvoice(stale.payment, 'inv_saga_3', 4250), /was released/);
      const paid = await billing.payInvoice(fresh.payment, 'inv_saga_3', 4250);
      assert.equal(paid.created, true);
    });

    it('commit wins over a later release: release reports the payment, nothing is released', async () => {
      const k = keys();
      await hold(k, 'inv_saga_4');
      await billing.attachCharge(k.reserve, 'ch_test');
      const paid = await billing.payInvoice(k.payment, 'inv_saga_4', 4250);
      const released = await billing.release(k.reserve, {
        paymentKey: k.payment,
        invoiceId: 'inv_saga_4',
      });
      assert.deepEqual(released, { status: 'committed', payment: { ...paid, created: false } });
      assert.equal((await hold(k, 'inv_saga_4')).status, 'committed');
    });

    it('release wins over a later commit: the commit is declined, the invoice can be paid anew', async () => {
      const k = keys();
      await hold(k, 'inv_saga_5');
      const req = { paymentKey: k.payment, invoiceId: 'inv_saga_5' };
      assert.deepEqual(await billing.release(k.reserve, req), { status: 'released' });
      assert.deepEqual(await billing.release(k.reserve, req), { status: 'released' });
      await assert.rejects(billing.payInvoice(k.payment, 'inv_saga_5', 4250), PaymentDeclinedError);
      assert.equal((await hold(keys(), 'inv_saga_5')).status, 'held');
    });

    it('releasing a key never reserved blocks that reserve from landing later', async () => {
      const k = keys();
      await billing.release(k.reserve, { paymentKey: k.payment, invoiceId: 'inv_saga_6' });
      assert.equal((await hold(k, 'inv_saga_6')).status, 'released');
      assert.equal((await hold(keys(), 'inv_saga_6')).status, 'held', 'the invoice is not held');
    });

    it('a plain payment (no reservation, the pre-saga path) still pays, but not a held invoice', async () => {
      assert.equal((await billing.payInvoice(key('plain'), 'inv_saga_7', 4250)).created, true);
      await hold(keys(), 'inv_saga_8');
      await assert.rejects(billing.payInvoice(key('plain'), 'inv_saga_8', 4250), /another payment/);
    });
  });
}

describe('payment saga ports', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof sagaDatabase>> | undefined;

  const postgres = async () => {
    db ??= await sagaDatabase(CUSTOMERS);
    await db.pool.query(
      "TRUNCATE payments, payment_reservations, gateway_refunds, gateway_charges; UPDATE invoices SET status = 'open'",
    );
    return db.pool;
  };
  after(async () => db?.drop());

  const gate: FallbackGate = { skipReason: (p) => (p === 'fake' ? 'circuit open' : undefined) };
  const downGateway = () => {
    const fake = new FakePaymentGateway();
    fake.failures.failWith('unavailable');
    return { provider: 'fake', port: fake };
  };
  const downBilling = () => {
    const fake = new FakeBilling(new FakeCrmStore(CUSTOMERS));
    fake.failures.failWith('unavailable');
    return { provider: 'fake', port: fake };
  };

  gatewayConformance('local-postgres', async () => new LocalPostgresGateway(await postgres()));
  gatewayConformance('fake', async () => new FakePaymentGateway());
  gatewayConformance('fallback(local-postgres)', async () => {
    const port = new LocalPostgresGateway(await postgres());
    return new FallbackPaymentGateway([{ provider: 'local-postgres', port }]);
  });
  gatewayConformance('fallback(gated fake, local-postgres)', async () => {
    const port = new LocalPostgresGateway(await postgres());
    return new FallbackPaymentGateway([downGateway(), { provider: 'local-postgres', port }], gate);
  });
  reservationsConformance('postgres', async () => new PostgresBilling(await postgres()));
  reservationsConformance('fake', async () => new FakeBilling(new FakeCrmStore(CUSTOMERS)));
  reservationsConformance('fallback(postgres)', async () => {
    const port = new PostgresBilling(await postgres());
    return new FallbackBilling([{ provider: 'postgres', port }]);
  });
  reservationsConformance('fallback(gated fake, postgres)', async () => {
    const port = new PostgresBilling(await postgres());
    return new FallbackBilling([downBilling(), { provider: 'postgres', port }], gate);
  });
});
