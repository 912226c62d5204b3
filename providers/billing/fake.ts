// The fake Billing, in process memory, on the same store as FakeCrmClient (crm/fake.ts);
// `failures` makes it fail on demand. Same contract as
// the PostgreSQL adapter: one payment per idempotency key (a repeat returns the first
// payment with created: false, whatever the invoice's state is now), and
// PaymentDeclinedError for an unknown, already paid or differently priced invoice; the
// payment saga's reservations behave as that adapter's do.
// Each operation checks and writes without an await in between, so concurrent calls with
// one key (or for one invoice) cannot both win.
import {
  PaymentDeclinedError,
  type Billing,
  type PaymentReceipt,
  type PaymentReservation,
  type PaymentReservations,
} from './port';
import type { FakeCrmStore } from '../crm/fake';
import { FakeFailures } from '../fake-failures';

interface StoredReservation extends Omit<PaymentReservation, 'created'> {
  idempotencyKey: string;
  expiresAt: number;
}

/** Reservations and payments' charge ids per store, shared by every FakeBilling on it. */
const sagaRows = new WeakMap<
  FakeCrmStore,
  { reservations: Map<string, StoredReservation>; chargeIds: Map<string, string> }
>();

export class FakeBilling implements Billing, PaymentReservations {
  readonly name = 'fake-billing';
  readonly failures = new FakeFailures(this.name);

  constructor(
    readonly store: FakeCrmStore,
    private readonly now: () => number = Date.now,
  ) {}

  private get rows() {
    let rows = sagaRows.get(this.store);
    if (!rows) sagaRows.set(this.store, (rows = { reservations: new Map(), chargeIds: new Map() }));
    return rows;
  }

  /** The charge id recorded with a payment (the payments table's charge_id). */
  chargeIdOf(paymentKey: string): string | undefined {
    return this.rows.chargeIds.get(paymentKey);
  }

  async payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt> {
    await this.failures.check();
    const prior = this.store.payments.get(idempotencyKey);
    if (prior) return { ...prior, created: false };
    this.checkPayable(invoiceId, amountCents);
    const own = this.byPaymentKey(idempotencyKey);
    if (own && own.status !== 'held')
      throw new PaymentDeclinedError(`payment ${idempotencyKey} was ${own.status}`);
    if (this.heldFor(invoiceId, idempotencyKey))
      throw new PaymentDeclinedError(`invoice ${invoiceId} is being paid by another payment`);
    const payment = { paymentId: this.store.nextId(), invoiceId, amountCents };
    this.store.payments.set(idempotencyKey, payment);
    this.store.invoices.get(invoiceId)!.status = 'paid';
    if (own) {
      own.status = 'committed';
      if (own.chargeId) this.rows.chargeIds.set(idempotencyKey, own.chargeId);
    }
    return { ...payment, created: true };
  }

  async reserve(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string; amountCents: number; holdMs: number },
  ): Promise<PaymentReservation> {
    await this.failures.check();
    const prior = this.rows.reservations.get(idempotencyKey);
    if (prior) return view(prior, false);
    const invoice = this.checkPayable(req.invoiceId, req.amountCents);
    const other = this.heldFor(req.invoiceId, req.paymentKey);
    if (other && other.expiresAt > this.now())
      throw new PaymentDeclinedError(`invoice ${req.invoiceId} is being paid by another payment`);
    if (other) other.status = 'released'; // abandoned: its saga, if it resumes, refunds
    const row: StoredReservation = {
      idempotencyKey,
      paymentKey: req.paymentKey,
      invoiceId: req.invoiceId,
      customerId: invoice.customerId,
      amountCents: req.amountCents,
      status: 'held',
      expiresAt: this.now() + req.holdMs,
    };
    this.rows.reservations.set(idempotencyKey, row);
    return view(row, true);
  }

  async attachCharge(idempotencyKey: string, chargeId: string): Promise<void> {
    await this.failures.check();
    const row = this.rows.reservations.get(idempotencyKey);
    if (row?.status === 'held' && !row.chargeId) row.chargeId = chargeId;
  }

  async release(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string },
  ): Promise<{ status: 'released' } | { status: 'committed'; payment: PaymentReceipt }> {
    await this.failures.check();
    const payment = this.store.payments.get(req.paymentKey);
    if (payment) return { status: 'committed', payment: { ...payment, created: false } };
    const row = this.rows.reservations.get(idempotencyKey);
    if (row?.status === 'held') row.status = 'released';
    else if (!row && !this.byPaymentKey(req.paymentKey))
      this.rows.reservations.set(idempotencyKey, {
        idempotencyKey,
        paymentKey: req.paymentKey,
        invoiceId: req.invoiceId,
        customerId: '',
        amountCents: 0,
        status: 'released',
        expiresAt: this.now(),
      });
    return { status: 'released' };
  }

  private checkPayable(invoiceId: string, amountCents: number) {
    const invoice = this.store.invoices.get(invoiceId);
    if (!invoice) throw new PaymentDeclinedError(`invoice ${invoiceId} does not exist`);
    if (invoice.status !== 'open')
      throw new PaymentDeclinedError(`invoice ${invoiceId} is already ${invoice.status}`);
    if (invoice.amountCents !== amountCents)
      throw new PaymentDeclinedError(
        `invoice ${invoiceId} is for ${invoice.amountCents} cents, not ${amountCents}`,
      );
    return invoice;
  }

  private byPaymentKey(paymentKey: string): StoredReservation | undefined {
    for (const r of this.rows.reservations.values()) if (r.paymentKey === paymentKey) return r;
    return undefined;
  }

  /** The live hold on an invoice by another payment key, if any. */
  private heldFor(invoiceId: string, paymentKey: string): StoredReservation | undefined {
    for (const r of this.rows.reservations.values())
      if (r.invoiceId === invoiceId && r.status === 'held' && r.paymentKey !== paymentKey) return r;
    return undefined;
  }
}

function view(r: StoredReservation, created: boolean): PaymentReservation {
  return {
    paymentKey: r.paymentKey,
    invoiceId: r.invoiceId,
    customerId: r.customerId,
    amountCents: r.amountCents,
    status: r.status,
    ...(r.chargeId && { chargeId: r.chargeId }),
    created,
  };
}
