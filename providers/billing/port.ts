// The billing family: invoices paid once per key, and billing's side of the payment saga
// (reserve → charge at the processor → commit; workflows/payment-saga.ts).

export interface PaymentReceipt {
  paymentId: string;
  invoiceId: string;
  amountCents: number;
  /** False when this key had already paid: the first payment is returned. */
  created: boolean;
}

export interface Billing {
  /**
   * Pays an open invoice once per idempotency key. Throws PaymentDeclinedError when
   * the invoice is not payable (already paid, wrong amount, unknown).
   */
  payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt>;
}

export class PaymentDeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}

/** The invoice held for one payment while its card is charged; its status is the saga's pivot. */
export interface PaymentReservation {
  /** The key the commit (Billing.payInvoice) will pay with. */
  paymentKey: string;
  invoiceId: string;
  customerId: string;
  amountCents: number;
  status: 'held' | 'committed' | 'released';
  chargeId?: string;
  /** False when this key had reserved already: the first reservation is returned. */
  created: boolean;
}

/**
 * Billing's side of the saga. Implemented by the Billing adapters; kept apart from Billing
 * so a Billing that only pays (older callers, test doubles) still satisfies that port.
 */
export interface PaymentReservations {
  /**
   * Holds an open invoice for one payment, once per key (a repeat returns the first
   * reservation, whatever its status now). PaymentDeclinedError when the invoice is unknown,
   * paid, differently priced or held by another live reservation.
   */
  reserve(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string; amountCents: number; holdMs: number },
  ): Promise<PaymentReservation>;
  /** Notes the charge made for a held reservation (idempotent), so the payment records it. */
  attachCharge(idempotencyKey: string, chargeId: string): Promise<void>;
  /**
   * The compensation: ends a held reservation. Atomic with payInvoice: returns 'committed'
   * with the payment when the commit won (then nothing may be refunded), else 'released';
   * a key never reserved is recorded as released, so a late reserve with it holds nothing.
   */
  release(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string },
  ): Promise<{ status: 'released' } | { status: 'committed'; payment: PaymentReceipt }>;
}
