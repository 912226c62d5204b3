// Billing as a fallback chain. Every billing call writes under an idempotency key (a
// payment, a hold, its release), so each goes to the first healthy link only: a try that
// failed may have landed there, and another billing system knows nothing of it. A declined
// payment is that provider's answer and passes as it is.
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import {
  PaymentDeclinedError,
  type Billing,
  type PaymentReceipt,
  type PaymentReservation,
  type PaymentReservations,
} from './port';

export type BillingProvider = Billing & PaymentReservations;

export class FallbackBilling implements Billing, PaymentReservations {
  private readonly runner: FallbackRunner<BillingProvider>;

  constructor(links: FallbackLink<BillingProvider>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('billing', links, gate);
  }

  payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt> {
    return this.write((b) => b.payInvoice(idempotencyKey, invoiceId, amountCents));
  }

  reserve(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string; amountCents: number; holdMs: number },
  ): Promise<PaymentReservation> {
    return this.write((b) => b.reserve(idempotencyKey, req));
  }

  attachCharge(idempotencyKey: string, chargeId: string): Promise<void> {
    return this.write((b) => b.attachCharge(idempotencyKey, chargeId));
  }

  release(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string },
  ): Promise<{ status: 'released' } | { status: 'committed'; payment: PaymentReceipt }> {
    return this.write((b) => b.release(idempotencyKey, req));
  }

  private async write<T>(call: (billing: BillingProvider) => Promise<T>): Promise<T> {
    const isAnswer = (err: unknown) => err instanceof PaymentDeclinedError;
    return (await this.runner.run(call, { firstOnly: true, isAnswer })).value;
  }
}
