// Billing in process memory, on the same store as MemoryCrm (crm.ts). Same contract as
// the PostgreSQL adapter: one payment per idempotency key (a repeat returns the first
// payment with created: false, whatever the invoice's state is now), and
// PaymentDeclinedError for an unknown, already paid or differently priced invoice.
// Each payment is checked and recorded without an await in between, so concurrent
// calls with one key (or for one invoice) cannot both pay.
import { PaymentDeclinedError, type Billing, type PaymentReceipt } from '../../ports';
import type { MemoryCrmStore } from './crm';

export class MemoryBilling implements Billing {
  constructor(readonly store: MemoryCrmStore) {}

  async payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt> {
    const prior = this.store.payments.get(idempotencyKey);
    if (prior) return { ...prior, created: false };
    const invoice = this.store.invoices.get(invoiceId);
    if (!invoice) throw new PaymentDeclinedError(`invoice ${invoiceId} does not exist`);
    if (invoice.status !== 'open')
      throw new PaymentDeclinedError(`invoice ${invoiceId} is already ${invoice.status}`);
    if (invoice.amountCents !== amountCents)
      throw new PaymentDeclinedError(
        `invoice ${invoiceId} is for ${invoice.amountCents} cents, not ${amountCents}`,
      );
    const payment = { paymentId: this.store.nextId(), invoiceId, amountCents };
    this.store.payments.set(idempotencyKey, payment);
    invoice.status = 'paid';
    return { ...payment, created: true };
  }
}
